/**
 * `process` and `Buffer` in the browser runner (injected into the bundle; also globals for the cells):
 * the environment the lib reads (COURSE_MODE is set by the runner's quick/full switch) and
 * /course as the working directory. `versions.node` stays undefined, so tfjs knows it is in a browser.
 */
const g = globalThis as {process?: unknown};
export const process: any = g.process ?? {
  env: {COURSE_MODE: 'quick'} as Record<string, string | undefined>,
  cwd: () => '/course',
  platform: 'browser',
  argv: [],
  pid: 1,
  browser: true,
  exit: (code?: number) => { throw new Error(`process.exit(${code ?? ''}) is not available in the browser runner`); },
  on: () => process,
  nextTick: (f: (...a: unknown[]) => void, ...a: unknown[]) => { queueMicrotask(() => f(...a)); },
  hrtime: Object.assign((prev?: [number, number]) => {
    const t = performance.now(), s = Math.floor(t / 1000), ns = Math.round((t % 1000) * 1e6);
    return prev ? [s - prev[0], ns - prev[1]] : [s, ns];
  }, {bigint: () => BigInt(Math.round(performance.now() * 1e6))}),
  memoryUsage: () => ({rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0}),
};
g.process = process;

// Node's Buffer, which chapters use (Buffer.from(base64)): the `buffer` package, as browserify ships it
import {Buffer as BrowserBuffer} from 'buffer';
export const Buffer: typeof BrowserBuffer = (globalThis as {Buffer?: typeof BrowserBuffer}).Buffer ?? BrowserBuffer;
(globalThis as {Buffer?: typeof BrowserBuffer}).Buffer = Buffer;
