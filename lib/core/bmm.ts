/**
 * Batched matrix products for attention, behind one function so the fastest formulation can be
 * chosen in one place. a: [N, M, K], b: [N, K, P] → [N, M, P].
 *
 * - wasm (tfjs 4.22.0): FastBMM (lib/core/fastbmm.ts), one XNNPACK GEMM per batch item on
 *   zero-copy views; ~5× faster than the stock kernel forward and backward (numbers in
 *   lib/core/README.md, `npm run bench`).
 * - wasm with the native OpenBLAS kernels (lib/core/native-kernels.ts; the default in Node): the
 *   stock formulation below, whose tf.matMul then runs on OpenBLAS.
 * - any other backend or tfjs version (automatic fallback), or `setBmmImpl('stock')`: stock
 *   tf.matMul with a custom gradient that uses explicit transposes (no transpose flags):
 *     da = dy · bᵀ,  db = aᵀ · dy
 * Both give the same numbers up to float32 rounding (test/core/fastbmm.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {fastBmm, fastBmmAvailable} from './fastbmm';
import {nativeKernelsActive} from './kernel-path';

export type BmmImpl = 'auto' | 'stock';

let impl: BmmImpl = globalThis.process?.env.COURSE_BMM === 'stock' ? 'stock' : 'auto'; // no process in a browser

/** 'auto' (default: FastBMM when available) or 'stock' (tf.matMul; for comparisons and benchmarks). */
export function setBmmImpl(which: BmmImpl): void {
  if (which !== 'auto' && which !== 'stock') throw new Error(`setBmmImpl: expected 'auto' or 'stock' (got "${which}")`);
  impl = which;
}

/**
 * Which implementation bmm() uses right now: 'native' (tf.matMul served by the native OpenBLAS
 * kernel, lib/core/native-kernels.ts), 'fast' (FastBMM on wasm) or 'stock'.
 */
export function bmmPath(): 'native' | 'fast' | 'stock' {
  if (impl === 'stock') return 'stock';
  if (nativeKernelsActive()) return 'native';
  return fastBmmAvailable() ? 'fast' : 'stock';
}

const bmmStock = tf.customGrad(((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      if (nativeKernelsActive()) return [tf.matMul(dy, bs, false, true), tf.matMul(as, dy, true, false)]; // OpenBLAS takes flags for free
      return [tf.matMul(dy, tf.transpose(bs, [0, 2, 1])), tf.matMul(tf.transpose(as, [0, 2, 1]), dy)];
    },
  };
}) as any) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

export function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`bmm: cannot multiply [${a.shape}] by [${b.shape}] (expected [N, M, K] and [N, K, P])`);
  }
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`bmm: float32 tensors only (got ${a.dtype} and ${b.dtype})`);
  return bmmPath() === 'fast' ? fastBmm(a as tf.Tensor3D, b as tf.Tensor3D) : bmmStock(a as tf.Tensor3D, b as tf.Tensor3D);
}
