/**
 * Results files of long measurements (`npm run levers`, `npm run data-fraction`): a JSON object with
 * a `runs` list that grows by one run at a time, possibly from two processes at once (one core each).
 *
 * - readResultsFile: the file, or undefined when there is none; an error that names the file
 *   (relative to the working folder) when it is not a results file — never a silent overwrite.
 * - mergeRunsBy: the runs on disk first, in their order, then ours that the disk lacks (by key).
 * - updateResultsFile: under an exclusive lock file (`<file>.lock`, created with O_EXCL) re-reads the
 *   file, merges, and writes a temporary file renamed over the old one, so a reader never sees half
 *   a file and two writers never lose each other's runs. A lock older than 10 minutes belonged to a
 *   process that died while writing and is removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ResultsFileShape<R> { runs: R[]; command?: string; [k: string]: unknown }

/** The error of a results file that cannot be read; its message names the file. */
export class ResultsFileError extends Error {}

const shown = (file: string) => path.relative(process.cwd(), file) || file;

/**
 * The command line a results file records, with every absolute path made relative to the working
 * folder (as a separate argument or in `--out=/…` form), so that no committed file carries a path
 * of the machine that produced it.
 */
export function portableCommand(prefix: string, argv: string[], cwd = process.cwd()): string {
  const rel = (p: string) => (path.isAbsolute(p) ? path.relative(cwd, p) || '.' : p);
  return [prefix, ...argv.map((a) => {
    const eq = /^(--[\w-]+=)(.*)$/.exec(a);
    return eq ? eq[1] + rel(eq[2]!) : rel(a);
  })].join(' ');
}

export function readResultsFile<R>(file: string): ResultsFileShape<R> | undefined {
  if (!fs.existsSync(file)) return undefined;
  let parsed: unknown;
  try { parsed = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) {
    throw new ResultsFileError(`${shown(file)} exists but is not a results file (${(e as Error).message}); move it away or choose --out`);
  }
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray((parsed as {runs?: unknown}).runs)) {
    throw new ResultsFileError(`${shown(file)} exists but has no "runs" list; move it away or choose --out`);
  }
  return parsed as ResultsFileShape<R>;
}

export function mergeRunsBy<R>(key: (r: R) => string, onDisk: R[], mine: R[]): R[] {
  const seen = new Set(onDisk.map(key));
  return [...onDisk, ...mine.filter((r) => !seen.has(key(r)))];
}

/** Runs `fn` while holding `<file>.lock`; waits up to `waitMs` for another holder. */
export async function withFileLock<T>(file: string, fn: () => T, waitMs = 60_000): Promise<T> {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  const lock = file + '.lock', t0 = Date.now();
  for (;;) {
    try { fs.closeSync(fs.openSync(lock, 'wx')); break; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (fs.statSync(lock, {throwIfNoEntry: false})?.mtimeMs ?? Date.now());
      if (age > 600_000) { fs.rmSync(lock, {force: true}); continue; }
      if (Date.now() - t0 > waitMs) {
        throw new ResultsFileError(`${shown(lock)}: another process has held this lock for ${Math.ceil(waitMs / 1000)} s; remove it if no run is writing ${shown(file)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try { return fn(); } finally { fs.rmSync(lock, {force: true}); }
}

/** Writes `value` as JSON (one space indent, trailing newline) through a temporary file and a rename. */
export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

/**
 * Adds `mine` to the runs of `file` under its lock: the runs on disk (another process may have
 * written since we read) merged with ours by `key`; `build(runs, disk)` makes the whole file
 * (header, summary, runs). `check(disk)` may refuse a file of other settings before anything is
 * written. The top-level `command` is every distinct per-run `command`, joined by ' + '. Returns
 * the merged runs. Runs of older files may carry no command: the file's own command is kept too.
 */
export async function updateResultsFile<R extends object>(file: string, key: (r: R) => string, mine: R[],
  build: (runs: R[]) => Record<string, unknown>, check?: (disk: ResultsFileShape<R>) => void): Promise<R[]> {
  return withFileLock(file, () => {
    const disk = readResultsFile<R>(file);
    if (disk && check) check(disk);
    const runs = mergeRunsBy(key, disk?.runs ?? [], mine);
    const earlier = typeof disk?.command === 'string' && disk.command !== '' ? disk.command.split(' + ') : [];
    const commands = [...new Set([...earlier, ...runs.map((r) => (r as {command?: unknown}).command).filter((c): c is string => typeof c === 'string' && c !== '')])];
    writeJsonAtomic(file, {command: commands.join(' + '), ...build(runs), runs});
    return runs;
  });
}
