/**
 * One executed notebook → HTML: markdown cells (markdown-it + KaTeX), highlighted code cells
 * with course-import links, and every output kind Jupyter produces.
 */
import {createHash} from 'node:crypto';
import {titleText} from '../lib/viz/fit';
import {escapeHtml, findImports, highlight, linkImports, SourceModule} from './code';
import {createMarkdown, Heading, renderMath, texToText} from './markdown';
export {texToText} from './markdown';

export const VEGALITE_MIMES = ['application/vnd.vegalite.v5+json', 'application/vnd.vegalite.v4+json', 'application/vnd.vegalite.v6+json'];

/** Chart specs longer than this are written to media/*.json and fetched when the chart is drawn. */
export const INLINE_SPEC_LIMIT = 8_000;

/**
 * The alt text of a chart: its title (or its panels' titles) and what its axes show — never just "chart".
 */
export function chartAlt(spec: Record<string, any>, plain = ''): string {
  const titleOf = (s: any): string => titleText(s) ?? '';
  const kids: any[] = spec.concat ?? spec.hconcat ?? spec.vconcat ?? [];
  const axes = (s: any): string => {
    // of a layered chart, describe the main layer: not a band (area), a rule or a label drawn under or over it
    const markOf = (l: any): string => String(l?.mark?.type ?? l?.mark ?? '');
    const mainLayer = (layers: any[] | undefined) => layers?.find((l: any) => l.encoding && !['area', 'rule', 'text'].includes(markOf(l)))
      ?? layers?.find((l: any) => l.encoding);
    const top = s?.encoding ? s : mainLayer(s?.layer) ?? (s?.spec?.encoding ? s.spec : mainLayer(s?.spec?.layer));
    const enc = top?.encoding;
    if (!enc) return '';
    const name = (c: any) => c ? (typeof c.title === 'string' ? c.title : c.field) : undefined;
    const mark = markOf(top);
    const kind = ({rect: 'heat map', line: 'line chart', bar: 'bar chart', point: 'scatter plot'} as Record<string, string>)[mark] ?? 'chart';
    const parts = [name(enc.y) && `${name(enc.y)}`, name(enc.x) && `${name(enc.x)}`].filter(Boolean);
    const by = name(enc.color);
    return `${kind}${parts.length === 2 ? ` of ${parts[0]} against ${parts[1]}` : ''}${by && enc.color?.type !== 'quantitative' ? `, one colour per ${by}` : ''}`;
  };
  const main = titleOf(spec) || (/^<vega-lite chart: (.*)>$/s.exec(plain.trim())?.[1] ?? '').replace(/^chart$/, '');
  const described = kids.length
    ? `${kids.length} charts: ${kids.map(k => [titleOf(k), axes(k)].filter(Boolean).join(', ')).join('; ')}`
    : axes(spec);
  return [main, described].filter(Boolean).join(' — ').slice(0, 400) || 'chart';
}

export interface Asset { name: string; data: Buffer | string }

export interface RenderedNotebook {
  title: string;
  summary: string;
  html: string;
  headings: Heading[];
  /** plain text per section, for the search index */
  sections: {id: string; title: string; text: string}[];
  assets: Asset[];
  charts: number;
  /** charts whose bundle had no kernel-rendered SVG: the builder renders one */
  missingSvgs: {name: string; spec: unknown}[];
}

type Cell = {cell_type: string; source: string | string[]; outputs?: any[]; execution_count?: number | null; metadata?: any};

export const text = (s: unknown): string => Array.isArray(s) ? s.join('') : typeof s === 'string' ? s : s == null ? '' : JSON.stringify(s, null, 2);

const ANSI_COLORS: Record<string, string> = {'30': 'black', '31': 'red', '32': 'green', '33': 'yellow', '34': 'blue', '35': 'magenta', '36': 'cyan', '37': 'white',
  '90': 'black', '91': 'red', '92': 'green', '93': 'yellow', '94': 'blue', '95': 'magenta', '96': 'cyan', '97': 'white'};

/** Escape text and turn ANSI colour/bold codes (tracebacks) into spans; drop other escapes. */
export function ansiToHtml(s: string): string {
  let out = '';
  let open = 0;
  for (const part of s.split(/(\x1b\[[0-9;]*[A-Za-z])/)) {
    const m = /^\x1b\[([0-9;]*)m$/.exec(part);
    if (m) {
      const codes = m[1]!.split(';').filter(Boolean);
      if (codes.length === 0 || codes.includes('0')) { out += '</span>'.repeat(open); open = 0; }
      const cls = codes.map(c => c === '1' ? 'ansi-bold' : ANSI_COLORS[c] ? `ansi-${ANSI_COLORS[c]}` : '').filter(Boolean);
      if (cls.length) { out += `<span class="${cls.join(' ')}">`; open++; }
    } else if (!part.startsWith('\x1b')) {
      out += escapeHtml(part);
    }
  }
  return out + '</span>'.repeat(open);
}

function stripHtml(s: string): string {
  return s.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;/g, "'");
}

/** Consecutive stream outputs of one name become one (tslab sends one message per console.log). */
export function mergeStreams(outputs: any[]): any[] {
  const out: any[] = [];
  for (const o of outputs) {
    const prev = out[out.length - 1];
    if (o.output_type === 'stream' && prev?.output_type === 'stream' && prev.name === o.name) {
      out[out.length - 1] = {...prev, text: text(prev.text) + text(o.text)};
    } else out.push(o);
  }
  return out;
}

/** Plain text of markdown source (search index, summaries): math kept as its TeX, markup dropped. */
export function markdownText(src: string): string {
  return stripHtml(src).replace(/\$\$?([^$]*)\$\$?/g, (_, tex: string) => texToText(tex))
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[*`]+/g, '')
    // underscores only as emphasis markers: COURSE_MODE keeps its underscore
    .replace(/(^|\W)_+/g, '$1').replace(/_+(?=\W|$)/g, '')
    .replace(/[#>|]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * A chapter card's summary: the first prose paragraph of a markdown cell (not a heading, list,
 * table, math or code block; emphasis at the start is prose). A paragraph whose last sentence ends
 * in a colon introduces a list, so the card keeps only the sentences before that one.
 */
export function cardSummary(src: string, max = 240): string {
  const paras = src.split(/\n\s*\n/).map(b => b.trim())
    .filter(b => b && !/^(#|\$\$|```|\||<|!\[|[-*+]\s|\d+\.\s)/.test(b));
  for (const p of paras) {
    const t = markdownText(p);
    if (!/:\s*$/.test(t)) return firstSentences(t, max);
    const before = t.slice(0, Math.max(0, ...[...t.matchAll(/[.!?](\s|$)/g)].map(m => m.index! + 1)));
    if (before.trim()) return firstSentences(before.trim(), max);
  }
  return paras.length ? firstSentences(markdownText(paras[0]!), max).replace(/:$/, '.') : '';
}

/** The leading sentences of `s` that fit in `max` characters (at least one sentence, cut with … if longer). */
export function firstSentences(s: string, max: number): string {
  if (s.length <= max) return s;
  // prefer a full sentence; a clause ending in ':' or ';' only when no sentence fits
  for (const re of [/[.!?](\s|$)/g, /[.!?:;](\s|$)/g]) {
    const ends = [...s.matchAll(re)].map(m => m.index! + 1).filter(i => i <= max);
    if (ends.length) return s.slice(0, ends[ends.length - 1]).replace(/[:;]$/, '.');
  }
  return s.slice(0, max).replace(/\s+\S*$/, '') + ' …';
}

/** Width and height of a PNG from its IHDR chunk. */
export function pngSize(png: Buffer): {width: number; height: number} | undefined {
  if (png.length < 24 || png.readUInt32BE(12) !== 0x49484452) return undefined;
  return {width: png.readUInt32BE(16), height: png.readUInt32BE(20)};
}

/** An image's alt text from its text/plain `<…>`; figures (lib/viz/figures.ts) describe a whole
 * diagram in a few sentences, so SVG figures keep up to 1000 characters, other images 200. */
const altOf = (data: Record<string, unknown>, fallback: string, max = 200): string => {
  const t = text(data['text/plain']).trim();
  return (/^<(.+)>$/s.exec(t)?.[1] ?? t ?? fallback).slice(0, max) || fallback;
};

/** Outputs longer than this many lines are folded by the site's script (a "show all" button). */
export const LONG_OUTPUT_LINES = 25;
const longAttr = (t: string): string => {
  const n = t.replace(/\n$/, '').split('\n').length;
  return n > LONG_OUTPUT_LINES ? ` data-lines="${n}"` : '';
};

const NUMERIC = /^[-−+±]?\s*(\d[\d,]*(\.\d+)?|\.\d+)(e[-+]?\d+)?\s*(%|ms|s|min|h|M|K|k|B|MB|KB|GB|×|x|px|img\/s)?(\s*(±|\+\/-)\s*\d[\d.,]*\s*%?)?(\s*\(\d+ (seeds?|runs?)\))?$/i;

/**
 * Table cells holding a number (with its unit, ± sd and a count such as "(3 seeds)") get class "num"
 * (kept on one line, right-aligned); prose cells may wrap and are left-aligned. A header cell gets
 * "num" too when every body cell of its column has it, so a column's header sits on the side of its
 * values.
 */
export function markNumericCells(html: string): string {
  const marked = html.replace(/<(td|th)(\s[^>]*)?>([^<]*)<\/\1>/g, (m, tag: string, attrs: string | undefined, content: string) => {
    const t = content.replace(/&nbsp;/g, ' ').trim();
    if (/class=/.test(attrs ?? '')) return m;
    const numeric = NUMERIC.test(t);
    // a value and its note in parentheses — a count ("68.97 ± 0.26 (3 seeds)", a number cell) or a
    // comment ("+9.65 (> 2 SE)", a prose cell) — each stay whole; the note may go below the value
    const noted = /^(.*\S)\s+(\([^()]{1,20}\))$/.exec(t);
    const split = noted && (numeric || /^[-−+]?\d[\d.,]*\s*%?$/.test(noted[1]!));
    if (!numeric && !split) return m;
    const body = split ? `<span class="nw">${noted[1]}</span> <span class="nw">${noted[2]}</span>` : content;
    return `<${tag}${attrs ?? ''}${numeric ? ' class="num"' : ''}>${body}</${tag}>`;
  });
  return marked.replace(/<table\b[\s\S]*?<\/table>/g, (table) => wrapPoints(numericHeaders(table)));
}

/** A header gets class "num" when every body cell of its column has it (tables with merged cells are left alone). */
function numericHeaders(table: string): string {
  const head = /<thead>([\s\S]*?)<\/thead>/.exec(table), body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table);
  if (!head || !body || /colspan|rowspan/.test(table)) return table;
  const rows = [...body[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td(\s[^>]*)?>/g)].map((c) => /class="num"/.test(c[1] ?? '')));
  if (rows.length === 0) return table;
  const numeric = (i: number) => rows.every((r) => r[i] === true);
  let i = -1;
  const thead = head[1]!.replace(/<th(\s[^>]*)?>/g, (m, attrs: string | undefined) => {
    i++;
    return numeric(i) && !/class=/.test(attrs ?? '') ? `<th${attrs ?? ''} class="num">` : m;
  });
  return table.replace(head[0], `<thead>${thead}</thead>`);
}

/** Where a table's text may wrap besides its spaces: headers at camelCase joins, paths in code
 *  (`vit/tokenizers.ts`) after their slashes; the CSS keeps words whole otherwise. */
function wrapPoints(table: string): string {
  return table.replace(/<th(\s[^>]*)?>([^<]*)<\/th>/g, (m, attrs: string | undefined, content: string) => `<th${attrs ?? ''}>${camelBreaks(content)}</th>`)
    .replace(/(<code\b[^>]*>)([^<]*)(<\/code>)/g, (m, open: string, code: string, close: string) => open + code.replace(/\/(?=[^/])/g, '/<wbr>') + close);
}

/** A header such as `scaledDot: r` or `params (countViTParams)` may wrap only at its spaces, which made
 *  some tables wider than the column at 1280 px; `<wbr>` at the camelCase joins (`scaled|Dot`,
 *  `count|ViT|Params`) lets it wrap between words, never inside one (`se|ed|s`). */
export function camelBreaks(text: string): string {
  return text.replace(/([a-z]{2})(?=[A-Z])/g, '$1<wbr>').replace(/([A-Z])(?=[A-Z][a-z]{2})/g, '$1<wbr>');
}

export interface Demo { id: string; title: string; html: string; text: string }

export interface RenderContext {
  slug: string;            // page slug, e.g. '01-attention'
  notebookPath: string;    // repo path the code's relative imports resolve from, e.g. 'chapters/01-attention.ipynb'
  modules: Map<string, SourceModule>;
  hrefPrefix: string;      // relative prefix from the page to the site root
  /** a code cell's source as shown (solution markers dropped, or regions stubbed in a teacher build) */
  transformCode?: (src: string, where: string) => string;
  /** live demos: placed at a `<!-- demo: name -->` marker in a markdown cell, else at the end */
  demos?: Record<string, Demo>;
}

export function renderNotebook(nb: {cells: Cell[]; metadata?: any}, ctx: RenderContext): RenderedNotebook {
  const md = createMarkdown();
  const headings: Heading[] = [];
  const usedIds = new Set<string>(['main', 'content', 'sidebar', 'toc', 'search']);
  const assets: Asset[] = [];
  const missingSvgs: {name: string; spec: unknown}[] = [];
  let charts = 0;
  let title = '';
  let summary = '';
  const sections: {id: string; title: string; text: string}[] = [{id: '', title: '', text: ''}];
  const addText = (t: string) => { sections[sections.length - 1]!.text += ' ' + t; };
  const asset = (ext: string, data: Buffer | string) => {
    const name = `${ctx.slug}-${createHash('sha1').update(data).digest('hex').slice(0, 10)}.${ext}`;
    if (!assets.some(a => a.name === name)) assets.push({name, data});
    return `${ctx.hrefPrefix}media/${name}`;
  };
  const parts: string[] = [];
  let codeIndex = 0;

  for (const cell of nb.cells) {
    let src = text(cell.source);
    if (cell.cell_type === 'markdown') {
      const before = headings.length;
      let html = md.render(src, headings, usedIds);
      for (const h of headings.slice(before)) {
        if (h.level === 1 && !title) title = h.text;
        if (h.level >= 2 && h.level <= 3) sections.push({id: h.id, title: h.text, text: ''});
      }
      html = html.replace(/<!--\s*demo:\s*([\w-]+)\s*-->/g, (m, name: string) => {
        const demo = ctx.demos?.[name];
        if (!demo) return m;
        delete ctx.demos![name];
        return placeDemo(demo);
      });
      if (!summary) summary = cardSummary(src);
      addText(markdownText(src));
      parts.push(`<div class="cell markdown-cell">${markNumericCells(html)}</div>`);
    } else if (cell.cell_type === 'code') {
      codeIndex++;
      if (ctx.transformCode) src = ctx.transformCode(src, `${ctx.notebookPath} code cell ${codeIndex}`);
      const links = findImports(src, ctx.notebookPath, ctx.modules);
      const code = linkImports(highlight(src), links, ctx.hrefPrefix);
      addText(src);
      const n = cell.execution_count ?? ' ';
      const outputs = mergeStreams(cell.outputs ?? []).map(o => renderOutput(o)).join('');
      parts.push(`<div class="cell code-cell" id="cell-${codeIndex}">` +
        `<div class="code-wrap"><span class="prompt" aria-hidden="true">[${n}]</span>` +
        `<pre class="code"><code class="language-typescript">${code}</code></pre>` +
        `<button class="copy" type="button" aria-label="Copy code of cell ${codeIndex}">Copy</button></div>` +
        (outputs ? `<div class="outputs">${outputs}</div>` : '') + `</div>`);
    } else if (cell.cell_type === 'raw') {
      parts.push(`<pre class="raw">${escapeHtml(src)}</pre>`);
    }
  }

  function renderOutput(o: any): string {
    switch (o.output_type) {
      case 'stream': {
        const t = text(o.text);
        addText(t);
        return `<pre class="output stream ${o.name === 'stderr' ? 'stderr' : 'stdout'}"${longAttr(t)}>${ansiToHtml(t)}</pre>`;
      }
      case 'error': {
        const tb = (o.traceback ?? []).join('\n') || `${o.ename}: ${o.evalue}`;
        addText(`${o.ename}: ${o.evalue}`);
        return `<pre class="output error" role="note" aria-label="Error output">${ansiToHtml(tb)}</pre>`;
      }
      case 'display_data':
      case 'execute_result':
        return renderBundle(o.data ?? {}, o.metadata ?? {});
      default:
        return '';
    }
  }

  function renderBundle(data: Record<string, unknown>, metadata: Record<string, any>): string {
    const vlMime = VEGALITE_MIMES.find(m => m in data);
    if (vlMime) {
      charts++;
      const spec = data[vlMime] as Record<string, any>;
      const alt = escapeHtml(chartAlt(spec, text(data['text/plain'])));
      let svgUrl: string;
      let size: {width: number; height: number} | undefined;
      if (data['image/svg+xml']) {
        const svg = text(data['image/svg+xml']);
        svgUrl = asset('svg', svg);
        const w = /<svg[^>]*?\swidth="([\d.]+)"/.exec(svg)?.[1], h = /<svg[^>]*?\sheight="([\d.]+)"/.exec(svg)?.[1];
        if (w && h) size = {width: Number(w), height: Number(h)};
      } else {
        const name = `${ctx.slug}-chart-${charts}.svg`;
        missingSvgs.push({name, spec});
        svgUrl = `${ctx.hrefPrefix}media/${name}`;
      }
      const json = JSON.stringify(spec);
      // a chart's data (up to hundreds of KB for a heat map) loads with the chart, not with the page
      const specAttr = json.length > INLINE_SPEC_LIMIT ? ` data-spec="${asset('json', json)}"` : '';
      const inline = specAttr ? '' : `<script type="application/json" class="chart-spec">${json.replace(/</g, '\\u003c')}</script>`;
      const height = Math.round(Math.min(size?.height ?? 320, 900));
      return `<figure class="output chart" data-chart data-svg="${svgUrl}" data-alt="${alt}"${specAttr} style="--chart-h: ${height}px">` +
        `<div class="chart-live" aria-hidden="true"></div>` +
        `<noscript><img class="chart-static" src="${svgUrl}" alt="${alt}"></noscript>${inline}</figure>`;
    }
    if (data['text/html'] !== undefined) {
      const h = text(data['text/html']);
      addText(stripHtml(h));
      return `<div class="output html">${markNumericCells(h).replace(/<table/g, '<div class="table-wrap"><table').replace(/<\/table>/g, '</table></div>')}</div>`;
    }
    if (data['image/png'] !== undefined) {
      const bytes = Buffer.from(text(data['image/png']).replace(/\s/g, ''), 'base64');
      const url = asset('png', bytes);
      const meta = metadata['image/png'] ?? {};
      const size = meta.width ? {width: Number(meta.width), height: Number(meta.height ?? meta.width)} : pngSize(bytes);
      // small images (a 32×32 CIFAR picture) are scaled up with crisp pixels
      const k = size && size.width < 160 ? Math.max(1, Math.floor(160 / size.width)) : 1;
      const dims = size ? ` width="${size.width * k}" height="${size.height * k}"` : '';
      return `<figure class="output image${k > 1 ? ' pixelated' : ''}"><img src="${url}" alt="${escapeHtml(altOf(data, 'image'))}"${dims} loading="lazy"></figure>`;
    }
    if (data['image/jpeg'] !== undefined) {
      const url = asset('jpg', Buffer.from(text(data['image/jpeg']).replace(/\s/g, ''), 'base64'));
      return `<figure class="output image"><img src="${url}" alt="${escapeHtml(altOf(data, 'image'))}" loading="lazy"></figure>`;
    }
    if (data['image/svg+xml'] !== undefined) {
      const url = asset('svg', text(data['image/svg+xml']));
      return `<figure class="output image svg"><img src="${url}" alt="${escapeHtml(altOf(data, 'figure', 1000))}" loading="lazy"></figure>`;
    }
    if (data['text/markdown'] !== undefined) {
      const inner = md.render(text(data['text/markdown']), [], usedIds);
      addText(stripHtml(inner));
      return `<div class="output markdown">${inner}</div>`;
    }
    if (data['text/latex'] !== undefined) {
      const tex = text(data['text/latex']).trim();
      addText(tex);
      const m = /^\$\$([\s\S]*)\$\$$/.exec(tex) ?? /^\$([\s\S]*)\$$/.exec(tex) ?? /^\\\[([\s\S]*)\\\]$/.exec(tex);
      return `<div class="output latex">${renderMath(m ? m[1]! : tex, true)}</div>`;
    }
    if (data['application/json'] !== undefined) {
      return `<pre class="output json">${highlight(JSON.stringify(data['application/json'], null, 2), 'json')}</pre>`;
    }
    if (data['text/plain'] !== undefined) {
      const t = text(data['text/plain']);
      addText(t);
      return `<pre class="output text"${longAttr(t)}>${ansiToHtml(t)}</pre>`;
    }
    return '';
  }

  function placeDemo(d: Demo): string {
    headings.push({level: 2, id: d.id, text: d.title});
    sections.push({id: d.id, title: d.title, text: d.text});
    return d.html;
  }
  for (const d of Object.values(ctx.demos ?? {})) parts.push(placeDemo(d));
  return {title: title || ctx.slug, summary, html: parts.join('\n'), headings, sections: sections.filter(s => s.text.trim() || s.id), assets, charts, missingSvgs};
}
