/**
 * Attention masks — Chapter 2 §2.4. Keep-masks: 1 = may attend, 0 = blocked (scores → MASK_FILL).
 * Every mask broadcasts to the scores [B, H, Tq, Tk]:
 *   paddingMask(ids, pad)  [B, 1, 1, Tk]  keys that are real tokens (same for every head and query)
 *   causalMask(T)          [T, T]          lower triangle: query i sees keys j ≤ i (look-ahead mask)
 *   decoderMask(ids, pad)  [B, 1, T, T]    causal AND padding, for the decoder's self-attention
 * PyTorch uses the opposite convention (True = blocked): keep = 1 − torch_mask.
 */
import * as tf from '@tensorflow/tfjs';

/** Keep-mask of the non-padding keys: ids [B, T] → [B, 1, 1, T] float32. */
export function paddingMask(ids: tf.Tensor, padId: number): tf.Tensor4D {
  if (ids.rank !== 2) throw new Error(`paddingMask: token ids must be [B, T], got [${ids.shape}]`);
  const [B, T] = ids.shape as [number, number];
  return tf.tidy(() => tf.reshape(tf.cast(tf.notEqual(ids, padId), 'float32'), [B, 1, 1, T]) as tf.Tensor4D);
}

/** Keep-mask from sequence lengths: lengths [B] (numbers), padded length T → [B, 1, 1, T]. */
export function lengthMask(lengths: ArrayLike<number>, T: number): tf.Tensor4D {
  const B = lengths.length;
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = lengths[b]!;
    if (!Number.isInteger(n) || n < 0 || n > T) throw new Error(`lengthMask: length ${n} of sequence ${b} is not in [0, ${T}]`);
    m.fill(1, b * T, b * T + n);
  }
  return tf.tensor4d(m, [B, 1, 1, T]);
}

/** Look-ahead mask [T, T]: 1 on and below the diagonal. With offset t (a cache of t earlier keys): [T, t + T]. */
export function causalMask(T: number, offset = 0): tf.Tensor2D {
  if (!Number.isInteger(T) || T <= 0 || !Number.isInteger(offset) || offset < 0) {
    throw new Error(`causalMask: need T > 0 and offset ≥ 0 (got T ${T}, offset ${offset})`);
  }
  // query i (absolute position offset + i) may see key j when j ≤ offset + i
  // BEGIN SOLUTION causal-mask
  return tf.tidy(() => tf.linalg.bandPart(tf.ones([T, offset + T]), -1, offset) as tf.Tensor2D);
  // END SOLUTION
}

/** Causal AND padding for the decoder self-attention: ids [B, T] → [B, 1, T, T]. */
export function decoderMask(ids: tf.Tensor, padId: number): tf.Tensor4D {
  if (ids.rank !== 2) throw new Error(`decoderMask: token ids must be [B, T], got [${ids.shape}]`);
  return tf.tidy(() => tf.mul(paddingMask(ids, padId), causalMask(ids.shape[1]!)) as tf.Tensor4D); // [B,1,1,T]·[T,T] → [B,1,T,T]
}
