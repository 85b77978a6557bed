/**
 * Relative imports of course files: the closure of files a set of entry files needs (what a
 * starter must contain), and re-pointing a test file's imports when it moves to another folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import {notebookCode} from './regions';

const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]*)\2/gm;

/** Relative specifiers (`./x`, `../lib/y`) in a TS/JS source. */
export function relativeSpecifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(SPEC)) out.push(m[3]!);
  return out;
}

/** Files a relative specifier may mean (a .ts module, a .cjs with its .d.cts, json, index.ts). */
export function resolveSpecifier(fromFile: string, spec: string): string[] {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base, `${base}.ts`, `${base}.cjs`, `${base}.d.cts`, `${base}.js`, `${base}.mjs`, `${base}.json`, path.join(base, 'index.ts')];
  return candidates.filter((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

/** Every file reachable from `entries` through relative imports, as paths relative to `root`. */
export function importClosure(root: string, entries: string[]): string[] {
  const seen = new Set<string>();
  const todo = entries.map((e) => path.resolve(root, e));
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (!/\.(ts|cjs|js|mjs|cts|ipynb)$/.test(f)) continue;
    const text = fs.readFileSync(f, 'utf8');
    for (const s of relativeSpecifiers(f.endsWith('.ipynb') ? notebookCode(text) : text)) {
      const hits = resolveSpecifier(f, s);
      if (hits.length === 0) throw new Error(`${path.relative(root, f)}: cannot resolve import "${s}"`);
      for (const h of hits) {
        if (!h.startsWith(root + path.sep)) throw new Error(`${path.relative(root, f)}: import "${s}" leaves the course folder`);
        todo.push(h);
      }
    }
  }
  return [...seen].map((f) => path.relative(root, f)).sort();
}

/** Rewrite relative imports of a file that moves from `fromRel` to `toRel` (both relative to one root). */
export function repointImports(source: string, fromRel: string, toRel: string): string {
  return source.replace(SPEC, (all, pre: string, q: string, spec: string) => {
    const target = path.posix.join(path.posix.dirname(fromRel), spec);
    let rel = path.posix.relative(path.posix.dirname(toRel), target);
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${pre}${q}${rel}${q}`;
  });
}
