/**
 * `fs` for the browser runner — the site's data API. The repository is a virtual, read-mostly
 * folder at /course (process.cwd() and repoRoot() in the browser): the files the site serves for
 * the chapters (listed in runner/files.json by the site build, see site/runner/README.md) can be
 * read; anything written goes to memory and lives until the kernel restarts. Reads of a file the
 * site does not serve fail with ENOENT and a message that names the data API.
 * Synchronous reads are synchronous XMLHttpRequests, which a Web Worker (the runner's kernel) may make.
 */
import {dirname, resolve} from './path';

export const ROOT = '/course';

interface Served { url: string; size: number }
interface Manifest { base: string; files: Record<string, Served> }

const manifest = (): Manifest => (globalThis as {__courseFiles?: Manifest}).__courseFiles ?? {base: '', files: {}};
const written = new Map<string, Uint8Array>();
const dirs = new Set<string>();

function fsError(code: string, syscall: string, p: string, why: string): Error {
  const e = new Error(`${code}: ${why}, ${syscall} '${p}'`) as Error & {code: string; syscall: string; path: string};
  e.code = code; e.syscall = syscall; e.path = p;
  return e;
}

/** The repository-relative path of `p`, or undefined outside /course. */
function repoPath(p: string): string | undefined {
  const abs = resolve(String(p));
  if (abs === ROOT) return '';
  return abs.startsWith(ROOT + '/') ? abs.slice(ROOT.length + 1) : undefined;
}

function served(p: string): Served | undefined {
  const r = repoPath(p);
  return r === undefined ? undefined : manifest().files[r];
}

function isDir(p: string): boolean {
  const abs = resolve(String(p));
  if (abs === ROOT || dirs.has(abs)) return true;
  const r = repoPath(abs);
  if (r === undefined) return false;
  const prefix = r + '/';
  return Object.keys(manifest().files).some(f => f.startsWith(prefix)) || [...written.keys()].some(f => f.startsWith(abs + '/'));
}

function notServed(p: string, syscall: string): Error {
  const r = repoPath(p);
  const what = r === undefined ? `${p} is outside the course folder (${ROOT})` : `${r} is not served to the browser`;
  return fsError('ENOENT', syscall, String(p), `${what}: the site's data API serves ${servedSummary()} (site/runner/README.md)`);
}

function servedSummary(): string {
  const tops = new Set(Object.keys(manifest().files).map(f => f.split('/').slice(0, 2).join('/')));
  return tops.size ? [...tops].sort().join(', ') : 'no files in this build';
}

function fetchSync(url: string): Uint8Array {
  const x = new XMLHttpRequest();
  x.open('GET', url, false);
  x.responseType = 'arraybuffer';
  x.send();
  if (x.status !== 200) throw new Error(`HTTP ${x.status} for ${url}`);
  return new Uint8Array(x.response as ArrayBuffer);
}

const cache = new Map<string, Uint8Array>();

function bytesOf(p: string, syscall: string): Uint8Array {
  const abs = resolve(String(p));
  const w = written.get(abs);
  if (w) return w;
  const s = served(abs);
  if (!s) throw isDir(abs) ? fsError('EISDIR', syscall, abs, 'illegal operation on a directory') : notServed(abs, syscall);
  let b = cache.get(abs);
  if (!b) { b = fetchSync(manifest().base + s.url); cache.set(abs, b); }
  return b;
}

type Enc = BufferEncoding | {encoding?: BufferEncoding | null; flag?: string} | null | undefined;
const encodingOf = (o: Enc): string | undefined => typeof o === 'string' ? o : o?.encoding ?? undefined;
const decode = (b: Uint8Array, enc: string | undefined): string | Uint8Array => enc ? new TextDecoder(enc === 'utf8' ? 'utf-8' : enc).decode(b) : b.slice();
const encode = (d: string | ArrayBufferView): Uint8Array => typeof d === 'string' ? new TextEncoder().encode(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();

export function existsSync(p: string): boolean {
  const abs = resolve(String(p));
  return written.has(abs) || served(abs) !== undefined || isDir(abs);
}

export function readFileSync(p: string, o?: Enc): any {
  return decode(bytesOf(p, 'open'), encodingOf(o));
}

export function writeFileSync(p: string, data: string | ArrayBufferView): void {
  const abs = resolve(String(p));
  if (!isDir(dirname(abs))) throw fsError('ENOENT', 'open', abs, 'no such file or directory');
  written.set(abs, encode(data));
}

export function appendFileSync(p: string, data: string | ArrayBufferView): void {
  const abs = resolve(String(p));
  const before = existsSync(abs) ? bytesOf(abs, 'open') : new Uint8Array(0);
  const add = encode(data), out = new Uint8Array(before.length + add.length);
  out.set(before); out.set(add, before.length);
  if (!isDir(dirname(abs))) throw fsError('ENOENT', 'open', abs, 'no such file or directory');
  written.set(abs, out);
}

export function mkdirSync(p: string, o?: {recursive?: boolean}): string | undefined {
  let abs = resolve(String(p));
  if (!o?.recursive && !isDir(dirname(abs))) throw fsError('ENOENT', 'mkdir', abs, 'no such file or directory');
  const first = isDir(abs) ? undefined : abs;
  while (abs !== '/' && !isDir(abs)) { dirs.add(abs); abs = dirname(abs); }
  return first;
}

export function statSync(p: string, o?: {throwIfNoEntry?: boolean}): any {
  const abs = resolve(String(p));
  const file = written.get(abs)?.length ?? served(abs)?.size;
  const dir = file === undefined && isDir(abs);
  if (file === undefined && !dir) {
    if (o?.throwIfNoEntry === false) return undefined;
    throw notServed(abs, 'stat');
  }
  const t = new Date(0);
  return {size: file ?? 0, isFile: () => !dir, isDirectory: () => dir, isSymbolicLink: () => false, isFIFO: () => false,
    mtimeMs: 0, mtime: t, ctime: t, atime: t, birthtime: t, mode: dir ? 0o40755 : 0o100644, dev: 0, ino: 0};
}
export const lstatSync = statSync;

export function readdirSync(p: string, o?: {withFileTypes?: boolean}): any[] {
  const abs = resolve(String(p));
  if (!isDir(abs)) throw notServed(abs, 'scandir');
  const names = new Map<string, boolean>(); // name → is a directory
  const add = (full: string) => {
    if (!full.startsWith(abs === '/' ? '/' : abs + '/')) return;
    const rest = full.slice(abs.length + 1), i = rest.indexOf('/');
    names.set(i < 0 ? rest : rest.slice(0, i), i >= 0 || names.get(rest) === true);
  };
  for (const f of Object.keys(manifest().files)) add(`${ROOT}/${f}`);
  for (const f of written.keys()) add(f);
  for (const d of dirs) add(d + '/');
  const sorted = [...names.keys()].filter(Boolean).sort();
  return o?.withFileTypes ? sorted.map(name => ({name, isFile: () => !names.get(name), isDirectory: () => names.get(name) === true})) : sorted;
}

export function renameSync(from: string, to: string): void {
  const a = resolve(String(from)), b = resolve(String(to));
  const data = bytesOf(a, 'rename');
  written.set(b, data);
  written.delete(a);
}

export function rmSync(p: string, o?: {force?: boolean; recursive?: boolean}): void {
  const abs = resolve(String(p));
  if (written.delete(abs) || dirs.delete(abs)) return;
  if (!o?.force) throw fsError('ENOENT', 'rm', abs, 'no such file or directory (or served read-only by the site)');
}
export const unlinkSync = (p: string): void => rmSync(p);

export function realpathSync(p: string): string { return resolve(String(p)); }

export const promises = {
  async readFile(p: string, o?: Enc): Promise<any> {
    const abs = resolve(String(p));
    const s = written.has(abs) ? undefined : served(abs);
    if (s && !cache.has(abs)) {
      const r = await fetch(manifest().base + s.url);
      if (!r.ok) throw new Error(`HTTP ${r.status} for ${s.url}`);
      cache.set(abs, new Uint8Array(await r.arrayBuffer()));
    }
    return readFileSync(abs, o);
  },
  async writeFile(p: string, d: string | ArrayBufferView): Promise<void> { writeFileSync(p, d); },
  async mkdir(p: string, o?: {recursive?: boolean}): Promise<string | undefined> { return mkdirSync(p, o); },
  async rename(a: string, b: string): Promise<void> { renameSync(a, b); },
  async rm(p: string, o?: {force?: boolean}): Promise<void> { rmSync(p, o); },
  async stat(p: string): Promise<any> { return statSync(p); },
  async readdir(p: string): Promise<string[]> { return readdirSync(p); },
};

function nodeOnly(name: string): () => never {
  return () => { throw new Error(`fs.${name} is not available in the browser runner (the site's data API reads served files and keeps writes in memory)`); };
}
export const openSync = nodeOnly('openSync'), readSync = nodeOnly('readSync'), closeSync = nodeOnly('closeSync');
export const createReadStream = nodeOnly('createReadStream'), createWriteStream = nodeOnly('createWriteStream');
export const copyFileSync = (a: string, b: string): void => { written.set(resolve(String(b)), bytesOf(a, 'copyfile')); };
export const constants = {F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1};
export function accessSync(p: string): void { if (!existsSync(p)) throw notServed(p, 'access'); }

export default {existsSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, statSync, lstatSync, readdirSync, renameSync, rmSync,
  unlinkSync, realpathSync, promises, openSync, readSync, closeSync, createReadStream, createWriteStream, copyFileSync, constants, accessSync};
