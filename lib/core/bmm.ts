/**
 * Batched matrix product for attention: a [N, M, K] · b [N, K, P] → [N, M, P] (heads folded into
 * N). Plain tf.matMul with autograd (da = dy·bᵀ, db = aᵀ·dy); the speed is in the kernels under the
 * wasm backend: the native OpenBLAS kernels (lib/core/native-kernels.ts, the default in Node) or,
 * on pure wasm, one XNNPACK GEMM per batch item (lib/core/wasm-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {nativeKernelsActive} from './kernel-path';
import {setWasmKernelsPassThrough, wasmKernelsInstalled, wasmKernelsPassThrough} from './wasm-kernels';

export type BmmImpl = 'auto' | 'stock';

/**
 * 'auto' (default) or 'stock': the stock wasm matMul/sum kernels under the pure wasm path (for
 * comparisons and benchmarks; `COURSE_BMM=stock` at start-up). No effect with the native kernels.
 */
export function setBmmImpl(which: BmmImpl): void {
  if (which !== 'auto' && which !== 'stock') throw new Error(`setBmmImpl: expected 'auto' or 'stock' (got "${which}")`);
  setWasmKernelsPassThrough(which === 'stock');
}
if (globalThis.process?.env.COURSE_BMM === 'stock') setBmmImpl('stock'); // no process in a browser

/**
 * Which kernel serves bmm() right now: 'native' (OpenBLAS), 'fast' (per-item XNNPACK GEMMs on
 * pure wasm) or 'stock' (tfjs's own kernel: other backends, or setBmmImpl('stock')).
 */
export function bmmPath(): 'native' | 'fast' | 'stock' {
  if (nativeKernelsActive()) return 'native';
  return tf.getBackend() === 'wasm' && wasmKernelsInstalled() && !wasmKernelsPassThrough() ? 'fast' : 'stock';
}

export function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`bmm: cannot multiply [${a.shape}] by [${b.shape}] (expected [N, M, K] and [N, K, P])`);
  }
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`bmm: float32 tensors only (got ${a.dtype} and ${b.dtype})`);
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
}
