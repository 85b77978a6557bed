/**
 * Multi-head attention — Chapter 2 §2.2 (the one implementation, reused by the ViT).
 *   head_i = softmax(Q_i K_iᵀ / √d_k + maskFill) V_i,  MHA(x) = concat(head_1..head_H) W_O + b_O
 * Parameters (prefix p), fused (default): `${p}.qkv.weight` [D, 3D] = [W_Q | W_K | W_V],
 * `${p}.qkv.bias` [3D]; or separate (`fused: false`): `${p}.q.*`, `${p}.k.*`, `${p}.v.*` ([D, D], [D]);
 * always `${p}.proj.weight` [D, D], `${p}.proj.bias` [D]. These are PyTorch's in_proj/out_proj,
 * transposed (lib/transformer/torch.ts converts).
 * Masks are keep-masks (1 = may attend) broadcastable to [B, H, Tq, Tk]; blocked scores get
 * MASK_FILL through chapter 1's maskedSoftmax (lib/attention/softmax.ts).
 * For incremental decoding the keys/values of a sequence can be projected once (projectKeyValues),
 * grown one step at a time (appendKeyValues) and attended to (attendKeyValues).
 * Written by hand on purpose: Chapter 2 builds multi-head attention from matMuls instead of calling a layer.
 */
import * as tf from '@tensorflow/tfjs';
import {MASK_FILL, maskedSoftmax} from '../attention/softmax';
import {bmm} from '../core/bmm';
import {dense} from '../core/linear';
import {addDense, addParam, param, Params, xavierUniform} from '../core/params';
import {Rng} from '../core/rng';

export {MASK_FILL};

export interface AttentionOptions {
  mask?: tf.Tensor;        // keep-mask broadcastable to [B, H, Tq, Tk]
  dropout?: number;        // dropout on the attention weights (training only)
  training?: boolean;
  seed?: number;           // dropout seed
  returnWeights?: boolean; // keep the per-head weights [B, H, Tq, Tk] (for plots)
  /**
   * Learnable per-head temperature τ [H] replacing 1/√d_k (locality self-attention, Lee et al. 2021):
   * scores = τ_h · Q_h K_hᵀ. Applied by scaling the queries by τ_h·√d_k before the usual 1/√d_k.
   */
  temperature?: tf.Tensor;
}

/** Keys and values split into heads: [B·H, Tk, Dh] each (one per attention module). */
export interface KeyValues {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/**
 * Adds the projections of one attention module. Fused (default): one [D, 3D] kernel initialised
 * like PyTorch's in_proj_weight (Xavier-uniform over the whole [3D, D] matrix); separate: three
 * [D, D] kernels (same distribution).
 */
export function initMultiHeadAttention(params: Params, prefix: string, dModel: number, rng: Rng, opts: {fused?: boolean} = {}): void {
  if (opts.fused ?? true) {
    addDense(params, `${prefix}.qkv`, dModel, 3 * dModel, rng, 'xavier');
  } else {
    const a = Math.sqrt(6 / (dModel + 3 * dModel)); // same bound as the fused [D, 3D] matrix
    for (const n of ['q', 'k', 'v']) {
      const w = xavierUniform(dModel, dModel, rng);                                   // bound √(6 / 2D)
      addParam(params, `${prefix}.${n}.weight`, tf.tidy(() => tf.mul(w, a / Math.sqrt(6 / (2 * dModel)))));
      w.dispose();
      addParam(params, `${prefix}.${n}.bias`, tf.zeros([dModel]));
    }
  }
  addDense(params, `${prefix}.proj`, dModel, dModel, rng, 'xavier');
}

/** True when the module at prefix uses the fused [D, 3D] kernel. */
export function isFused(params: Params, prefix: string): boolean {
  if (params[`${prefix}.qkv.weight`]) return true;
  if (params[`${prefix}.q.weight`]) return false;
  throw new Error(`multiHeadAttention: missing parameter "${prefix}.qkv.weight" (or "${prefix}.q.weight" for separate projections)`);
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
  // BEGIN SOLUTION head-attention
  const [BH, Tq, dh] = q.shape;
  const Tk = k.shape[1];
  const H = BH / batch;
  const qs = tf.mul(q, 1 / Math.sqrt(dh)) as tf.Tensor3D;             // [BH, Tq, Dh]
  const scores: tf.Tensor = bmm(qs, tf.transpose(k, [0, 2, 1]));       // [BH, Tq, Tk]
  let weights: tf.Tensor3D;
  if (opts.mask !== undefined) {
    let keep: tf.Tensor;
    try {
      keep = tf.broadcastTo(opts.mask, [batch, H, Tq, Tk]);            // [B, H, Tq, Tk]
    } catch {
      throw new Error(`attention: mask [${opts.mask.shape}] does not broadcast to [B, H, Tq, Tk] = [${batch}, ${H}, ${Tq}, ${Tk}]`);
    }
    weights = maskedSoftmax(scores, tf.reshape(keep, [BH, Tq, Tk])) as tf.Tensor3D; // [BH, Tq, Tk]
  } else {
    weights = tf.softmax(scores) as tf.Tensor3D;                        // [BH, Tq, Tk]
  }
  const used = opts.training && opts.dropout ? tf.dropout(weights, opts.dropout, undefined, opts.seed) as tf.Tensor3D : weights;
  const output = bmm(used, v);                                          // [BH, Tq, Dh]
  return {output, weights};
  // END SOLUTION
}

/** Projection i (0 = query, 1 = key, 2 = value) of src [B, T, D] → [B, T, D]. */
function project(params: Params, prefix: string, src: tf.Tensor, i: number, fused: boolean): tf.Tensor {
  const D = src.shape[2]!;
  if (!fused) {
    const n = ['q', 'k', 'v'][i]!;
    return dense(src, param(params, `${prefix}.${n}.weight`), param(params, `${prefix}.${n}.bias`));
  }
  const w = param(params, `${prefix}.qkv.weight`), b = param(params, `${prefix}.qkv.bias`);
  // a rank-2 GEMM on a column block of the fused kernel (no rank-5 transpose, no activation slicing)
  return dense(src, tf.slice(w, [0, i * D], [D, D]), tf.slice(b, [i * D], [D]));           // [B, T, D]
}

function checkInput(params: Params, prefix: string, x: tf.Tensor, numHeads: number, what: string): boolean {
  if (x.rank !== 3) throw new Error(`multiHeadAttention: ${what} must be [B, T, D], got [${x.shape}]`);
  const D = x.shape[2]!;
  if (D % numHeads !== 0) throw new Error(`multiHeadAttention: dModel (${D}) must be divisible by numHeads (${numHeads})`);
  const fused = isFused(params, prefix);
  const w = fused ? params[`${prefix}.qkv.weight`]! : params[`${prefix}.q.weight`]!;
  const want = fused ? [D, 3 * D] : [D, D];
  const name = fused ? `${prefix}.qkv.weight` : `${prefix}.q.weight`;
  if (w.shape[0] !== want[0] || w.shape[1] !== want[1]) throw new Error(`multiHeadAttention: ${name} is [${w.shape}], expected [${want[0]}, ${want[1]}] for ${what} [${x.shape}]`);
  return fused;
}

/** Keys and values of memory [B, Tk, D] split into heads (computed once per sequence for a cache). */
export function projectKeyValues(params: Params, prefix: string, memory: tf.Tensor, numHeads: number): KeyValues {
  const fused = checkInput(params, prefix, memory, numHeads, 'memory');
  return tf.tidy(() => ({
    k: splitHeads(project(params, prefix, memory, 1, fused), numHeads),                   // [BH, Tk, Dh]
    v: splitHeads(project(params, prefix, memory, 2, fused), numHeads),                   // [BH, Tk, Dh]
  }));
}

/** The cache grown by new keys/values along the time axis: [B·H, t, Dh] + [B·H, n, Dh] → [B·H, t+n, Dh]. */
export function appendKeyValues(cache: KeyValues | null, next: KeyValues): KeyValues {
  if (cache === null) return {k: tf.clone(next.k), v: tf.clone(next.v)};
  if (cache.k.shape[0] !== next.k.shape[0] || cache.k.shape[2] !== next.k.shape[2]) {
    throw new Error(`appendKeyValues: cache [${cache.k.shape}] and new keys [${next.k.shape}] differ in [B·H, ·, Dh]`);
  }
  return tf.tidy(() => ({k: tf.concat([cache.k, next.k], 1) as tf.Tensor3D, v: tf.concat([cache.v, next.v], 1) as tf.Tensor3D}));
}

/**
 * Queries from x [B, Tq, D] attend to given keys/values [B·H, Tk, Dh] (self-attention with a cache,
 * or cross-attention to a projected encoder memory). Returns output [B, Tq, D] and, if asked,
 * weights [B, H, Tq, Tk].
 */
export function attendKeyValues(params: Params, prefix: string, x: tf.Tensor, kv: KeyValues, numHeads: number, opts: AttentionOptions = {}) {
  const fused = checkInput(params, prefix, x, numHeads, 'x');
  const [B, Tq, D] = x.shape as [number, number, number];
  if (kv.k.shape[0] !== B * numHeads || kv.k.shape[2] !== D / numHeads) {
    throw new Error(`multiHeadAttention: keys [${kv.k.shape}] must be [B·H, Tk, Dh] = [${B * numHeads}, Tk, ${D / numHeads}] for x [${x.shape}]`);
  }
  const Tk = kv.k.shape[1];
  if (opts.temperature !== undefined && (opts.temperature.rank !== 1 || opts.temperature.shape[0] !== numHeads)) {
    throw new Error(`multiHeadAttention: temperature must be [numHeads] = [${numHeads}], got [${opts.temperature.shape}]`);
  }
  return tf.tidy(() => {
    let q = splitHeads(project(params, prefix, x, 0, fused), numHeads);                   // [BH, Tq, Dh]
    if (opts.temperature !== undefined) {
      const dh = D / numHeads, perHead = tf.reshape(tf.mul(opts.temperature, Math.sqrt(dh)), [1, numHeads, 1]); // τ_h·√d_k
      q = tf.reshape(tf.mul(tf.reshape(q, [B, numHeads, Tq * dh]), perHead), [B * numHeads, Tq, dh]) as tf.Tensor3D;
    }
    const {output, weights} = scaledDotProductAttention(q, kv.k, kv.v, B, opts);          // [BH, Tq, Dh], [BH, Tq, Tk]
    const merged = mergeHeads(output, B);                                                 // [B, Tq, D]
    const out = dense(merged, param(params, `${prefix}.proj.weight`), param(params, `${prefix}.proj.bias`)); // [B, Tq, D]
    const result: {output: tf.Tensor3D; weights?: tf.Tensor4D} = {output: out as tf.Tensor3D};
    if (opts.returnWeights) result.weights = tf.reshape(weights, [B, numHeads, Tq, Tk]) as tf.Tensor4D;
    return result;
  });
}

/**
 * Multi-head attention. x: [B, Tq, D] (queries); memory: [B, Tk, D] (keys/values; null = x for
 * self-attention). Returns output [B, Tq, D] and, if asked, weights [B, H, Tq, Tk].
 */
export function multiHeadAttention(params: Params, prefix: string, x: tf.Tensor, memory: tf.Tensor | null, numHeads: number, opts: AttentionOptions = {}) {
  checkInput(params, prefix, x, numHeads, 'x');
  const [B, , D] = x.shape as [number, number, number];
  const mem = memory ?? x;
  if (mem.rank !== 3 || mem.shape[0] !== B || mem.shape[2] !== D) {
    throw new Error(`multiHeadAttention: memory [${mem.shape}] must be [B, Tk, D] = [${B}, Tk, ${D}] to match x [${x.shape}]`);
  }
  return tf.tidy(() => attendKeyValues(params, prefix, x, projectKeyValues(params, prefix, mem, numHeads), numHeads, opts));
}
