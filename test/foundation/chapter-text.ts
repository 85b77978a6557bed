/**
 * Reading the chapters' text for the cross-reference and result-number tests: markdown cells,
 * code-cell comments, numbered headings, and the outputs of a committed full-mode run.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {join, relative, resolve} from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const CHAPTERS = ['01-attention', '02-transformer', '03-vit', '04-cifar-training'];

interface Cell { cell_type: string; source: string | string[]; outputs?: any[] }

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : s ?? '');

export function cells(path: string): Cell[] {
  return JSON.parse(readFileSync(path, 'utf8')).cells as Cell[];
}

/** The markdown cells of a chapter, each with its cell number (1-based, as Jupyter counts). */
export function markdownCells(chapter: string): {cell: number; text: string}[] {
  return cells(join(ROOT, 'chapters', `${chapter}.ipynb`))
    .map((c, i) => ({cell: i + 1, type: c.cell_type, text: text(c.source)}))
    .filter(c => c.type === 'markdown').map(({cell, text}) => ({cell, text}));
}

/** The comments (`// …`) of a chapter's code cells. */
export function codeComments(chapter: string): {cell: number; text: string}[] {
  return cells(join(ROOT, 'chapters', `${chapter}.ipynb`)).flatMap((c, i) => c.cell_type !== 'code' ? [] :
    [{cell: i + 1, text: [...text(c.source).matchAll(/(?<![:'"`])\/\/[^\n]*/g)].map(m => m[0]).join('\n')}]);
}

/**
 * Numbered headings of a chapter: `## 2.5 The encoder layer` → '2.5',
 * `## Appendix 2.A — …` → '2.A'. Returns id → heading text.
 */
export function headings(chapter: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const {text: t} of markdownCells(chapter)) {
    for (const m of t.matchAll(/^#{1,4}\s+(?:Appendix\s+)?(\d+\.(?:\d+|[A-Z]))\b[^\n]*/gm)) out.set(m[1]!, m[0]!);
  }
  return out;
}

/** Every `.ts` file under `dir`, repository-relative. */
export function tsFiles(dir: string): string[] {
  const abs = join(ROOT, dir);
  return readdirSync(abs).flatMap(name => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return tsFiles(relative(ROOT, p));
    return name.endsWith('.ts') ? [relative(ROOT, p)] : [];
  });
}

/** The comments of a TypeScript file (block and line comments). */
export function tsComments(file: string): string {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const block = [...src.matchAll(/\/\*[\s\S]*?\*\//g)].map(m => m[0]);
  const line = [...src.matchAll(/(?<![:'"`\\])\/\/[^\n]*/g)].map(m => m[0]);
  return [...block, ...line].join('\n');
}

/** Path of a chapter's committed full-mode run (shown on the site). */
export function fullRunPath(chapter: string): string {
  return join(ROOT, 'site', 'full-runs', `${chapter}.ipynb`);
}

/** All text the code cells of a committed full-mode run printed or displayed; null if none. */
export function fullRunOutputs(chapter: string): string | null {
  const p = fullRunPath(chapter);
  if (!existsSync(p)) return null;
  const parts: string[] = [];
  for (const c of cells(p)) {
    for (const o of c.outputs ?? []) {
      if (o.text) parts.push(text(o.text));
      for (const mime of ['text/plain', 'text/html', 'text/markdown']) if (o.data?.[mime]) parts.push(text(o.data[mime]));
    }
  }
  return parts.join('\n');
}
