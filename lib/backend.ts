/**
 * The one place that picks the TensorFlow.js backend for lib, notebooks, scripts and tests.
 *
 * Order: `COURSE_BACKEND` (wasm | cpu | tensorflow) if set; otherwise tfjs-node ("tensorflow") when
 * the user has installed `@tensorflow/tfjs-node`, else wasm (XNNPACK + SIMD, single-threaded under
 * Node), else the pure-JS cpu backend. The wasm binaries are read from node_modules: no network.
 * On wasm in Node the course's native kernels (OpenBLAS GEMM and vectorised elementwise kernels,
 * lib/core/native-kernels.ts) serve the hot kernels by default after a self-check against the wasm
 * ones; `COURSE_NATIVE=0` keeps the pure wasm path, `COURSE_THREADS=N` sets OpenBLAS's threads.
 * When they cannot be used, one line on stderr says why and the pure wasm path runs.
 */
import * as tf from '@tensorflow/tfjs';
// Node-only (loads the addon); lib/backend.ts itself is Node-only (require, process.env). Teaching
// modules ask lib/core/kernel-path.ts instead, which a browser bundle can include.
import * as nk from './core/native-kernels';
import {installWasmKernels} from './core/wasm-kernels';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

export interface BackendInfo {
  backend: string;
  requested: string;
  tfjs: string;
  simd?: boolean;
  threads?: number;
  /** wasm only: 'native OpenBLAS kernels (2 threads)' or 'pure wasm (native kernels off: why)' */
  kernels?: string;
  note?: string;
}

let info: BackendInfo | undefined;

function hasModule(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function requestedBackend(): BackendName | 'auto' {
  const env = (process.env.COURSE_BACKEND ?? '').trim().toLowerCase();
  if (env === '' || env === 'auto') return 'auto';
  if (env === 'wasm' || env === 'cpu' || env === 'tensorflow') return env;
  throw new Error(`COURSE_BACKEND must be one of wasm, cpu, tensorflow or auto (got "${process.env.COURSE_BACKEND}")`);
}

async function tryBackend(name: BackendName): Promise<boolean> {
  if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  if (name === 'tensorflow') {
    if (!hasModule('@tensorflow/tfjs-node')) return false;
    require('@tensorflow/tfjs-node');
  }
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Initialise the backend once (later calls return the same info). `prefer` overrides the
 * environment, e.g. `initBackend('cpu')` in a test that needs the reference backend.
 */
export async function initBackend(prefer?: BackendName): Promise<BackendInfo> {
  const requested = prefer ?? requestedBackend();
  tf.enableProdMode(); // silences tfjs's "install tfjs-node" banner; DEBUG checks stay off as by default
  if (info && (prefer === undefined || tf.getBackend() === prefer)) return info;
  const order: BackendName[] = requested === 'auto'
    ? (hasModule('@tensorflow/tfjs-node') ? ['tensorflow', 'wasm', 'cpu'] : ['wasm', 'cpu'])
    : [requested, ...(requested === 'cpu' ? [] : ['cpu' as const])];
  let chosen: BackendName | undefined;
  for (const name of order) {
    if (await tryBackend(name)) { chosen = name; break; }
  }
  if (!chosen) throw new Error(`no TensorFlow.js backend could be initialised (tried ${order.join(', ')})`);
  await tf.ready();
  info = {backend: chosen, requested, tfjs: tf.version.tfjs};
  if (chosen === 'wasm') {
    info.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    // getThreadsCount is a function of the wasm package, not a method of the backend object
    const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as {getThreadsCount?: () => number};
    info.threads = wasmPkg.getThreadsCount?.() ?? 1;
    installWasmKernels(); // pure wasm's fast matMul/sum kernels (wasm-kernels.ts), under the native ones
    info.kernels = startNativeKernels();
  }
  if (requested !== 'auto' && chosen !== requested) info.note = `${requested} unavailable, fell back to ${chosen}`;
  return info;
}

/** The native kernels on wasm unless COURSE_NATIVE=0; returns their one-line status. */
function startNativeKernels(): string {
  const want = nk.nativeRequested();
  if (!want.on) {
    nk.disableNativeKernels();
    return `pure wasm (native kernels off: ${want.why})`;
  }
  const r = nk.enableNativeKernels();
  if (!r.active) console.warn(`[course] native kernels not used: ${r.reason}; running the pure wasm path (slower)`);
  return nk.nativeStatus();
}

/**
 * One line for logs and notebooks, e.g.
 * `tfjs 4.22.0, backend wasm (SIMD, 1 thread) + native OpenBLAS kernels (2 threads)`.
 */
export function describeBackend(i: BackendInfo | undefined = info): string {
  if (!i) return 'backend not initialised (call initBackend())';
  const extra = i.backend === 'wasm' ? ` (${i.simd ? 'SIMD' : 'no SIMD'}, ${i.threads} thread${i.threads === 1 ? '' : 's'})` : '';
  const kernels = i.kernels ? (i.kernels.startsWith('native') ? ` + ${i.kernels}` : `, ${i.kernels}`) : '';
  return `tfjs ${i.tfjs}, backend ${i.backend}${extra}${kernels}${i.note ? `; ${i.note}` : ''}`;
}
