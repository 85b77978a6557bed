/**
 * Dense (linear) layer — y = x·W + b, with W stored [inDim, outDim], applied to every position.
 * Autograd gives dX = dy·Wᵀ, dW = xᵀ·dy and db = Σ_rows dy. Those run fast on wasm because of the
 * kernels under the backend, not because of how this is written (lib/core/README.md): the native
 * OpenBLAS kernels (transposes as GEMM flags, one-pass column sums) or, on pure wasm,
 * lib/core/wasm-kernels.ts (explicit transposes + XNNPACK GEMMs, column sums as one GEMM).
 */
import * as tf from '@tensorflow/tfjs';

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
    // every position as a row of one [N, in]·[in, out] product (a rank-3 matMul would be B small ones)
    const x2 = tf.reshape(x, [-1, inDim]);                      // [N, in]
    const xw = tf.matMul(x2 as tf.Tensor2D, w as tf.Tensor2D);  // [N, out]
    const y2 = b === undefined ? xw : tf.add(xw, b);            // [N, out]
    return tf.reshape(y2, [...x.shape.slice(0, -1), outDim]);
  });
}
