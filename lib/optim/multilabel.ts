/**
 * Binary cross-entropy from logits — the multi-label loss (Chapter 4, multi-label section; the
 * Keras chest X-ray source). Each of the C labels is its own yes/no question, so each logit gets a
 * sigmoid (not one softmax over the labels, which would force the probabilities to sum to 1):
 *   loss = mean over all N·C entries of −[y·log σ(x) + (1 − y)·log(1 − σ(x))]
 * Same numbers as `torch.nn.BCEWithLogitsLoss()` (reduction 'mean'). Computed stably as
 *   max(x, 0) − x·y + log(1 + e^(−|x|))
 * (no exp of a large positive number, no log of 0), with the hand-written gradient (σ(x) − y)/(N·C):
 * autodiff through max/abs would give the wrong slope at exactly x = 0.
 */
import * as tf from '@tensorflow/tfjs';

const bceSum = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
  const value = tf.sum(tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))));
  save([x, y]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ys] = saved as [tf.Tensor, tf.Tensor];
      return [tf.mul(tf.sub(tf.sigmoid(xs), ys), dy), tf.zerosLike(ys)];
    },
  };
}) as any) as (x: tf.Tensor, y: tf.Tensor) => tf.Scalar;

/** Mean binary cross-entropy of logits [N, C] against targets [N, C] in [0, 1] (multi-hot or soft). */
export function binaryCrossEntropyWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  if (logits.rank !== 2) throw new Error(`binaryCrossEntropyWithLogits: logits must be [N, C], got shape [${logits.shape}]`);
  if (targets.rank !== 2 || targets.shape[0] !== logits.shape[0] || targets.shape[1] !== logits.shape[1]) {
    throw new Error(`binaryCrossEntropyWithLogits: targets [${targets.shape}] must have the logits' shape [${logits.shape}]`);
  }
  if (logits.size === 0) throw new Error('binaryCrossEntropyWithLogits: empty batch');
  const t = targets.dataSync();
  for (let i = 0; i < t.length; i++) {
    if (!(t[i]! >= 0 && t[i]! <= 1)) throw new Error(`binaryCrossEntropyWithLogits: target ${t[i]} at flat index ${i} is not in [0, 1]`);
  }
  return tf.tidy(() => bceSum(logits.toFloat(), targets.toFloat()).div(logits.size) as tf.Scalar);
}
