/**
 * Cross-entropy with label smoothing — Chapter 2 §2.7 and Chapter 4 §4.3.
 * Same numbers as `torch.nn.functional.cross_entropy(logits, target, label_smoothing=ε)`:
 * the target distribution q = (1 − ε)·y + ε/C (y one-hot or soft), loss_i = −Σ_c q_c log p_c,
 * averaged over the batch (over non-pad tokens for sequences).
 *
 * Implementation: loss_i = (Σ_c q_c)·logsumexp(x_i) − q_i·x_i with a hand-written gradient
 * (softmax(x)·Σq − q)·w_i, so backward uses tf.softmax's fast kernel (also in wasm) instead of
 * differentiating a composed logSoftmax. Gradients flow to the logits only, never the targets.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Σ_i w_i · ((Σ_c q_ic)·lse(x_i) − Σ_c q_ic·x_ic). x, q: [N, C], w: [N] row weights (e.g. 1/N).
 */
const weightedSoftTargetCE = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, q, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const qSum = tf.sum(q, 1);                                        // [N]
  const lse = tf.logSumExp(x, 1);                                   // [N]
  const rows = tf.sub(tf.mul(qSum, lse), tf.sum(tf.mul(q, x), 1));  // [N]
  const value = tf.sum(tf.mul(rows, w));                            // []
  save([x, q, w]); // forward intermediates are disposed; the backward pass gets these copies
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sq, sw] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const p = tf.softmax(sx);                                       // [N, C]
    const dx = tf.mul(tf.sub(tf.mul(p, tf.sum(sq, 1, true)), sq), tf.mul(sw, dy).expandDims(1)); // [N, C]
    return [dx, tf.zerosLike(sq), tf.zerosLike(sw)];
  };
  return {value, gradFunc};
});

function checkSmoothing(fn: string, eps: number): void {
  if (!(eps >= 0 && eps <= 1)) throw new Error(`${fn}: labelSmoothing must be in [0, 1], got ${eps}`);
}

/** Integer class labels → one-hot [N, C]; checks the range (skipping `ignore`) with one small read. */
function oneHotChecked(fn: string, labels: tf.Tensor1D, numClasses: number, ignore?: number): tf.Tensor2D {
  const vals = labels.dataSync();
  for (let i = 0; i < vals.length; i++) {
    const y = vals[i]!;
    if (y === ignore) continue;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new Error(`${fn}: label ${y} at index ${i} is not a class index in [0, ${numClasses})`);
    }
  }
  const idx = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  // an ignored id outside [0, C) would give a zero row: fine, its weight is 0
  return tf.oneHot(idx, numClasses).toFloat() as tf.Tensor2D; // [N, C]
}

/**
 * Mean cross-entropy of logits [B, C] against integer labels [B] or soft targets [B, C]
 * (rows summing to 1, e.g. mixup/cutmix), with optional label smoothing ε ∈ [0, 1].
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D | tf.Tensor2D, labelSmoothing = 0): tf.Scalar {
  checkSmoothing('crossEntropy', labelSmoothing);
  if (logits.rank !== 2) throw new Error(`crossEntropy: logits must be [B, C], got shape [${logits.shape}]`);
  const [B, C] = logits.shape;
  const hard = labels.rank === 1;
  if (hard ? labels.shape[0] !== B : labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== C) {
    throw new Error(`crossEntropy: labels must be [${B}] class indices or [${B}, ${C}] soft targets, got shape [${labels.shape}] for logits [${logits.shape}]`);
  }
  if (B === 0) throw new Error('crossEntropy: empty batch');
  return tf.tidy(() => {
    let q = hard ? oneHotChecked('crossEntropy', labels as tf.Tensor1D, C) : (labels as tf.Tensor2D).toFloat(); // [B, C]
    if (labelSmoothing > 0) q = tf.add(tf.mul(q, 1 - labelSmoothing), labelSmoothing / C);
    const w = tf.fill([B], 1 / B) as tf.Tensor1D;                                                          // [B]
    return weightedSoftTargetCE(logits.toFloat(), q, w) as tf.Scalar;
  });
}

/**
 * Token-level cross-entropy for sequence models: logits [B, T, V], targets [B, T] (int ids).
 * Positions whose target is `padId` are ignored; the loss is the mean over the other tokens
 * (torch: cross_entropy(..., ignore_index=padId, label_smoothing=ε), reduction 'mean').
 * If every position is padding the loss is 0 (PyTorch gives NaN).
 */
export function sequenceCrossEntropy(
  logits: tf.Tensor3D,
  targets: tf.Tensor2D,
  opts: {labelSmoothing?: number; padId?: number} = {},
): tf.Scalar {
  const eps = opts.labelSmoothing ?? 0;
  checkSmoothing('sequenceCrossEntropy', eps);
  if (logits.rank !== 3) throw new Error(`sequenceCrossEntropy: logits must be [B, T, V], got shape [${logits.shape}]`);
  const [B, T, V] = logits.shape;
  if (targets.rank !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
    throw new Error(`sequenceCrossEntropy: targets must be [${B}, ${T}] to match logits [${logits.shape}], got shape [${targets.shape}]`);
  }
  return tf.tidy(() => {
    const flat = targets.reshape([B * T]) as tf.Tensor1D;                      // [B*T]
    let q = oneHotChecked('sequenceCrossEntropy', flat, V, opts.padId);        // [B*T, V]
    if (eps > 0) q = tf.add(tf.mul(q, 1 - eps), eps / V);
    const keep = opts.padId === undefined ? tf.ones([B * T]) : tf.notEqual(flat, opts.padId).toFloat(); // [B*T]
    const count = Math.max(tf.sum(keep).dataSync()[0]!, 1);
    const w = tf.div(keep, count) as tf.Tensor1D;                              // [B*T]
    return weightedSoftTargetCE(logits.reshape([B * T, V]).toFloat(), q, w) as tf.Scalar;
  });
}
