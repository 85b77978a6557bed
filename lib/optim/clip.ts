/**
 * Gradient clipping by global norm — Chapter 2 §2.7 and Chapter 4 §4.3, like `torch.nn.utils.clip_grad_norm_`:
 *   norm = √(Σ over all grads of Σ g²);  coef = maxNorm / (norm + 1e-6);  g ← g · min(coef, 1)
 * Returns NEW tensors (clones when no clipping is needed: no data copy) and the norm before
 * clipping; the caller still owns and disposes the input grads. A non-finite norm gives NaN grads,
 * as in PyTorch's default (error_if_nonfinite=False): check `norm` and skip the step if needed.
 */
import * as tf from '@tensorflow/tfjs';

export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): {grads: Record<string, tf.Tensor>; norm: number} {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const names = Object.keys(grads);
  if (names.length === 0) return {grads: {}, norm: 0};
  const norm = tf.tidy(() => {
    const sq = names.map((n) => tf.sum(tf.square(grads[n]!))); // scalars
    return tf.sqrt(sq.length === 1 ? sq[0]! : tf.addN(sq));
  });
  const value = norm.dataSync()[0]!;
  norm.dispose();
  const coef = Math.min(maxNorm / (value + 1e-6), 1);
  const out: Record<string, tf.Tensor> = {};
  tf.tidy(() => {
    const c = tf.scalar(coef);
    for (const n of names) out[n] = tf.keep(coef < 1 || Number.isNaN(coef) ? tf.mul(grads[n]!, c) : tf.clone(grads[n]!));
  });
  return {grads: out, norm: value};
}
