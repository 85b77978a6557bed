/**
 * Command-line arguments for the course's scripts: Node's built-in `util.parseArgs` (strict: unknown
 * options and unexpected positional arguments are errors) plus typed values and a `--help` text
 * generated from the same option table, so the help can never disagree with what is parsed.
 *
 * Numbers are strict decimal: `0x10`, `1e3` for a count, `-5` or `0` for a positive count are refused
 * with a message naming the option (Number('0x10') would silently be 16).
 */
import {parseArgs as nodeParseArgs} from 'node:util';

/** string, boolean flag, whole number >= 0, whole number >= 1, real number > 0. */
export type OptKind = 'string' | 'boolean' | 'count' | 'positive' | 'real';

export interface OptSpec {
  kind: OptKind;
  help: string;
  /** Placeholder in the help text (default: N, X or VALUE by kind). */
  arg?: string;
  short?: string;
}

export interface CliSpec {
  /** How the command is typed, e.g. "npm run train --". */
  command: string;
  summary: string;
  /** Positional arguments (none by default: then any is an error). */
  positionals?: readonly {name: string; help: string}[];
  options: Record<string, OptSpec>;
  /** Extra lines after the options (examples, environment variables). */
  epilog?: string;
}

type ValueOf<K extends OptKind> = K extends 'boolean' ? boolean : K extends 'string' ? string : number;
export type CliValues<O extends Record<string, OptSpec>> = {[k in keyof O]?: ValueOf<O[k]['kind']>};

/** A usage error: the scripts print it with a pointer to --help and exit with status 2. */
export class UsageError extends Error {}

const PLACEHOLDER: Record<OptKind, string> = {string: 'VALUE', boolean: '', count: 'N', positive: 'N', real: 'X'};

export function helpText(spec: CliSpec): string {
  const pos = (spec.positionals ?? []).map((p) => ` ${p.name}`).join('');
  const lines = [`usage: ${spec.command}${pos} [options]`, '', spec.summary, ''];
  const rows: [string, string][] = [];
  for (const p of spec.positionals ?? []) rows.push([p.name, p.help]);
  for (const [name, o] of Object.entries(spec.options)) {
    const arg = o.kind === 'boolean' ? '' : ` ${o.arg ?? PLACEHOLDER[o.kind]}`;
    rows.push([`${o.short ? `-${o.short}, ` : ''}--${name}${arg}`, o.help]);
  }
  rows.push(['-h, --help', 'show this help']);
  const w = Math.min(30, Math.max(...rows.map(([a]) => a.length)) + 2);
  lines.push(spec.positionals?.length ? 'arguments and options:' : 'options:');
  for (const [a, h] of rows) lines.push(a.length + 2 > w ? `  ${a}\n  ${' '.repeat(w)}${h}` : `  ${a.padEnd(w)}${h}`);
  if (spec.epilog) lines.push('', spec.epilog);
  return lines.join('\n');
}

function toNumber(name: string, kind: OptKind, raw: string): number {
  const s = raw.trim();
  if (kind === 'real') {
    const n = Number(s);
    if (!/^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} needs a positive number (got "${raw}")`);
    return n;
  }
  const whole = kind === 'positive' ? 'a whole number >= 1' : 'a whole number >= 0';
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} needs ${whole} (got "${raw}")`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} is too large (got "${raw}")`);
  if (kind === 'positive' && n < 1) throw new UsageError(`--${name} needs ${whole} (got "${raw}")`);
  return n;
}

/**
 * Parses `argv` against `spec`. Returns typed values and the positionals, or null after printing the
 * help for -h/--help. Throws UsageError with a clear message for anything else.
 */
export function parseCli<S extends CliSpec>(spec: S, argv: string[] = process.argv.slice(2)): {values: CliValues<S['options']>; positionals: string[]} | null {
  const options: Record<string, {type: 'string' | 'boolean'; short?: string}> = {help: {type: 'boolean', short: 'h'}};
  for (const [name, o] of Object.entries(spec.options)) options[name] = {type: o.kind === 'boolean' ? 'boolean' : 'string', ...(o.short ? {short: o.short} : {})};
  let parsed: {values: Record<string, string | boolean | undefined>; positionals: string[]};
  try {
    parsed = nodeParseArgs({args: argv, options, strict: true, allowPositionals: (spec.positionals?.length ?? 0) > 0}) as typeof parsed;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const m = /'(-[^' ]+)/.exec(err.message);
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
        const near = Object.keys(spec.options).filter((k) => m && (k.startsWith(m[1]!.replace(/^-+/, '').slice(0, 3)) || m[1]!.includes(k)));
        throw new UsageError(`unknown option ${m?.[1] ?? ''}${near.length ? ` (did you mean ${near.map((k) => `--${k}`).join(' or ')}?)` : ''}`);
      }
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
        const arg = /argument '([^']*)'/.exec(err.message)?.[1] ?? '';
        throw new UsageError(`unexpected argument "${arg}": this command takes ${spec.positionals?.length ? `only ${spec.positionals.map((p) => p.name).join(' ')}` : 'options only'} (an option's value follows its name, e.g. --config ${arg})`);
      }
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        if (/argument missing/.test(err.message)) throw new UsageError(`option ${m?.[1] ?? ''} needs a value`);
        if (/ambiguous/.test(err.message)) throw new UsageError(`option ${m?.[1] ?? ''} needs a value; a value starting with "-" is not a valid value here (write ${m?.[1] ?? '--option'}=VALUE to pass one anyway)`);
        throw new UsageError(err.message.split('\n')[0]!);
      default:
        throw new UsageError(err.message.split('\n')[0]!);
    }
  }
  if (parsed.values.help) {
    console.log(helpText(spec));
    return null;
  }
  const values: Record<string, string | number | boolean> = {};
  for (const [name, v] of Object.entries(parsed.values)) {
    if (name === 'help' || v === undefined) continue;
    const o = spec.options[name]!;
    values[name] = o.kind === 'boolean' || o.kind === 'string' ? v : toNumber(name, o.kind, v as string);
  }
  const want = spec.positionals?.length ?? 0;
  if (parsed.positionals.length > want) throw new UsageError(`unexpected argument "${parsed.positionals[want]}": this command takes ${want === 0 ? 'options only' : `only ${spec.positionals!.map((p) => p.name).join(' ')}`}`);
  return {values: values as CliValues<S['options']>, positionals: parsed.positionals};
}

/**
 * Runs a script's main with the course's error convention: a UsageError prints `<name>: error: …`
 * and a pointer to --help (exit 2); any other error prints `[name] error: …` (exit 1).
 */
/**
 * A comma-separated option value: `dflt` when the option is absent, else each non-empty item
 * (trimmed) through `parse` (which throws UsageError for a bad item); an empty list is refused.
 */
export function parseList<T>(s: string | undefined, dflt: T[], parse: (x: string) => T, what: string): T[] {
  if (s === undefined) return dflt;
  const v = s.split(',').map((x) => x.trim()).filter((x) => x !== '').map(parse);
  if (v.length === 0) throw new UsageError(`--${what}: empty list`);
  return v;
}

export function runCli(name: string, main: () => Promise<void>): void {
  main().catch((e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`${name}: ${e.message}\n(--help lists the options)\n`);
      process.exit(2);
    }
    process.stderr.write(`\n[${name}] error: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
