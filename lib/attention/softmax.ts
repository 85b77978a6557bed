/**
 * Masked softmax — Chapter 1 §1.1: alpha = softmax(r) over the last axis.
 * scores: [..., Tk]; mask (optional): keep-mask (1 = may attend) broadcastable to scores.
 * Blocked scores get MASK_FILL (not -Infinity): a fully masked row then gets uniform weights
 * 1/Tk instead of NaN — documented, and multiplied by a zero context if the caller wants zeros.
 */
import * as tf from '@tensorflow/tfjs';

export const MASK_FILL = -1e9;

export function maskedSoftmax(scores: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  // BEGIN SOLUTION masked-softmax
  return tf.tidy(() => {
    if (mask === undefined) return tf.softmax(scores);
    let keep: tf.Tensor;
    try {
      keep = tf.broadcastTo(mask, scores.shape);
    } catch {
      throw new Error(`maskedSoftmax: mask of shape [${mask.shape}] does not broadcast to scores of shape [${scores.shape}]`);
    }
    // scores * keep + MASK_FILL * (1 - keep): differentiable, no tf.where on a computed condition
    const k = keep.cast('float32');
    const filled = scores.mul(k).add(tf.scalar(1).sub(k).mul(MASK_FILL));
    return tf.softmax(filled);
  });
  // END SOLUTION
}
