/**
 * Attention in three steps — Chapter 1 §1.1:
 *   (1) scores   r_ij = score(q_i, k_j)                  [B, Tq, Tk]
 *   (2) weights  α_i  = softmax(r_i) over the keys        [B, Tq, Tk], each row sums to 1
 *   (3) context  c_i  = Σ_j α_ij v_j                       [B, Tq, Dv]
 * In seq2seq the keys and the values are both the encoder states s_1..s_N, the query is the
 * decoder state h.
 *
 * Masks are keep-masks (1 = may attend): either a padding mask [B, Tk] or any tensor that
 * broadcasts to [B, Tq, Tk]. Masked keys get weight exactly 0.
 * Fully masked rows (a query with nothing to attend to): weights are all 0 and the context is the
 * zero vector — finite, never NaN. (maskedSoftmax alone gives uniform weights there; attention
 * multiplies by the mask afterwards, which changes nothing in rows that keep at least one key.)
 * Written by hand on purpose: attention is what the course teaches (tfjs has no attention layer to call).
 */
import * as tf from '@tensorflow/tfjs';
import {maskedSoftmax} from './softmax';
import {checkQueryKey, ScoreName, ScoreParams, scores} from './scores';

export interface AttentionOptions {
  /** Score function (default 'scaledDot'). */
  score?: ScoreName;
  /** W for 'general'; W1, W2, v for 'additive'. */
  params?: ScoreParams;
  /** Keep-mask: [B, Tk] padding mask or broadcastable to [B, Tq, Tk]. */
  mask?: tf.Tensor;
}

export interface AttentionResult {
  context: tf.Tensor3D; // [B, Tq, Dv]
  weights: tf.Tensor3D; // [B, Tq, Tk]
  scores: tf.Tensor3D;  // [B, Tq, Tk], before masking
}

const shp = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** A keep-mask as a float tensor of shape [B, Tq, Tk] (the caller disposes it; call inside tidy). */
export function expandMask(mask: tf.Tensor, B: number, Tq: number, Tk: number): tf.Tensor3D {
  const m = mask.rank === 2 ? (mask.shape[0] === B && mask.shape[1] === Tk ? mask.reshape([B, 1, Tk]) : undefined) : mask;
  if (m === undefined) throw new Error(`attention: a rank-2 mask must be a padding mask [B, Tk] = [${B}, ${Tk}], got ${shp(mask)}`);
  try {
    return tf.broadcastTo(m, [B, Tq, Tk]).cast('float32') as tf.Tensor3D;
  } catch {
    throw new Error(`attention: mask of shape ${shp(mask)} does not broadcast to the scores [B, Tq, Tk] = [${B}, ${Tq}, ${Tk}]`);
  }
}

/** Steps (2) and (3) from given scores [B, Tq, Tk] and values [B, Tk, Dv]. */
export function attendWithScores(r: tf.Tensor, values: tf.Tensor, mask?: tf.Tensor): {context: tf.Tensor3D; weights: tf.Tensor3D} {
  if (r.rank !== 3) throw new Error(`attention: scores must be [B, Tq, Tk], got ${shp(r)}`);
  if (values.rank !== 3) throw new Error(`attention: values must be [B, Tk, Dv], got ${shp(values)}`);
  const [B, Tq, Tk] = r.shape as [number, number, number];
  if (values.shape[0] !== B || values.shape[1] !== Tk) {
    throw new Error(`attention: values ${shp(values)} do not match the scores ${shp(r)} (need [B, Tk, Dv] = [${B}, ${Tk}, Dv])`);
  }
  return tf.tidy(() => {
    let weights: tf.Tensor3D;
    if (mask === undefined) {
      weights = tf.softmax(r) as tf.Tensor3D;                                  // [B, Tq, Tk]
    } else {
      const keep = expandMask(mask, B, Tq, Tk);                                // [B, Tq, Tk]
      weights = maskedSoftmax(r, keep).mul(keep) as tf.Tensor3D;               // fully masked rows -> 0
    }
    const context = tf.matMul(weights, values as tf.Tensor3D) as tf.Tensor3D;   // [B, Tq, Dv]
    return {context, weights};
  });
}

/**
 * Attention weights and context for queries [B, Tq, Dq], keys [B, Tk, Dk], values [B, Tk, Dv].
 * Returns new tensors {context, weights, scores}; the caller owns inputs and outputs.
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions = {}): AttentionResult {
  const score = opts.score ?? 'scaledDot';
  checkQueryKey('attention', q, k, score === 'dot' || score === 'scaledDot');
  if (v.rank !== 3 || v.shape[0] !== k.shape[0] || v.shape[1] !== k.shape[1]) {
    throw new Error(`attention: values must be [B, Tk, Dv] matching keys ${shp(k)}, got ${shp(v)}`);
  }
  return tf.tidy(() => {
    const r = scores(score, q, k, opts.params);                      // [B, Tq, Tk]
    const {context, weights} = attendWithScores(r, v, opts.mask);   // [B, Tq, Dv], [B, Tq, Tk]
    return {context, weights, scores: r};
  });
}
