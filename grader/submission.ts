/**
 * Reading a submission (a folder or a zip) without trusting it: only the exercise files are taken,
 * found by path (or by a unique file name when the student zipped a folder or flattened it);
 * symlinks, huge files and paths outside the submission are refused.
 */
import {unzipSync} from 'fflate';
import * as fs from 'fs';
import * as path from 'path';

export const MAX_FILE_BYTES = 512 * 1024;
/** a zip larger than this is not opened (it is read into memory whole) */
export const MAX_ZIP_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 5000;

export interface Submission {
  /** student id: the folder or zip name, or Gradescope's submission_metadata */
  id: string;
  source: string;
  /** exercise file (course path) -> submitted text */
  files: Map<string, string>;
  missing: string[];
  notes: string[];
}

/** A file's bytes, or undefined (with a note) when it is larger than MAX_FILE_BYTES: checked before reading. */
function readBounded(abs: string, rel: string, notes: string[]): Buffer | undefined {
  const fd = fs.openSync(abs, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size > MAX_FILE_BYTES) { notes.push(`${rel} is larger than ${MAX_FILE_BYTES / 1024} KiB and was ignored`); return undefined; }
    const buf = Buffer.alloc(size);
    const n = fs.readSync(fd, buf, 0, size, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** Source text from bytes: UTF-8 (with or without a BOM), UTF-16 LE/BE (BOM, or the NULs of ASCII text); CRLF stays. */
export function decodeSource(buf: Buffer): string {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return swap16(buf.subarray(2)).toString('utf16le');
  // no BOM: ASCII-heavy UTF-16 has a NUL in every other byte
  if (buf.length >= 4 && buf.length % 2 === 0) {
    let even = 0, odd = 0;
    const n = Math.min(buf.length, 4096);
    for (let i = 0; i < n; i += 2) { if (buf[i] === 0) even++; if (buf[i + 1] === 0) odd++; }
    if (odd > n / 4 && even === 0) return buf.toString('utf16le');
    if (even > n / 4 && odd === 0) return swap16(buf).toString('utf16le');
  }
  return buf.toString('utf8');
}

function swap16(b: Buffer): Buffer {
  const c = Buffer.from(b.subarray(0, b.length - (b.length % 2)));
  c.swap16();
  return c;
}

function listFolder(dir: string, notes: string[]): Map<string, () => Buffer | undefined> {
  const out = new Map<string, () => Buffer | undefined>();
  const walk = (d: string, depth: number) => {
    if (depth > 12) return;
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      if (out.size >= MAX_ENTRIES) return;
      const abs = path.join(d, e.name);
      const rel = path.relative(dir, abs).split(path.sep).join('/');
      if (e.isSymbolicLink()) { notes.push(`ignored the symbolic link ${rel}`); continue; }
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || e.name === '.git') continue;
        walk(abs, depth + 1);
      } else if (e.isFile()) out.set(rel, () => readBounded(abs, rel, notes));
    }
  };
  walk(dir, 0);
  return out;
}

function listZip(file: string, notes: string[]): Map<string, () => Buffer | undefined> {
  const out = new Map<string, () => Buffer | undefined>();
  let entries: Record<string, Uint8Array>;
  const size = fs.statSync(file).size;
  if (size > MAX_ZIP_BYTES) { notes.push(`the zip file is ${(size / 1024 ** 2).toFixed(0)} MiB, more than the ${MAX_ZIP_BYTES / 1024 ** 2} MiB the grader opens`); return out; }
  try {
    entries = unzipSync(new Uint8Array(fs.readFileSync(file)), {
      filter: (f) => !f.name.endsWith('/') && !f.name.startsWith('__MACOSX/') && !f.name.includes('node_modules/') && f.originalSize <= MAX_FILE_BYTES && /\.(ts|js|json|md|txt)$/.test(f.name),
    });
  } catch (e) {
    notes.push(`could not read the zip file: ${(e as Error).message}`);
    return out;
  }
  for (const [name, data] of Object.entries(entries)) {
    const norm = path.posix.normalize(name.replace(/\\/g, '/'));
    if (norm.startsWith('../') || path.posix.isAbsolute(norm)) { notes.push(`ignored the zip entry ${name} (path outside the zip)`); continue; }
    out.set(norm, () => (data.length > MAX_FILE_BYTES ? undefined : Buffer.from(data)));
  }
  return out;
}

/** Where an exercise file is in a submission: its own path, else one folder's copy of it, else a unique file name. */
function findFile(entries: Map<string, () => Buffer | undefined>, want: string): {hit?: string; ambiguous?: string[]} {
  if (entries.has(want)) return {hit: want};
  const suffix = [...entries.keys()].filter((k) => k.endsWith(`/${want}`)).sort();
  if (suffix.length === 1) return {hit: suffix[0]};
  if (suffix.length > 1) return {ambiguous: suffix};
  const base = path.posix.basename(want);
  const byName = [...entries.keys()].filter((k) => path.posix.basename(k) === base && !k.includes('/test/')).sort();
  if (byName.length > 1) return {ambiguous: byName};
  return {hit: byName[0]};
}

function gradescopeId(dir: string): string | undefined {
  const meta = path.join(path.dirname(dir), 'submission_metadata.json');
  if (!fs.existsSync(meta)) return undefined;
  try {
    const buf = readBounded(meta, 'submission_metadata.json', []);
    if (!buf) return undefined;
    const m = JSON.parse(decodeSource(buf)) as {users?: {email?: string; name?: string}[]; id?: number};
    return m.users?.map((u) => u.email ?? u.name).filter(Boolean).join('+') || (m.id !== undefined ? String(m.id) : undefined);
  } catch {
    return undefined;
  }
}

/** Read the exercise files of one submission (folder or .zip). */
export function readSubmission(source: string, exerciseFiles: string[], id?: string): Submission {
  const notes: string[] = [];
  const stat = fs.statSync(source);
  const entries = stat.isDirectory() ? listFolder(source, notes) : listZip(source, notes);
  const sid = id ?? (stat.isDirectory() ? gradescopeId(source) : undefined) ?? path.basename(source).replace(/\.zip$/i, '');
  const files = new Map<string, string>();
  const missing: string[] = [];
  for (const want of [...new Set(exerciseFiles)]) {
    const {hit, ambiguous} = findFile(entries, want);
    if (ambiguous) {
      notes.push(`ambiguous: the submission has more than one ${want} (${ambiguous.slice(0, 5).join(', ')}); none was graded (the starter's stub was) — hand in one copy`);
      missing.push(want);
      continue;
    }
    if (!hit) { missing.push(want); continue; }
    const buf = entries.get(hit)!();
    if (!buf) { if (!notes.some((n) => n.startsWith(hit))) notes.push(`${hit} is larger than ${MAX_FILE_BYTES / 1024} KiB and was ignored`); missing.push(want); continue; }
    if (hit !== want) notes.push(`took ${hit} as ${want}`);
    files.set(want, decodeSource(buf));
  }
  return {id: sid, source, files, missing, notes};
}
