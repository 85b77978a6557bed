/**
 * Kernels for the pure wasm path (no native kernels: COURSE_NATIVE=0, or the addon not built),
 * registered under the wasm backend so that lib's teaching code can stay the maths — `x·W + b`
 * with autograd (lib/core/linear.ts), `softmax(QKᵀ/√d)V` with tf.matMul (bmm.ts) — and still reach
 * XNNPACK's GEMM, the only fast kernel tfjs-wasm has for matrix products.
 *
 * Why: the stock wasm `BatchMatMul` reaches XNNPACK only for one flag-free product; transpose flags
 * (every matMul gradient uses them) or a real batch (attention's [B·H, T, Dh] products) run a scalar
 * triple loop at 1–2 GFLOP/s. The stock `Sum` transposes its input to reduce a leading axis (the
 * bias gradient autograd takes of every `+ b`). Measured per formulation in lib/core/README.md.
 *
 * - `BatchMatMul` (float32): transpose flags become explicit transposes (the Transpose kernel), then
 *   each batch item is one flag-free XNNPACK GEMM on zero-copy *views* into the wasm heap (the
 *   backend's own `register_tensor(id, size, offset)` pointing inside the parent buffers, dropped
 *   again with `dispose_data`, which frees nothing). Batch-1 broadcasting included.
 * - `Sum` over leading axes (float32): x [N, D] → ones[1, N]·x, one GEMM.
 * Anything else goes to the stock kernels. The native kernels (native-kernels.ts), when on, replace
 * these in turn (and fall back to them).
 *
 * This reads backend internals (`dataIdMap`, `memoryOffset`, `dataIdNextNumber`,
 * `wasm.tfjs.registerTensor/disposeData`, the `BatchMatMul` C export), so `installWasmKernels()`
 * does nothing unless the backend is wasm of tfjs 4.22.0 with those internals; `setBmmImpl('stock')`
 * (bmm.ts) makes these kernels pass everything to the stock ones, for comparisons. Browser-safe.
 * Tests: test/core/wasm-kernels-wasm.test.ts, test/core/formulations-wasm.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

/** The tfjs-backend-wasm version whose internals these kernels were written and tested against. */
export const WASM_KERNELS_TFJS_VERSION = '4.22.0';

type CFunc = (...args: unknown[]) => void;
type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

interface WasmInternals {
  wasm: {HEAPU8: Uint8Array; cwrap: (name: string, ret: null, args: string[]) => CFunc; tfjs: {registerTensor: CFunc; disposeData: CFunc}};
  dataIdMap: {get(dataId: object): {id: number; memoryOffset: number} | undefined};
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

const stock: Record<string, tf.KernelConfig> = {};
let passThrough = false;          // setWasmKernelsPassThrough(true): everything to the stock kernels
let cBatchMatMul: CFunc | undefined;
let fastCalls = 0;                // kernel calls served by the per-item GEMMs (for tests)
const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
const runStock = (name: string, args: KernelArgs) => stock[name]!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;

/** x with its last two axes swapped, by the Transpose kernel registered now (a new buffer). */
function swapLast(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const r = x.shape.length, perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
  return tf.getKernel('Transpose', 'wasm')!.kernelFunc({inputs: {x}, backend, attrs: {perm}} as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** out[i] = a[i]·b[i] for contiguous [batch, M, K] and [batch, K, N] (stride 0: one matrix for all), one XNNPACK GEMM each. */
function perItemGemm(be: WasmInternals, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, batch: number, M: number, K: number, N: number, aStride: number, bStride: number): void {
  fastCalls++;
  cBatchMatMul ??= be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const aOff = be.dataIdMap.get(a.dataId)!.memoryOffset, bOff = be.dataIdMap.get(b.dataId)!.memoryOffset, oOff = be.dataIdMap.get(out.dataId)!.memoryOffset;
  const {registerTensor, disposeData} = be.wasm.tfjs;
  const aShape = new Uint8Array(new Int32Array([1, M, K]).buffer), bShape = new Uint8Array(new Int32Array([1, K, N]).buffer);
  for (let i = 0; i < batch; i++) {
    const ia = be.dataIdNextNumber++, ib = be.dataIdNextNumber++, io = be.dataIdNextNumber++;
    registerTensor(ia, M * K, aOff + 4 * i * aStride);
    registerTensor(ib, K * N, bOff + 4 * i * bStride);
    registerTensor(io, M * N, oOff + 4 * i * M * N);
    cBatchMatMul(ia, aShape, 3, ib, bShape, 3, false, false, io);
    disposeData(ia);
    disposeData(ib);
    disposeData(io);
  }
}

function wasmBatchMatMul(args: KernelArgs): tf.TensorInfo {
  const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo};
  const {transposeA, transposeB} = (args.attrs ?? {}) as {transposeA: boolean; transposeB: boolean};
  const be = args.backend as WasmInternals;
  const ra = a.shape.length, rb = b.shape.length;
  if (passThrough || a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return runStock('BatchMatMul', args);
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!, Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!, N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2), batchA = prod(outerA), batchB = prod(outerB);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (K !== Kb || !(sameOuter || batchA === 1 || batchB === 1) || M * N * K === 0) return runStock('BatchMatMul', args); // errors, empty, general broadcasting
  if (!transposeA && !transposeB && batchA === 1 && batchB === 1) return runStock('BatchMatMul', args); // already XNNPACK
  const outOuter = batchA === 1 && !sameOuter ? (outerB.length >= outerA.length ? outerB : outerA) : outerA.length >= outerB.length ? outerA : outerB;
  if (prod(outOuter) !== Math.max(batchA, batchB)) return runStock('BatchMatMul', args);
  const at = transposeA ? swapLast(a, be) : a, bt = transposeB ? swapLast(b, be) : b; // [.., M, K], [.., K, N]
  const out = be.makeOutput([...outOuter, M, N], 'float32');
  perItemGemm(be, at, bt, out, Math.max(batchA, batchB), M, K, N, batchA === 1 ? 0 : M * K, batchB === 1 ? 0 : K * N);
  if (at !== a) be.disposeData(at.dataId);
  if (bt !== b) be.disposeData(bt.dataId);
  return out;
}

function wasmSum(args: KernelArgs): tf.TensorInfo {
  const be = args.backend as WasmInternals, x = args.inputs.x as tf.TensorInfo;
  const {axis, keepDims} = args.attrs as {axis: number | number[]; keepDims: boolean};
  const r = x.shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)))].sort((p, q) => p - q);
  const k = axes.length, N = prod(x.shape.slice(0, k)), D = prod(x.shape.slice(k));
  if (passThrough || x.dtype !== 'float32' || k === 0 || k === r || !axes.every((a, i) => a === i) || N * D === 0) return runStock('Sum', args);
  const ones = be.makeOutput([1, N], 'float32');
  new Float32Array(be.wasm.HEAPU8.buffer, be.dataIdMap.get(ones.dataId)!.memoryOffset, N).fill(1);
  const out = be.makeOutput([1, D], 'float32');
  perItemGemm(be, ones, x, out, 1, 1, N, D, 0, 0); // ones[1, N]·x[N, D]
  be.disposeData(ones.dataId);
  return {dataId: out.dataId, dtype: 'float32', shape: keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k)};
}

/** True when the current backend is wasm of the pinned version with the internals these kernels use. */
export function wasmKernelsAvailable(): boolean {
  if (tf.getBackend() !== 'wasm' || tf.version.tfjs !== WASM_KERNELS_TFJS_VERSION) return false;
  const be = tf.backend() as unknown as Partial<WasmInternals>;
  return typeof be.dataIdNextNumber === 'number' && be.dataIdMap !== undefined && typeof be.makeOutput === 'function' &&
    typeof be.wasm?.cwrap === 'function' && typeof be.wasm?.tfjs?.registerTensor === 'function' && typeof be.wasm?.tfjs?.disposeData === 'function';
}

/** Registers the kernels above for wasm (once; before the native kernels). Returns whether they are installed. */
export function installWasmKernels(): boolean {
  if (Object.keys(stock).length > 0) return true;
  if (!wasmKernelsAvailable()) return false;
  for (const [name, fn] of Object.entries({BatchMatMul: wasmBatchMatMul, Sum: wasmSum})) {
    stock[name] = tf.getKernel(name, 'wasm')!;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc});
  }
  return true;
}

/** True once installWasmKernels() has registered them. */
export function wasmKernelsInstalled(): boolean {
  return Object.keys(stock).length > 0;
}

/** true: the kernels above pass everything to the stock wasm kernels (for comparisons and benchmarks). */
export function setWasmKernelsPassThrough(on: boolean): void {
  passThrough = on;
}

/** How many kernel calls the per-item GEMMs above have served (tests check the fast path ran). */
export function wasmKernelCalls(): number {
  return fastCalls;
}

export function wasmKernelsPassThrough(): boolean {
  return passThrough;
}
