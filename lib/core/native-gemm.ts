/**
 * Optional native GEMM for the wasm backend: OpenBLAS through a small N-API addon
 * (lib/core/native/course_gemm.c, built by `bash scripts/bench/build-native-gemm.sh` into
 * build/native/course_gemm.node). When enabled it replaces the wasm backend's `BatchMatMul` kernel:
 * every matMul (rank 2 or batched, with or without transpose flags) runs as cblas_sgemm calls that
 * read and write the wasm heap in place (no copies). Anything it does not handle (non-float32,
 * general batch broadcasting, a threaded/shared heap) goes to the stock kernel.
 *
 * Opt-in: `COURSE_NATIVE_GEMM=1` (lib/backend.ts calls `enableNativeGemm()` after initialising
 * wasm) or call `enableNativeGemm()` yourself. Without the addon, on another backend or tfjs
 * version, nothing changes (the pure wasm path). Numbers equal the wasm path to float32 rounding
 * (test/core/native-gemm-wasm.test.ts); speed in lib/core/README.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const NATIVE_GEMM_TFJS_VERSION = '4.22.0';
export const NATIVE_GEMM_ADDON = path.resolve(__dirname, '..', '..', 'build', 'native', 'course_gemm.node');

interface Addon {
  sgemmBatch(heap: ArrayBuffer, batch: number, M: number, N: number, K: number, aOff: number, bOff: number, cOff: number,
    aStride: number, bStride: number, transA: boolean, transB: boolean): void;
  setThreads(n: number): void;
  getThreads(): number;
  unary?(heap: ArrayBuffer, op: number, inOff: number, outOff: number, n: number): void;
}

interface WasmInternals {
  wasm: {HEAPU8: Uint8Array};
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined};
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

let addon: Addon | null | undefined;
let loadError = '';
let stockConfig: tf.KernelConfig | undefined;
const stockUnary: Record<string, tf.KernelConfig> = {};
// Elementwise kernels whose wasm versions are scalar loops: exp 18 ms, erf 33 ms per 2.1 M floats
// here, vs 0.6 / 0.3 ms vectorised in the addon (lib/core/native/course_gemm.c). GELU and its
// gradient use them on every FFN activation.
const UNARY_OPS: Record<string, number> = {Exp: 0, Erf: 1};
let active = false;
let wantThreads = 1;   // OpenBLAS threads for large GEMMs
let curThreads = -1;   // what OpenBLAS is set to now
// Per-item M·N·K below which a GEMM runs on 1 OpenBLAS thread: attention's many small products
// ([65,64]·[64,65]) were 100× slower with 2 threads on a loaded 2-vCPU machine (thread hand-off).
const THREADED_MIN_MNK = 1 << 22;

/** Loads the addon once; null (with the reason in nativeGemmStatus()) when it is not built or fails. */
function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  if (!fs.existsSync(NATIVE_GEMM_ADDON)) {
    loadError = `not built (${path.relative(process.cwd(), NATIVE_GEMM_ADDON)} missing; run bash scripts/bench/build-native-gemm.sh)`;
    return (addon = null);
  }
  try {
    addon = require(NATIVE_GEMM_ADDON) as Addon;
  } catch (e) {
    loadError = `failed to load: ${e instanceof Error ? e.message : e}`;
    addon = null;
  }
  return addon;
}

export function nativeGemmAvailable(): boolean {
  return loadAddon() !== null;
}

export function nativeGemmActive(): boolean {
  return active && tf.getBackend() === 'wasm';
}

export function nativeGemmStatus(): string {
  if (nativeGemmActive()) return `native GEMM on (OpenBLAS, ${wantThreads} thread${wantThreads === 1 ? '' : 's'} for large GEMMs)`;
  return nativeGemmAvailable() ? 'native GEMM built, off' : `native GEMM ${loadError}`;
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

function nativeBatchMatMul(args: {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap}): tf.TensorInfo | tf.TensorInfo[] {
  const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo};
  const {transposeA, transposeB} = (args.attrs ?? {}) as {transposeA: boolean; transposeB: boolean};
  const be = args.backend as WasmInternals;
  const heap0 = be.wasm.HEAPU8.buffer;
  const ra = a.shape.length, rb = b.shape.length;
  const stock = () => stockConfig!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !(heap0 instanceof ArrayBuffer) || ra < 2 || rb < 2) return stock();
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = prod(outerA), batchB = prod(outerB);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (K !== Kb || !(sameOuter || batchA === 1 || batchB === 1)) return stock(); // errors and general broadcasting: stock
  const outOuter = batchA === 1 && !sameOuter ? (outerB.length >= outerA.length ? outerB : outerA) : outerA.length >= outerB.length ? outerA : outerB;
  if (prod(outOuter) !== Math.max(batchA, batchB)) return stock();
  const out = be.makeOutput([...outOuter, M, N], 'float32');
  const heap = be.wasm.HEAPU8.buffer as ArrayBuffer; // after makeOutput: malloc may have grown the heap
  const threads = M * N * K >= THREADED_MIN_MNK ? wantThreads : 1;
  if (threads !== curThreads) { addon!.setThreads(threads); curThreads = threads; }
  addon!.sgemmBatch(heap, Math.max(batchA, batchB), M, N, K,
    be.dataIdMap.get(a.dataId)!.memoryOffset, be.dataIdMap.get(b.dataId)!.memoryOffset, be.dataIdMap.get(out.dataId)!.memoryOffset,
    batchA === 1 ? 0 : M * K, batchB === 1 ? 0 : K * N, Boolean(transposeA), Boolean(transposeB));
  return out;
}

function nativeUnary(kernelName: string) {
  return (args: {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap}): tf.TensorInfo | tf.TensorInfo[] => {
    const {x} = args.inputs as {x: tf.TensorInfo};
    const be = args.backend as WasmInternals;
    if (x.dtype !== 'float32' || !(be.wasm.HEAPU8.buffer instanceof ArrayBuffer)) return stockUnary[kernelName]!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    const out = be.makeOutput(x.shape, 'float32');
    const n = prod(x.shape);
    if (n > 0) addon!.unary!(be.wasm.HEAPU8.buffer as ArrayBuffer, UNARY_OPS[kernelName]!, be.dataIdMap.get(x.dataId)!.memoryOffset, be.dataIdMap.get(out.dataId)!.memoryOffset, n);
    return out;
  };
}

/**
 * Serves the wasm BatchMatMul kernel with OpenBLAS (and Exp / Erf with the addon's vectorised loops
 * when the addon has them). Returns true when active; false (nothing changed)
 * when the addon is missing, the backend is not wasm, tfjs is not the pinned version, or the wasm
 * heap is shared (threaded build). `threads`: OpenBLAS threads for large GEMMs (default 1; small
 * per-item GEMMs always use 1).
 */
export function enableNativeGemm(opts: {threads?: number} = {}): boolean {
  if (tf.getBackend() !== 'wasm' || tf.version.tfjs !== NATIVE_GEMM_TFJS_VERSION) return false;
  const be = tf.backend() as unknown as Partial<WasmInternals>;
  if (!(be.wasm?.HEAPU8?.buffer instanceof ArrayBuffer) || typeof be.makeOutput !== 'function' || be.dataIdMap === undefined) return false;
  const lib = loadAddon();
  if (!lib) return false;
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error(`enableNativeGemm: threads must be a positive integer (got ${opts.threads})`);
    wantThreads = opts.threads;
  }
  if (active) return true;
  stockConfig = tf.getKernel('BatchMatMul', 'wasm');
  if (!stockConfig) return false;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: nativeBatchMatMul as unknown as tf.KernelFunc});
  if (typeof lib.unary === 'function') {
    for (const name of Object.keys(UNARY_OPS)) {
      const k = tf.getKernel(name, 'wasm');
      if (!k) continue;
      stockUnary[name] = k;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({kernelName: name, backendName: 'wasm', kernelFunc: nativeUnary(name) as unknown as tf.KernelFunc});
    }
  }
  active = true;
  return true;
}

/** Puts the stock wasm BatchMatMul (and Exp, Erf) kernels back. */
export function disableNativeGemm(): void {
  if (!active || !stockConfig) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(stockConfig);
  for (const [name, k] of Object.entries(stockUnary)) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(k);
    delete stockUnary[name];
  }
  active = false;
}
