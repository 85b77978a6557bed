/**
 * TypeScript highlighting at build time (highlight.js) and links from imports of the course's
 * own modules (lib/, display/) to their source pages and definitions.
 */
import hljs from 'highlight.js/lib/core';
import typescript from 'highlight.js/lib/languages/typescript';
import json from 'highlight.js/lib/languages/json';
import bash from 'highlight.js/lib/languages/bash';
import {posix} from 'node:path';

hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('bash', bash);

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function highlight(code: string, language = 'typescript'): string {
  if (!hljs.getLanguage(language)) return escapeHtml(code);
  return hljs.highlight(code, {language, ignoreIllegals: true}).value;
}

/** A source module the site has a page for: repo path 'lib/attention/softmax.ts' → its page and exports. */
export interface SourceModule { path: string; url: string; exports: Set<string> }

export interface ImportLink { spec: string; moduleUrl: string; names: Map<string, string> } // local name → url#def

const IMPORT_RE = /import\s+(type\s+)?(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\}|\*\s+as\s+([\w$]+))?\s*from\s*['"]([^'"]+)['"]/g;

/** Resolve a relative import written in `fromFile` (repo path) to a source module. */
export function resolveImport(spec: string, fromFile: string, modules: Map<string, SourceModule>): SourceModule | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = posix.normalize(posix.join(posix.dirname(fromFile), spec));
  for (const cand of [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts'), base.replace(/\.cjs$/, '.d.cts')]) {
    const m = modules.get(cand);
    if (m) return m;
  }
  return undefined;
}

/** The course-module imports of a piece of code: which string literals and names to link. */
export function findImports(code: string, fromFile: string, modules: Map<string, SourceModule>): ImportLink[] {
  const out: ImportLink[] = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const mod = resolveImport(m[5]!, fromFile, modules);
    if (!mod) continue;
    const names = new Map<string, string>();
    for (const part of (m[3] ?? '').split(',')) {
      const [orig, local] = part.replace(/^\s*type\s+/, '').split(/\s+as\s+/).map(s => s.trim());
      if (!orig) continue;
      if (mod.exports.has(orig)) names.set(local || orig, `${mod.url}#${orig}`);
    }
    out.push({spec: m[5]!, moduleUrl: mod.url, names});
  }
  return out;
}

/**
 * Add links to highlighted HTML: import specifier strings → module page, imported identifiers
 * (outside strings and comments) → the definition.
 */
export function linkImports(html: string, links: ImportLink[], hrefPrefix: string): string {
  if (links.length === 0) return html;
  const specs = new Map(links.map(l => [l.spec, l.moduleUrl]));
  const names = new Map<string, string>();
  for (const l of links) for (const [k, v] of l.names) names.set(k, v);
  const nameRe = names.size ? new RegExp(`(?<![\\w$.])(${[...names.keys()].map(n => n.replace(/\$/g, '\\$')).join('|')})(?![\\w$])`, 'g') : undefined;
  const parts = html.split(/(<[^>]+>)/);
  const stack: string[] = [];
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith('<')) {
      if (p.startsWith('</')) stack.pop(); else stack.push(/class="([^"]*)"/.exec(p)?.[1] ?? '');
      if (p.startsWith('<span class="hljs-string"')) {
        const inner = parts[i + 1] ?? '';
        const spec = inner.replace(/^(&#x27;|&quot;|'|")|(&#x27;|&quot;|'|")$/g, '');
        const url = specs.get(spec);
        if (url && parts[i + 2] === '</span>') {
          out += `<a class="code-link" href="${hrefPrefix}${url}">${p}${inner}</span></a>`;
          i += 2;
          stack.pop();
          continue;
        }
      }
      out += p;
      continue;
    }
    const inStrOrComment = stack.some(c => /hljs-(string|comment)/.test(c));
    out += nameRe && !inStrOrComment ? p.replace(nameRe, (n) => `<a class="code-link" href="${hrefPrefix}${names.get(n)}">${n}</a>`) : p;
  }
  return out;
}

/** Exported names of a TypeScript module, with their 1-based line numbers. */
export function findExports(code: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = code.split('\n');
  const re = /^\s*export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|const|let|var|class|interface|type|enum)\s+([\w$]+)/;
  lines.forEach((l, i) => {
    const m = re.exec(l);
    if (m && !out.has(m[1]!)) out.set(m[1]!, i + 1);
    const list = /^\s*export\s*\{([^}]*)\}/.exec(l);
    if (list) for (const part of list[1]!.split(',')) {
      const name = part.split(/\s+as\s+/).pop()!.trim();
      if (name && !out.has(name)) out.set(name, i + 1);
    }
  });
  return out;
}
