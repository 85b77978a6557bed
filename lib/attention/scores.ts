/**
 * Attention score functions — Chapter 1 §1.1–1.2: step (1), how much a query "matches" each key.
 * All take a batch of queries q: [B, Tq, Dq] and keys k: [B, Tk, Dk] and return raw scores
 * r: [B, Tq, Tk] (before the softmax). Returns new tensors; the caller owns inputs and outputs.
 *
 *   dot        r_ij = q_i · k_j                      (Luong "dot"; needs Dq = Dk)
 *   scaledDot  r_ij = q_i · k_j / √D                 (Transformer; needs Dq = Dk)
 *   general    r_ij = q_i^T W k_j,  W: [Dq, Dk]      (Luong "general" / multiplicative)
 *   additive   r_ij = v^T tanh(W1 q_i + W2 k_j),  W1: [Dq, A], W2: [Dk, A], v: [A]   (Bahdanau)
 *
 * Projections by a weight use rank-2 matMuls on [B*T, D] (fast on wasm, differentiable).
 */
import * as tf from '@tensorflow/tfjs';

export type ScoreName = 'dot' | 'scaledDot' | 'general' | 'additive';
export const SCORE_NAMES: ScoreName[] = ['dot', 'scaledDot', 'general', 'additive'];

/** Weights of the parametrised scores (plain tensors or tf.Variables). */
export interface GeneralScoreParams { W: tf.Tensor2D }
export interface AdditiveScoreParams { W1: tf.Tensor2D; W2: tf.Tensor2D; v: tf.Tensor1D }
export type ScoreParams = Partial<GeneralScoreParams & AdditiveScoreParams>;

const shp = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** Throws a clear error unless q is [B, Tq, Dq] and k is [B, Tk, Dk] with the same B. */
export function checkQueryKey(fn: string, q: tf.Tensor, k: tf.Tensor, sameDim: boolean): void {
  if (q.rank !== 3) throw new Error(`${fn}: queries must be [B, Tq, D], got shape ${shp(q)}`);
  if (k.rank !== 3) throw new Error(`${fn}: keys must be [B, Tk, D], got shape ${shp(k)}`);
  if (q.shape[0] !== k.shape[0]) throw new Error(`${fn}: batch sizes differ: queries ${shp(q)} vs keys ${shp(k)}`);
  if (sameDim && q.shape[2] !== k.shape[2]) {
    throw new Error(`${fn}: queries and keys need the same last dimension: queries ${shp(q)} vs keys ${shp(k)}`);
  }
}

/** x: [B, T, D] times w: [D, E] -> [B, T, E] through one rank-2 matMul. */
export function project3d(x: tf.Tensor, w: tf.Tensor): tf.Tensor3D {
  const [B, T, D] = x.shape as [number, number, number];
  if (w.rank !== 2 || w.shape[0] !== D) throw new Error(`project3d: weight ${shp(w)} does not fit input ${shp(x)} (need [${D}, E])`);
  return tf.tidy(() => tf.matMul(x.reshape([B * T, D]), w).reshape([B, T, w.shape[1]!]) as tf.Tensor3D);
}

/** r = q kᵀ: [B, Tq, Tk]. */
export function dotScores(q: tf.Tensor, k: tf.Tensor): tf.Tensor3D {
  checkQueryKey('dotScores', q, k, true);
  return tf.tidy(() => tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true)); // [B, Tq, Tk]
}

/** r = q kᵀ / √D: [B, Tq, Tk]. Keeps the score variance ≈ 1 when q, k have unit-variance entries. */
export function scaledDotScores(q: tf.Tensor, k: tf.Tensor): tf.Tensor3D {
  checkQueryKey('scaledDotScores', q, k, true);
  // BEGIN SOLUTION scaled-dot-scores
  return tf.tidy(() => tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true).div(Math.sqrt(q.shape[2]!)) as tf.Tensor3D);
  // END SOLUTION
}

/** r = (q W) kᵀ with W: [Dq, Dk]: [B, Tq, Tk]. */
export function generalScores(q: tf.Tensor, k: tf.Tensor, W: tf.Tensor): tf.Tensor3D {
  checkQueryKey('generalScores', q, k, false);
  if (W.rank !== 2 || W.shape[0] !== q.shape[2] || W.shape[1] !== k.shape[2]) {
    throw new Error(`generalScores: W must be [Dq, Dk] = [${q.shape[2]}, ${k.shape[2]}] for queries ${shp(q)} and keys ${shp(k)}, got ${shp(W)}`);
  }
  return tf.tidy(() => tf.matMul(project3d(q, W), k as tf.Tensor3D, false, true)); // [B, Tq, Tk]
}

/**
 * Additive (Bahdanau) scores from already projected queries qp = q W1: [B, Tq, A] and keys
 * kp = k W2: [B, Tk, A]. A decoder projects its keys once and calls this at every step.
 */
export function additiveScoresProjected(qp: tf.Tensor, kp: tf.Tensor, v: tf.Tensor): tf.Tensor3D {
  checkQueryKey('additiveScores', qp, kp, true);
  // BEGIN SOLUTION additive-scores
  const [B, Tq, A] = qp.shape as [number, number, number];
  const Tk = kp.shape[1]!;
  if (v.rank !== 1 || v.shape[0] !== A) throw new Error(`additiveScores: v must be [A] = [${A}], got ${shp(v)}`);
  return tf.tidy(() => {
    const hidden = tf.tanh(qp.reshape([B, Tq, 1, A]).add(kp.reshape([B, 1, Tk, A]))); // [B, Tq, Tk, A]
    return tf.matMul(hidden.reshape([B * Tq * Tk, A]), v.reshape([A, 1])).reshape([B, Tq, Tk]) as tf.Tensor3D;
  });
  // END SOLUTION
}

/** r = vᵀ tanh(q W1 + k W2): [B, Tq, Tk]. W1: [Dq, A], W2: [Dk, A], v: [A]. */
export function additiveScores(q: tf.Tensor, k: tf.Tensor, p: AdditiveScoreParams): tf.Tensor3D {
  checkQueryKey('additiveScores', q, k, false);
  if (p.W1.rank !== 2 || p.W1.shape[0] !== q.shape[2]) throw new Error(`additiveScores: W1 must be [Dq, A] with Dq = ${q.shape[2]} (queries ${shp(q)}), got ${shp(p.W1)}`);
  if (p.W2.rank !== 2 || p.W2.shape[0] !== k.shape[2]) throw new Error(`additiveScores: W2 must be [Dk, A] with Dk = ${k.shape[2]} (keys ${shp(k)}), got ${shp(p.W2)}`);
  if (p.W1.shape[1] !== p.W2.shape[1]) throw new Error(`additiveScores: W1 ${shp(p.W1)} and W2 ${shp(p.W2)} must have the same number of columns A`);
  return tf.tidy(() => additiveScoresProjected(project3d(q, p.W1), project3d(k, p.W2), p.v));
}

/** Dispatch by name; `params` must hold W for 'general' and W1, W2, v for 'additive'. */
export function scores(name: ScoreName, q: tf.Tensor, k: tf.Tensor, params: ScoreParams = {}): tf.Tensor3D {
  switch (name) {
    case 'dot': return dotScores(q, k);
    case 'scaledDot': return scaledDotScores(q, k);
    case 'general':
      if (!params.W) throw new Error(`scores('general'): params.W ([Dq, Dk]) is missing`);
      return generalScores(q, k, params.W);
    case 'additive':
      if (!params.W1 || !params.W2 || !params.v) throw new Error(`scores('additive'): params W1, W2 and v are required`);
      return additiveScores(q, k, {W1: params.W1, W2: params.W2, v: params.v});
    default:
      throw new Error(`unknown score function "${name as string}" (use one of ${SCORE_NAMES.join(', ')})`);
  }
}
