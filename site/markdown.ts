/**
 * Markdown → HTML for notebook cells: markdown-it (tables, html), KaTeX math rendered at build
 * time ($…$ inline, $$…$$ display), heading anchors collected for the table of contents.
 */
import MarkdownIt from 'markdown-it';
import katex from 'katex';

/** A heading: `text` is plain (math as TeX), `html` keeps its math typeset (table of contents). */
export interface Heading { level: number; id: string; text: string; html?: string }

export function slugify(s: string): string {
  return s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/<[^>]*>/g, '').replace(/[^a-z0-9\s-]/g, '').trim().replace(/[\s-]+/g, '-') || 'section';
}

export function renderMath(tex: string, display: boolean): string {
  return katex.renderToString(tex, {displayMode: display, throwOnError: false, output: 'htmlAndMathml', strict: 'ignore'});
}

const TEX_SYMBOLS: Record<string, string> = {
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', varepsilon: 'ε', theta: 'θ', lambda: 'λ', mu: 'μ', pi: 'π', sigma: 'σ', tau: 'τ', phi: 'φ', omega: 'ω',
  Sigma: 'Σ', Delta: 'Δ', sum: 'Σ', prod: 'Π', cdot: '·', times: '×', top: 'ᵀ', le: '≤', leq: '≤', ge: '≥', geq: '≥', ne: '≠', neq: '≠', approx: '≈', to: '→',
  rightarrow: '→', leftarrow: '←', in: '∈', infty: '∞', pm: '±', ldots: '…', dots: '…', cdots: '⋯', mapsto: '↦', odot: '⊙', otimes: '⊗', partial: '∂', nabla: '∇',
  quad: ' ', qquad: ' ', ',': ' ', ';': ' ', '!': '', left: '', right: '', big: '', Big: '', bigl: '', bigr: '', displaystyle: '',
};

/** TeX as readable plain text for search snippets and summaries: \frac{a}{b} → a/b, \alpha → α, no backslashes or braces. */
export function texToText(tex: string): string {
  let t = tex;
  for (let i = 0; i < 3; i++) {
    t = t.replace(/([_^])\{([^{}]*)\}/g, '$1$2').replace(/\\(?:mathrm|text|operatorname|mathbf|mathit|boldsymbol|mathcal|textbf|textit|emph)\{([^{}]*)\}/g, '$1')
      .replace(/\\d?frac\{([^{}]*)\}\{([^{}]*)\}/g, '($1)/($2)').replace(/\\sqrt\{([^{}]*)\}/g, '√($1)');
  }
  return t.replace(/\\([A-Za-z]+|[,;!])/g, (m, name: string) => TEX_SYMBOLS[name] ?? name)
    .replace(/\^\{?ᵀ\}?/g, 'ᵀ').replace(/[{}]/g, '').replace(/\\/g, '').replace(/\s+/g, ' ').trim();
}


type StateInline = any;
type StateBlock = any;

/** $…$ (pandoc rule: no space inside the delimiters, closing $ not followed by a digit) and inline $$…$$. */
function mathInline(state: StateInline, silent: boolean): boolean {
  const src: string = state.src;
  const start: number = state.pos;
  if (src[start] !== '$') return false;
  const display = src[start + 1] === '$';
  const open = display ? 2 : 1;
  if (!display && (src[start + 1] === undefined || /\s/.test(src[start + 1]!))) return false;
  let end = start + open;
  for (;;) {
    end = src.indexOf(display ? '$$' : '$', end);
    if (end < 0) return false;
    if (src[end - 1] === '\\') { end++; continue; }
    if (!display && (/\s/.test(src[end - 1]!) || /\d/.test(src[end + 1] ?? ''))) { end++; continue; }
    break;
  }
  if (end === start + open) return false;
  if (!silent) {
    const token = state.push(display ? 'math_display_inline' : 'math_inline', 'math', 0);
    token.content = src.slice(start + open, end);
  }
  state.pos = end + open;
  return true;
}

/** A paragraph-level $$ … $$ block (may span lines). */
function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  let pos = state.bMarks[startLine] + state.tShift[startLine];
  let max = state.eMarks[startLine];
  if (state.src.slice(pos, pos + 2) !== '$$') return false;
  let first = state.src.slice(pos + 2, max);
  let last = '';
  let next = startLine;
  let found = false;
  if (first.trim().endsWith('$$') && first.trim().length >= 2) {
    first = first.trim().slice(0, -2);
    found = true;
  }
  while (!found) {
    next++;
    if (next >= endLine) return false;
    pos = state.bMarks[next] + state.tShift[next];
    max = state.eMarks[next];
    const line = state.src.slice(pos, max);
    if (line.trim().endsWith('$$')) {
      last = line.trim().slice(0, -2);
      found = true;
    }
  }
  if (silent) return true;
  state.line = next + 1;
  const token = state.push('math_block', 'math', 0);
  token.block = true;
  token.content = [first, state.getLines(startLine + 1, next, state.tShift[startLine], true), last]
    .filter(s => s.trim() !== '').join('\n');
  token.map = [startLine, state.line];
  return true;
}

export interface MarkdownRenderer {
  render(src: string, headings: Heading[], usedIds: Set<string>): string;
}

export function createMarkdown(): MarkdownRenderer {
  const md = new MarkdownIt({html: true, linkify: false, typographer: false});
  md.inline.ruler.before('escape', 'math_inline', mathInline);
  md.block.ruler.before('fence', 'math_block', mathBlock, {alt: ['paragraph', 'reference', 'blockquote', 'list']});
  md.renderer.rules.math_inline = (tokens: any[], i: number) => renderMath(tokens[i].content, false);
  md.renderer.rules.math_display_inline = (tokens: any[], i: number) => renderMath(tokens[i].content, true);
  md.renderer.rules.math_block = (tokens: any[], i: number) => `<div class="math-display">${renderMath(tokens[i].content, true)}</div>\n`;
  md.renderer.rules.table_open = () => '<div class="table-wrap"><table>\n';
  md.renderer.rules.table_close = () => '</table></div>\n';
  md.renderer.rules.heading_open = (tokens: any[], i: number, _o: any, env: any) => {
    const inline = tokens[i + 1];
    const text = (inline.children ?? []).filter((t: any) => t.type === 'text' || t.type === 'code_inline')
      .map((t: any) => t.content).join('') || inline.content;
    // the TOC and search show the heading with its math (as text); the id keeps the words only
    const plain = (inline.children ?? []).filter((t: any) => t.type === 'text' || t.type === 'code_inline' || t.type === 'math_inline')
      .map((t: any) => t.type === 'math_inline' ? texToText(t.content) : t.content).join('') || inline.content;
    let id = slugify(text);
    for (let n = 2; env.usedIds.has(id); n++) id = `${slugify(text)}-${n}`;
    env.usedIds.add(id);
    const level = Number(tokens[i].tag.slice(1));
    env.headings.push({level, id, text: plain, html: md.renderer.renderInline(inline.children ?? [], md.options, env)});
    return `<${tokens[i].tag} id="${id}">`;
  };
  md.renderer.rules.heading_close = (tokens: any[], i: number, _o: any, env: any) => {
    const h = env.headings[env.headings.length - 1];
    return ` <a class="anchor" href="#${h.id}" aria-label="Link to this section">#</a></${tokens[i].tag}>\n`;
  };
  return {render: (src, headings, usedIds) => md.render(src, {headings, usedIds})};
}
