/**
 * Dense (linear) layer — y = x W + b, with W stored [inDim, outDim].
 *
 * Written for the wasm backend (see docs cited in lib/core/README.md and `npm run bench`):
 * activations are flattened to rank 2 and multiplied without transpose flags (XNNPACK's fast
 * GEMM); the gradient is a custom one that also uses flag-free rank-2 matMuls with explicit
 * transposes (tfjs's own matMul gradient uses transpose flags, which fall on a scalar loop).
 */
import * as tf from '@tensorflow/tfjs';
import {sumRows} from './colsum';
import {nativeKernelsActive} from './kernel-path';

// dX = dy·Wᵀ, dW = Xᵀ·dy: explicit transposes for wasm's XNNPACK path; transpose flags when the
// native OpenBLAS kernel serves matMul (lib/core/native-kernels.ts, the default in Node), which takes them for free.
const gradX = (dy: tf.Tensor2D, w: tf.Tensor2D) => (nativeKernelsActive() ? tf.matMul(dy, w, false, true) : tf.matMul(dy, tf.transpose(w)));
const gradW = (x: tf.Tensor2D, dy: tf.Tensor2D) => (nativeKernelsActive() ? tf.matMul(x, dy, true, false) : tf.matMul(tf.transpose(x), dy));

const linearBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b), // [N, out]
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [gradX(dy, ws), gradW(xs, dy), sumRows(dy)];
    },
  };
}) as any) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

const linearNoBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w), // [N, out]
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [gradX(dy, ws), gradW(xs, dy)];
    },
  };
}) as any) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * x: [..., inDim], w: [inDim, outDim], b: [outDim] (optional) → [..., outDim].
 */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1]!;
  if (w.rank !== 2 || w.shape[0] !== inDim) {
    throw new Error(`dense: input [${x.shape}] does not match weight [${w.shape}] (expected weight [${inDim}, outDim])`);
  }
  const outDim = w.shape[1]!;
  if (b !== undefined && (b.rank !== 1 || b.shape[0] !== outDim)) {
    throw new Error(`dense: bias [${b.shape}] does not match weight [${w.shape}] (expected bias [${outDim}])`);
  }
  return tf.tidy(() => {
    const x2 = x.rank === 2 ? x as tf.Tensor2D : tf.reshape(x, [-1, inDim]) as tf.Tensor2D; // [N, in]
    // without a bias under the native kernels: tfjs's own matMul gradient (the same two products, but
    // lazy: dX is skipped when x needs none, e.g. the images under a conv tokenizer's first im2col)
    const y2 = b === undefined ? (nativeKernelsActive() ? tf.matMul(x2, w) : linearNoBias(x2, w as tf.Tensor2D))
      : linearBias(x2, w as tf.Tensor2D, b as tf.Tensor1D); // [N, out]
    return x.rank === 2 ? y2 : tf.reshape(y2, [...x.shape.slice(0, -1), outDim]);
  });
}
