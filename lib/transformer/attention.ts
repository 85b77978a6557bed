/**
 * Multi-head attention — Chapter 2 §2.2 (the one implementation, reused by the ViT).
 *   head_i = softmax(Q_i K_iᵀ / √d_k + maskFill) V_i,  MHA(x) = concat(head_1..head_H) W_O + b_O
 * Parameters (prefix p): `${p}.qkv.weight` [D, 3D] = [W_Q | W_K | W_V], `${p}.qkv.bias` [3D],
 * `${p}.proj.weight` [D, D], `${p}.proj.bias` [D] (PyTorch's in_proj/out_proj, transposed).
 * Masks are keep-masks (1 = may attend) broadcastable to [B, H, Tq, Tk].
 */
import * as tf from '@tensorflow/tfjs';
import {bmm} from '../core/bmm';
import {dense} from '../core/linear';
import {addDense, param, Params} from '../core/params';
import {Rng} from '../core/rng';

export const MASK_FILL = -1e9;

export interface AttentionOptions {
  mask?: tf.Tensor;        // keep-mask broadcastable to [B, H, Tq, Tk]
  dropout?: number;        // dropout on the attention weights (training only)
  training?: boolean;
  seed?: number;           // dropout seed
  returnWeights?: boolean; // keep the per-head weights [B, H, Tq, Tk] (for plots)
}

export function initMultiHeadAttention(params: Params, prefix: string, dModel: number, rng: Rng): void {
  addDense(params, `${prefix}.qkv`, dModel, 3 * dModel, rng, 'xavier');
  addDense(params, `${prefix}.proj`, dModel, dModel, rng, 'xavier');
}

/** [B, T, D] → [B·H, T, Dh] (rank-4 transpose only). */
export function splitHeads(x: tf.Tensor, numHeads: number): tf.Tensor3D {
  const [B, T, D] = x.shape as [number, number, number];
  const dh = D / numHeads;
  return tf.reshape(tf.transpose(tf.reshape(x, [B, T, numHeads, dh]), [0, 2, 1, 3]), [B * numHeads, T, dh]);
}

/** [B·H, T, Dh] → [B, T, D]. */
export function mergeHeads(x: tf.Tensor, batch: number): tf.Tensor3D {
  const [BH, T, dh] = x.shape as [number, number, number];
  const H = BH / batch;
  return tf.reshape(tf.transpose(tf.reshape(x, [batch, H, T, dh]), [0, 2, 1, 3]), [batch, T, H * dh]);
}

/**
 * Scaled dot-product attention on heads folded into the batch.
 * q: [B·H, Tq, Dh], k, v: [B·H, Tk, Dh]; mask: keep-mask broadcastable to [B, H, Tq, Tk].
 * Returns output [B·H, Tq, Dh] and weights [B·H, Tq, Tk] (rows sum to 1; a fully masked row is uniform).
 */
export function scaledDotProductAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, batch: number, opts: AttentionOptions = {}) {
  const [BH, Tq, dh] = q.shape;
  const Tk = k.shape[1];
  const H = BH / batch;
  const qs = tf.mul(q, 1 / Math.sqrt(dh)) as tf.Tensor3D;             // [BH, Tq, Dh]
  let scores: tf.Tensor = bmm(qs, tf.transpose(k, [0, 2, 1]));         // [BH, Tq, Tk]
  if (opts.mask !== undefined) {
    let keep: tf.Tensor;
    try {
      keep = tf.broadcastTo(opts.mask, [batch, H, Tq, Tk]);            // [B, H, Tq, Tk]
    } catch {
      throw new Error(`attention: mask [${opts.mask.shape}] does not broadcast to [B, H, Tq, Tk] = [${batch}, ${H}, ${Tq}, ${Tk}]`);
    }
    const fill = tf.mul(tf.sub(1, tf.cast(keep, 'float32')), MASK_FILL); // 0 where kept, -1e9 where blocked
    scores = tf.add(scores, tf.reshape(fill, [BH, Tq, Tk]));
  }
  let weights = tf.softmax(scores) as tf.Tensor3D;                      // [BH, Tq, Tk]
  const used = opts.training && opts.dropout ? tf.dropout(weights, opts.dropout, undefined, opts.seed) as tf.Tensor3D : weights;
  const output = bmm(used, v);                                          // [BH, Tq, Dh]
  return {output, weights};
}

/**
 * Multi-head attention. x: [B, Tq, D] (queries); memory: [B, Tk, D] (keys/values; = x for
 * self-attention). Returns output [B, Tq, D] and, if asked, weights [B, H, Tq, Tk].
 */
export function multiHeadAttention(params: Params, prefix: string, x: tf.Tensor, memory: tf.Tensor | null, numHeads: number, opts: AttentionOptions = {}) {
  const [B, Tq, D] = x.shape as [number, number, number];
  if (x.rank !== 3) throw new Error(`multiHeadAttention: x must be [B, T, D], got [${x.shape}]`);
  if (D % numHeads !== 0) throw new Error(`multiHeadAttention: dModel (${D}) must be divisible by numHeads (${numHeads})`);
  const mem = memory ?? x;
  if (mem.rank !== 3 || mem.shape[0] !== B || mem.shape[2] !== D) {
    throw new Error(`multiHeadAttention: memory [${mem.shape}] must be [B, Tk, D] = [${B}, Tk, ${D}] to match x [${x.shape}]`);
  }
  const w = param(params, `${prefix}.qkv.weight`), b = param(params, `${prefix}.qkv.bias`);
  if (w.shape[0] !== D || w.shape[1] !== 3 * D) throw new Error(`multiHeadAttention: ${prefix}.qkv.weight is [${w.shape}], expected [${D}, ${3 * D}]`);
  const Tk = mem.shape[1]!;
  return tf.tidy(() => {
  // three rank-2 GEMMs on column blocks of the fused kernel (no rank-5 transpose, no activation slicing)
  const proj = (src: tf.Tensor, i: number) =>
    dense(src, tf.slice(w, [0, i * D], [D, D]), tf.slice(b, [i * D], [D]));            // [B, T, D]
  const q = splitHeads(proj(x, 0), numHeads);                                           // [BH, Tq, Dh]
  const k = splitHeads(proj(mem, 1), numHeads);                                         // [BH, Tk, Dh]
  const v = splitHeads(proj(mem, 2), numHeads);                                         // [BH, Tk, Dh]
  const {output, weights} = scaledDotProductAttention(q, k, v, B, opts);
  const merged = mergeHeads(output, B);                                                 // [B, Tq, D]
  const out = dense(merged, param(params, `${prefix}.proj.weight`), param(params, `${prefix}.proj.bias`)); // [B, Tq, D]
  const result: {output: tf.Tensor3D; weights?: tf.Tensor4D} = {output: out as tf.Tensor3D};
  if (opts.returnWeights) result.weights = tf.reshape(weights, [B, numHeads, Tq, Tk]) as tf.Tensor4D;
  return result;
  });
}
