/**
 * Column sums of a matrix, x: [N, D] → [D] — the bias and LayerNorm-affine gradients.
 * On wasm `tf.sum(x, 0)` reduces a non-innermost axis, which the wasm Sum kernel does with a full
 * transpose first; `ones[1, N] · x` is one flag-free rank-2 GEMM (XNNPACK, or OpenBLAS with the
 * native GEMM): ~70 ms against ~2 ms for [8320, 384] on the (loaded) bench machine, same numbers
 * to float32 rounding (test/core/formulations*.test.ts). Other backends keep tf.sum.
 */
import * as tf from '@tensorflow/tfjs';

export function sumRows(x: tf.Tensor): tf.Tensor1D {
  if (x.rank !== 2) throw new Error(`sumRows: expected a matrix [N, D], got [${x.shape}]`);
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.sum(x, 0) as tf.Tensor1D;
  const [n, d] = x.shape as [number, number];
  return tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, n]), x as tf.Tensor2D), [d]) as tf.Tensor1D); // [D]
}
