/**
 * Reading a submission (a folder or a zip) without trusting it: only the exercise files are taken,
 * found by path (or by a unique file name when the student zipped a folder or flattened it);
 * symlinks, huge files and paths outside the submission are refused.
 */
import {unzipSync} from 'fflate';
import * as fs from 'fs';
import * as path from 'path';

export const MAX_FILE_BYTES = 512 * 1024;
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

function listFolder(dir: string, notes: string[]): Map<string, () => Buffer> {
  const out = new Map<string, () => Buffer>();
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
      } else if (e.isFile()) out.set(rel, () => fs.readFileSync(abs));
    }
  };
  walk(dir, 0);
  return out;
}

function listZip(file: string, notes: string[]): Map<string, () => Buffer> {
  const out = new Map<string, () => Buffer>();
  let entries: Record<string, Uint8Array>;
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
    out.set(norm, () => Buffer.from(data));
  }
  return out;
}

function findFile(entries: Map<string, () => Buffer>, want: string): string | undefined {
  if (entries.has(want)) return want;
  const suffix = [...entries.keys()].filter((k) => k.endsWith(`/${want}`)).sort((a, b) => a.length - b.length);
  if (suffix.length) return suffix[0];
  const base = path.posix.basename(want);
  const byName = [...entries.keys()].filter((k) => path.posix.basename(k) === base && !k.includes('/test/'));
  return byName.length === 1 ? byName[0] : undefined;
}

function gradescopeId(dir: string): string | undefined {
  const meta = path.join(path.dirname(dir), 'submission_metadata.json');
  if (!fs.existsSync(meta)) return undefined;
  try {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as {users?: {email?: string; name?: string}[]; id?: number};
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
    const hit = findFile(entries, want);
    if (!hit) { missing.push(want); continue; }
    const buf = entries.get(hit)!();
    if (buf.length > MAX_FILE_BYTES) { notes.push(`${hit} is larger than ${MAX_FILE_BYTES / 1024} KiB and was ignored`); missing.push(want); continue; }
    if (hit !== want) notes.push(`took ${hit} as ${want}`);
    files.set(want, buf.toString('utf8'));
  }
  return {id: sid, source, files, missing, notes};
}

/** Things a teacher may want to look at (not scored): code that reaches outside the exercise. */
export function reviewFlags(files: Map<string, string>): string[] {
  const checks: [RegExp, string][] = [
    [/\bprocess\s*\.\s*(exit|kill|abort)\b|\breallyExit\b/, 'ends or signals processes'],
    [/\bchild_process\b|\bworker_threads\b/, 'starts processes or threads'],
    [/\brequire\s*\(|\bimport\s*\(/, 'loads modules dynamically'],
    [/['"](node:)?fs['"]|\bwriteFileSync\b|\/proc\//, 'uses the file system'],
    [/\bprototype\b|\bglobalThis\b|\bObject\.defineProperty\b/, 'patches shared objects'],
    [/\beval\s*\(|\bnew\s+Function\b/, 'evaluates strings as code'],
    [/['"]vitest['"]|\bexpect\s*\(/, 'touches the test framework'],
  ];
  const flags: string[] = [];
  for (const [f, text] of files) for (const [re, what] of checks) if (re.test(text)) flags.push(`${f} ${what}`);
  return flags;
}
