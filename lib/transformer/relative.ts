/**
 * Relative positions — Chapter 2 §2.3 (after absolute positions). Two ways to make attention see
 * the OFFSET m − n between a query at position m and a key at position n instead of absolute positions:
 *
 *   RoPE (rotary embedding, Su et al. 2021, used by LLaMA): rotate each pair (x_2i, x_2i+1) of a
 *     query or key at position p by the angle p·θ_i, θ_i = base^(−2i/D). Rotations keep norms, and
 *     ⟨R(m)q, R(n)k⟩ = ⟨q, R(n − m)k⟩: the score depends on the positions only through n − m.
 *   Learned relative bias (Shaw et al. 2018; T5; Swin): a table b[h, δ] per head h and clipped
 *     offset δ = clip(n − m, −maxDistance, maxDistance), added to the scores:
 *     scores[h, m, n] = q_m·k_n/√d + b[h, δ(m, n)] — a Toeplitz matrix per head.
 *
 * Written by hand on purpose: the chapter teaches both. Returns new tensors; inputs are not disposed.
 */
import * as tf from '@tensorflow/tfjs';
import {addParam, param, Params, truncNormal} from '../core/params';
import {Rng} from '../core/rng';

const shp = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** cos and sin of the RoPE angles for positions [offset, offset + T): [T, D/2] each (angle[p, i] = p·base^(−2i/D)). */
export function ropeAngles(T: number, dim: number, offset = 0, base = 10000): {cos: Float32Array; sin: Float32Array} {
  if (!Number.isInteger(dim) || dim <= 0 || dim % 2 !== 0) throw new Error(`rope: the feature size must be even and > 0 (got ${dim})`);
  if (!Number.isInteger(T) || T < 0 || !Number.isInteger(offset) || offset < 0) throw new Error(`rope: need integer T ≥ 0 and offset ≥ 0 (got T ${T}, offset ${offset})`);
  const half = dim / 2, cos = new Float32Array(T * half), sin = new Float32Array(T * half);
  for (let p = 0; p < T; p++) {
    for (let i = 0; i < half; i++) {
      const a = (p + offset) * Math.pow(base, -(2 * i) / dim);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return {cos, sin};
}

/**
 * Rotary embedding of x: [..., T, D] (D even; e.g. queries [B, T, D] or heads [B, H, T, Dh]) at
 * positions [offset, offset + T): pair i of the row at position p is rotated by p·θ_i:
 *   y_2i = x_2i·cos − x_2i+1·sin,   y_2i+1 = x_2i·sin + x_2i+1·cos.   Differentiable.
 */
export function applyRope(x: tf.Tensor, opts: {offset?: number; base?: number} = {}): tf.Tensor {
  if (x.rank < 2) throw new Error(`applyRope: x must be [..., T, D], got shape ${shp(x)}`);
  const T = x.shape[x.rank - 2]!, D = x.shape[x.rank - 1]!;
  if (D % 2 !== 0) throw new Error(`applyRope: the last dimension must be even to form rotation pairs, got shape ${shp(x)}`);
  const {cos, sin} = ropeAngles(T, D, opts.offset ?? 0, opts.base ?? 10000);
  return tf.tidy(() => {
    const lead = x.size / (T * D);
    const pairs = x.reshape([lead, T, D / 2, 2]);
    const x0 = pairs.slice([0, 0, 0, 0], [lead, T, D / 2, 1]).reshape([lead, T, D / 2]);
    const x1 = pairs.slice([0, 0, 0, 1], [lead, T, D / 2, 1]).reshape([lead, T, D / 2]);
    const c = tf.tensor2d(cos, [T, D / 2]), s = tf.tensor2d(sin, [T, D / 2]);
    const y0 = x0.mul(c).sub(x1.mul(s));
    const y1 = x0.mul(s).add(x1.mul(c));
    return tf.stack([y0, y1], 3).reshape(x.shape);
  });
}

// ------------------------------------------------------------------ learned relative bias

/** Index into the bias table for each (query m, key n): clip(n − m, −maxDistance, maxDistance) + maxDistance. [Tq·Tk], row-major. */
export function relativeIndex(Tq: number, Tk: number, maxDistance: number, queryOffset = 0): Int32Array {
  if (!Number.isInteger(maxDistance) || maxDistance < 0) throw new Error(`relativeIndex: maxDistance must be an integer ≥ 0 (got ${maxDistance})`);
  const idx = new Int32Array(Tq * Tk);
  for (let m = 0; m < Tq; m++) {
    for (let n = 0; n < Tk; n++) {
      const d = Math.max(-maxDistance, Math.min(maxDistance, n - (m + queryOffset)));
      idx[m * Tk + n] = d + maxDistance;
    }
  }
  return idx;
}

/** Adds the table `${name}.weight` [2·maxDistance + 1, numHeads] (N(0, 0.02), truncated; T5 and Swin start near 0). */
export function initRelativeBias(params: Params, name: string, numHeads: number, maxDistance: number, rng: Rng): void {
  if (!Number.isInteger(numHeads) || numHeads <= 0) throw new Error(`initRelativeBias: numHeads must be a positive integer (got ${numHeads})`);
  if (!Number.isInteger(maxDistance) || maxDistance < 0) throw new Error(`initRelativeBias: maxDistance must be an integer ≥ 0 (got ${maxDistance})`);
  addParam(params, `${name}.weight`, truncNormal([2 * maxDistance + 1, numHeads], 0.02, rng));
}

/**
 * The bias [H, Tq, Tk] for queries at positions [queryOffset, queryOffset + Tq) and keys at [0, Tk):
 * bias[h, m, n] = table[clip(n − m) + maxDistance, h]. Differentiable in the table (a gather).
 */
export function relativePositionBias(params: Params, name: string, Tq: number, Tk: number, queryOffset = 0): tf.Tensor3D {
  const table = param(params, `${name}.weight`);
  const [rows, H] = table.shape as [number, number];
  const idx = relativeIndex(Tq, Tk, (rows - 1) / 2, queryOffset);
  return tf.tidy(() => tf.gather(table, tf.tensor1d(idx, 'int32')).reshape([Tq, Tk, H]).transpose([2, 0, 1]) as tf.Tensor3D);
}

export interface RelativeAttentionOptions {
  /** additive bias broadcastable to [B, H, Tq, Tk], e.g. relativePositionBias(...) [H, Tq, Tk] */
  bias?: tf.Tensor;
  /** rotate queries and keys (RoPE) before the dot product */
  rope?: boolean;
  /** keep-mask broadcastable to [B, H, Tq, Tk] (1 = may attend) */
  mask?: tf.Tensor;
}

/**
 * Attention over heads q: [B, H, Tq, Dh], k, v: [B, H, Tk, Dh] with relative positions:
 * softmax(R(q) R(k)ᵀ/√Dh + bias) v. Returns the output [B, H, Tq, Dh] and the weights [B, H, Tq, Tk].
 */
export function relativeAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, opts: RelativeAttentionOptions = {}): {output: tf.Tensor4D; weights: tf.Tensor4D} {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw new Error(`relativeAttention: q, k, v must be [B, H, T, Dh], got ${shp(q)}, ${shp(k)}, ${shp(v)}`);
  if (q.shape[3] !== k.shape[3] || k.shape[2] !== v.shape[2]) throw new Error(`relativeAttention: q ${shp(q)}, k ${shp(k)}, v ${shp(v)} do not fit (q, k need the same Dh; k, v the same Tk)`);
  return tf.tidy(() => {
    const qr = opts.rope ? applyRope(q) : q, kr = opts.rope ? applyRope(k) : k;
    let s = tf.matMul(qr as tf.Tensor4D, kr as tf.Tensor4D, false, true).div(Math.sqrt(q.shape[3]));
    if (opts.bias) s = s.add(opts.bias);
    if (opts.mask) s = s.add(tf.sub(1, tf.cast(opts.mask, 'float32')).mul(-1e9)); // blocked → −1e9
    const weights = tf.softmax(s) as tf.Tensor4D;
    return {output: tf.matMul(weights, v) as tf.Tensor4D, weights};
  });
}
