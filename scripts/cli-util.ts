/** Small helpers shared by the command-line scripts (argument parsing, progress bar). */

export interface ArgSpec { strings?: string[]; numbers?: string[]; booleans?: string[] }
export type Args = Record<string, string | number | boolean | string[] | undefined> & {_: string[]};

/** `--name value`, `--name=value`, `--flag`; unknown options and bad numbers are clear errors. */
export function parseArgs(argv: string[], spec: ArgSpec, usage: string): Args {
  const out: Args = {_: []};
  const strings = new Set(spec.strings ?? []), numbers = new Set(spec.numbers ?? []), booleans = new Set(spec.booleans ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) { out._.push(a); continue; }
    let [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (booleans.has(name)) { out[name] = value === undefined ? true : value !== 'false'; continue; }
    if (!strings.has(name) && !numbers.has(name)) throw new Error(`unknown option --${name}\n${usage}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`option --${name} needs a value\n${usage}`);
    }
    if (numbers.has(name)) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`option --${name} needs a number (got "${value}")`);
      out[name] = n;
    } else out[name] = value;
  }
  return out;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

/** `[=======>      ] 120/390` (or bytes with a total of 0 = unknown). */
export function progressLine(done: number, total: number, width = 24): string {
  if (!(total > 0)) return `${done}`;
  const f = Math.max(0, Math.min(1, done / total));
  const n = Math.round(f * width);
  return `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? (n === width ? '=' : '>') : ''}${' '.repeat(width - n)}] ${done}/${total}`;
}
