/**
 * The browser runner's kernel: a Web Worker (module) that runs a chapter's cells one after the
 * other with shared state, like tslab. The page (site/runner/page.js) sends
 *   {type: 'init', base, mode, backend}   base: the site root URL; mode: quick | full
 *   {type: 'run', id, code}               one cell's TypeScript
 * and gets back
 *   {type: 'ready', backend}                         the backend line
 *   {type: 'stream', id, name, text}                 console output (stdout / stderr)
 *   {type: 'display', id, bundle, displayId, update} showTable/showChart/showSvg/showPng, progress bars
 *   {type: 'done', id, ok, seconds, error?}          error: {name, message, line?, stack}
 * Cells import the course's own modules (`../lib/...`, `../display/...`, bundled for the browser by
 * site/runner/bundle.ts), `@tensorflow/tfjs`, and `fs`/`path` (the site's data API, shims/fs.ts).
 * Stop and Restart are the page's: it terminates this worker and starts a new one.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {modules, nodeOnly} from 'course:registry';
import {describeBackend, initBackend, setWasmBase} from './shims/backend';
import {normalize} from './shims/path';
import {compileCell} from './transpile';

type Msg = {type: 'init'; base: string; mode: string; backend: string} | {type: 'run'; id: number; code: string};

const post = (m: unknown): void => (self as unknown as {postMessage(m: unknown): void}).postMessage(m);
let current = 0;

// ---- output: console, displays, progress bars -----------------------------------------------

function inspect(v: unknown, depth = 0, seen = new Set<unknown>()): string {
  if (typeof v === 'string') return depth === 0 ? v : `'${v.replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'undefined' || v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'function') return `[${/^class\s/.test(Function.prototype.toString.call(v)) ? 'class' : 'Function'}: ${v.name || '(anonymous)'}]`;
  if (v instanceof Error) return v.stack ?? `${v.name}: ${v.message}`;
  if (v instanceof tf.Tensor) return v.toString();
  if (seen.has(v)) return '[Circular *1]';
  if (depth > 2) return Array.isArray(v) ? '[Array]' : '[Object]';
  seen.add(v);
  try {
    const list = (items: string[], more: number, open: string, close: string) => {
      const all = more > 0 ? [...items, `... ${more} more item${more > 1 ? 's' : ''}`] : items;
      if (!all.length) return `${open}${close}`;
      const one = `${open} ${all.join(', ')} ${close}`;
      return one.length <= 72 ? one : `${open}\n${all.map(s => '  '.repeat(depth + 1) + s).join(',\n')}\n${'  '.repeat(depth)}${close}`;
    };
    if (Array.isArray(v)) return list(v.slice(0, 100).map(x => inspect(x, depth + 1, seen)), v.length - 100, '[', ']');
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as ArrayLike<number>;
      return `${v.constructor.name}(${a.length}) ` + list(Array.from({length: Math.min(a.length, 100)}, (_, i) => inspect(a[i], depth + 1, seen)), a.length - 100, '[', ']');
    }
    if (v instanceof Map) return `Map(${v.size}) ` + list([...v].slice(0, 100).map(([k, x]) => `${inspect(k, depth + 1, seen)} => ${inspect(x, depth + 1, seen)}`), v.size - 100, '{', '}');
    if (v instanceof Set) return `Set(${v.size}) ` + list([...v].slice(0, 100).map(x => inspect(x, depth + 1, seen)), v.size - 100, '{', '}');
    if (v instanceof Date) return v.toISOString();
    const proto = Object.getPrototypeOf(v);
    const name = proto && proto !== Object.prototype && proto.constructor?.name ? `${proto.constructor.name} ` : '';
    const key = (k: string) => /^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`;
    return name + list(Object.entries(v as object).map(([k, x]) => `${key(k)}: ${inspect(x, depth + 1, seen)}`), 0, '{', '}');
  } finally {
    seen.delete(v);
  }
}

/** Node's util.format: %s %d %i %f %j %o %O %% in a first string argument, the rest joined by spaces. */
export function format(args: unknown[]): string {
  let rest = args;
  let head = '';
  if (typeof args[0] === 'string' && args.length > 1 && /%[sdifjoO%]/.test(args[0])) {
    let k = 1;
    head = args[0].replace(/%([sdifjoO%])/g, (m, c: string) => {
      if (c === '%') return '%';
      if (k >= args.length) return m;
      const a = args[k++];
      switch (c) {
        case 's': return typeof a === 'string' ? a : inspect(a, 1);
        case 'd': case 'i': { const n = Number(a); return String(c === 'i' ? Math.trunc(n) : n); }
        case 'f': return String(parseFloat(String(a)));
        case 'j': return JSON.stringify(a);
        default: return inspect(a, 1);
      }
    });
    rest = args.slice(k);
    return [head, ...rest.map(a => inspect(a))].join(' ');
  }
  return rest.map(a => inspect(a)).join(' ');
}

const streams: [keyof Console, 'stdout' | 'stderr'][] = [['log', 'stdout'], ['info', 'stdout'], ['debug', 'stdout'], ['warn', 'stderr'], ['error', 'stderr']];
for (const [k, name] of streams) {
  (console as any)[k] = (...args: unknown[]) => post({type: 'stream', id: current, name, text: format(args) + '\n'});
}

type Bundle = {data: Record<string, unknown>; metadata: Record<string, unknown>; transient?: {display_id?: string}};
(globalThis as any).__courseDisplay = (b: Bundle) => post({type: 'display', id: current, bundle: {data: b.data, metadata: b.metadata}});
// lib/progress.ts draws its bar through this hook (one display, updated in place)
(globalThis as any).__courseKernel = {
  display(b: Bundle, update: boolean): boolean {
    post({type: 'display', id: current, bundle: {data: b.data, metadata: b.metadata}, displayId: b.transient?.display_id, update});
    return true;
  },
};

// ---- modules --------------------------------------------------------------------------------

/** A cell's import: specifiers are resolved from chapters/, as tslab resolves them from the notebook. */
export async function importForCell(spec: string): Promise<unknown> {
  const bare = spec.replace(/^node:/, '');
  if (bare === '@tensorflow/tfjs' || bare === '@tensorflow/tfjs-core') return tf;
  if (bare === 'fs' || bare === 'path') return modules[bare];
  if (bare === 'buffer') return {Buffer: (globalThis as {Buffer?: unknown}).Buffer};
  if (!spec.startsWith('.')) {
    throw new Error(`Cannot import "${spec}" in the browser runner: cells may import the course's lib/ and display/ modules, @tensorflow/tfjs, fs and path (the site's data API) and buffer`);
  }
  const key = normalize(`chapters/${spec}`).replace(/\.(ts|js)$/, '');
  const m = modules[key] ?? modules[`${key}/index`];
  if (m) return m;
  if (nodeOnly.includes(key)) throw new Error(`${key}.ts is Node-only (it loads a native addon or Node's worker threads) and does not run in the browser; run this chapter in Jupyter for it`);
  throw new Error(`Cannot find module "${spec}" (${key}.ts): not a module of the course's lib/ or display/`);
}

// ---- running cells --------------------------------------------------------------------------

const AsyncFunction = Object.getPrototypeOf(async function () { /* */ }).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
const scope: Record<string, unknown> = Object.create(null);
let tsModule: Promise<typeof import('typescript')> | undefined;
let headerLines: number | undefined;

/** Lines the engine puts before an AsyncFunction's body (its `async function anonymous(…) {` header). */
async function bodyOffset(): Promise<number> {
  if (headerLines !== undefined) return headerLines;
  try {
    await new AsyncFunction('a', 'throw new Error("probe")\n//# sourceURL=course-probe.js')();
  } catch (e) {
    const m = /course-probe\.js:(\d+)/.exec(String((e as Error).stack));
    headerLines = m ? Number(m[1]) - 1 : 2;
  }
  return headerLines ?? 2;
}

function describeResult(v: unknown): Record<string, unknown> {
  return {'text/plain': typeof v === 'string' ? `'${v}'` : inspect(v, 1)};
}

async function run(id: number, code: string): Promise<void> {
  current = id;
  const t0 = performance.now();
  const done = (ok: boolean, error?: unknown) => post({type: 'done', id, ok, seconds: (performance.now() - t0) / 1000, error});
  tsModule ??= import('typescript').then(m => ((m as any).default ?? m) as typeof import('typescript'));
  const ts = await tsModule;
  const c = compileCell(ts, code);
  if (c.error) { done(false, {name: 'SyntaxError', message: c.error.message.replace(/^SyntaxError: /, ''), line: c.error.line, column: c.error.column}); return; }
  for (const n of c.names) if (!(n in scope)) scope[n] = undefined;
  const file = `cell-${id}.js`;
  const offset = await bodyOffset();
  try {
    const f = new AsyncFunction('__scope', '__import', `${c.body}\n//# sourceURL=${file}`);
    const result = await f(scope, importForCell);
    if (result !== undefined) post({type: 'display', id, bundle: {data: describeResult(result), metadata: {}}});
    done(true);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const stack = String(err.stack ?? '');
    const m = new RegExp(`${file.replace('.', '\\.')}:(\\d+):(\\d+)`).exec(stack);
    const line = m ? c.lineOf(Number(m[1]) - offset) : undefined;
    done(false, {name: err.name, message: err.message, line, stack: stack.split('\n').filter(l => !l.includes('kernel.js') || l.includes(file)).slice(0, 8).join('\n')});
  }
}

// one message at a time: a cell starts when the previous one has finished
let queue: Promise<void> = Promise.resolve();
self.addEventListener('message', (ev: MessageEvent<Msg>) => {
  const m = ev.data;
  queue = queue.then(async () => {
    if (m.type === 'init') {
      const env = (globalThis as any).process.env as Record<string, string>;
      env.COURSE_MODE = m.mode === 'full' ? 'full' : 'quick';
      env.COURSE_BACKEND = m.backend || 'auto';
      try {
        const r = await fetch(`${m.base}runner/files.json`);
        (globalThis as any).__courseFiles = {base: m.base, files: r.ok ? (await r.json()).files : {}};
        setWasmBase(`${m.base}assets/vendor/`);
        await initBackend();
        post({type: 'ready', backend: describeBackend(), mode: env.COURSE_MODE});
      } catch (e) {
        post({type: 'ready', error: String((e as Error).message ?? e)});
      }
    } else if (m.type === 'run') {
      await run(m.id, m.code);
    }
  });
});
