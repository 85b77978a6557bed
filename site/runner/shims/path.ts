/** `path` for the browser runner: POSIX paths (the virtual repository is at /course, see fs.ts). */
export const sep = '/';
export const delimiter = ':';

export function normalize(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!abs) out.push('..'); continue; }
    out.push(part);
  }
  const s = (abs ? '/' : '') + out.join('/');
  if (!s) return abs ? '/' : p.endsWith('/') && p.length ? './' : '.';
  return p.endsWith('/') && s !== '/' ? s + '/' : s;
}

export function cwd(): string {
  return (globalThis as {process?: {cwd?: () => string}}).process?.cwd?.() ?? '/course';
}

export function isAbsolute(p: string): boolean { return p.startsWith('/'); }
export function join(...parts: string[]): string { return normalize(parts.filter(p => p !== '').join('/') || '.'); }
export function resolve(...parts: string[]): string {
  let r = '';
  for (let i = parts.length - 1; i >= 0 && !r.startsWith('/'); i--) if (parts[i]) r = r ? `${parts[i]}/${r}` : parts[i]!;
  if (!r.startsWith('/')) r = `${cwd()}/${r}`;
  const n = normalize(r);
  return n.length > 1 ? n.replace(/\/$/, '') : n;
}
export function dirname(p: string): string {
  const n = p.replace(/\/+$/, '');
  if (!n) return p.startsWith('/') ? '/' : '.';
  const i = n.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : n.slice(0, i).replace(/\/+$/, '') || '/';
}
export function basename(p: string, ext?: string): string {
  const b = p.replace(/\/+$/, '').split('/').pop() ?? '';
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
}
export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean), b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
}
export function parse(p: string): {root: string; dir: string; base: string; ext: string; name: string} {
  const base = basename(p), ext = extname(p);
  return {root: p.startsWith('/') ? '/' : '', dir: dirname(p), base, ext, name: ext ? base.slice(0, -ext.length) : base};
}
export function format(o: {dir?: string; base?: string; name?: string; ext?: string}): string {
  const base = o.base ?? `${o.name ?? ''}${o.ext ?? ''}`;
  return o.dir ? `${o.dir}/${base}` : base;
}
export const posix = {sep, delimiter, normalize, isAbsolute, join, resolve, dirname, basename, extname, relative, parse, format};
export default posix;
