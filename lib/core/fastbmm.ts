/**
 * FastBMM — a batched matMul for the wasm backend that reaches XNNPACK's GEMM.
 *
 * Why: the stock wasm `BatchMatMul` uses XNNPACK only for batch 1 without transpose flags; any
 * real batch (attention's [B·H, T, Dh] products) runs a scalar triple loop at 1–2 GFLOP/s.
 * How: one kernel call walks the batch and, per item, registers three zero-copy *views* into the
 * wasm heap (the backend's own `register_tensor(id, size, offset)` with an offset inside the
 * parent buffer), runs the stock batch-1 flag-free `BatchMatMul` on them (XNNPACK) and drops the
 * views again (`dispose_data` forgets the id and the cached XNNPACK operator; nothing is freed).
 * The gradient is a custom one with explicit rank-3 transposes, so it is fast as well:
 *   da = dy · bᵀ,  db = aᵀ · dy
 *
 * This uses backend internals (`dataIdMap`, `memoryOffset`, `dataIdNextNumber`,
 * `wasm.tfjs.registerTensor/disposeData`, the `BatchMatMul` C export), so it is pinned to the
 * tfjs version below; `fastBmmAvailable()` is false on any other backend or version and callers
 * (lib/core/bmm.ts) then use the stock path. Tests: test/core/fastbmm.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

/** The tfjs-backend-wasm version whose internals this kernel was written and tested against. */
export const FAST_BMM_TFJS_VERSION = '4.22.0';
export const FAST_BMM_KERNEL = 'CourseFastBMM';

type CFunc = (...args: unknown[]) => void;

interface WasmInternals {
  wasm: {cwrap: (name: string, ret: null, args: string[]) => CFunc; tfjs: {registerTensor: CFunc; disposeData: CFunc}};
  dataIdMap: {get(dataId: object): {id: number; memoryOffset: number} | undefined};
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

let cBatchMatMul: CFunc | undefined;

/** Per batch item: out[i] = a[i] · b[i] on XNNPACK via zero-copy views. a: [N, M, K], b: [N, K, P]. */
function fastBmmKernel({inputs, backend}: {inputs: tf.NamedTensorInfoMap; backend: unknown}): tf.TensorInfo {
  const be = backend as WasmInternals;
  const a = inputs.a!, b = inputs.b!;
  const [N, M, K] = a.shape as [number, number, number];
  const P = b.shape[2]!;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`fastBmm: float32 only (got ${a.dtype}, ${b.dtype})`);
  if (b.shape[0] !== N || b.shape[1] !== K) throw new Error(`fastBmm: cannot multiply [${a.shape}] by [${b.shape}]`);
  cBatchMatMul ??= be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const out = be.makeOutput([N, M, P], 'float32');
  const aOff = be.dataIdMap.get(a.dataId)!.memoryOffset;
  const bOff = be.dataIdMap.get(b.dataId)!.memoryOffset;
  const oOff = be.dataIdMap.get(out.dataId)!.memoryOffset;
  const {registerTensor, disposeData} = be.wasm.tfjs;
  const aShape = new Uint8Array(new Int32Array([1, M, K]).buffer);
  const bShape = new Uint8Array(new Int32Array([1, K, P]).buffer);
  for (let i = 0; i < N; i++) {
    const ia = be.dataIdNextNumber++, ib = be.dataIdNextNumber++, io = be.dataIdNextNumber++;
    registerTensor(ia, M * K, aOff + 4 * i * M * K);
    registerTensor(ib, K * P, bOff + 4 * i * K * P);
    registerTensor(io, M * P, oOff + 4 * i * M * P);
    cBatchMatMul(ia, aShape, 3, ib, bShape, 3, false, false, io);
    disposeData(ia);
    disposeData(ib);
    disposeData(io);
  }
  return out;
}

if (tf.getKernel(FAST_BMM_KERNEL, 'wasm') === undefined) {
  tf.registerKernel({kernelName: FAST_BMM_KERNEL, backendName: 'wasm', kernelFunc: fastBmmKernel as unknown as tf.KernelFunc});
}

/** True when the current backend is wasm of the pinned version with the internals FastBMM uses. */
export function fastBmmAvailable(): boolean {
  if (tf.getBackend() !== 'wasm' || tf.version.tfjs !== FAST_BMM_TFJS_VERSION) return false;
  const be = tf.backend() as unknown as Partial<WasmInternals>;
  return typeof be.dataIdNextNumber === 'number' && be.dataIdMap !== undefined && typeof be.makeOutput === 'function' &&
    typeof be.wasm?.cwrap === 'function' && typeof be.wasm?.tfjs?.registerTensor === 'function' && typeof be.wasm?.tfjs?.disposeData === 'function';
}

function rawFastBmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.shape[0] === 0 || a.shape[1] === 0 || a.shape[2] === 0 || b.shape[2] === 0) return tf.matMul(a, b); // empty: stock handles it
  return tf.engine().runKernel(FAST_BMM_KERNEL, {a, b} as unknown as tf.NamedTensorMap, {}) as tf.Tensor3D;
}

const tr = (x: tf.Tensor3D) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;

/** a: [N, M, K], b: [N, K, P] → [N, M, P] with a flag-free custom gradient. Only when fastBmmAvailable(). */
export const fastBmm = tf.customGrad(((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: rawFastBmm(a, b),                                   // [N, M, P]
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [rawFastBmm(dy, tr(bs)), rawFastBmm(tr(as), dy)]; // [N, M, K], [N, K, P]
    },
  };
}) as any) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;
