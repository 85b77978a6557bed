/**
 * Reading a ViT's attention — Chapter 3 §3.8–3.10.
 * - CLS attention: row 0 of each layer's weights [B, H, T, T], columns 1..N laid on the patch grid.
 * - Attention rollout (Abnar & Zuidema, 2020): the residual stream carries a token's own value
 *   forward, so each layer's mixing is  Ā_l = norm_rows(r·I + (1 − r)·A_l)  (r = 0.5, A_l averaged
 *   over heads), and the attention from the output back to the input tokens is the product
 *   R = Ā_L · Ā_{L−1} · … · Ā_1.  Row 0 of R (without the CLS column) is the CLS token's map.
 * - Mean attention distance (ViT paper, Figure 7 right): for a query patch i, Σ_j a_ij · ‖p_i − p_j‖
 *   in pixels (patch centres), averaged over query patches and images, per head; CLS rows/columns
 *   are dropped and each remaining row re-normalised to sum to 1.
 * - CLS attention entropy: H = −Σ_j a_j ln a_j (nats) of the CLS row over the N patches
 *   (re-normalised), per head; uniform attention gives ln N, attention to one patch gives 0.
 * - Sequence pooling (CCT; pool 'seq', no CLS token): the classifier reads Σ_t w_t z_t with
 *   w = softmax_t(z_t·w_pool + b) over the final tokens, so w itself (vitForward's poolWeights) is
 *   the direct map of where it looks. Its analogue of the CLS row is the pooled row wᵀA_l
 *   (Σ_i w_i A_l[i, :], what the pooled vector reads through layer l's attention), and its rollout
 *   map is wᵀR: a mixture of rows of R, so it sums to 1 as w and R's rows do.
 */
import * as tf from '@tensorflow/tfjs';

function checkStack(attns: tf.Tensor[], who: string): [number, number, number] {
  if (attns.length === 0) throw new Error(`${who}: need at least one layer of attention weights`);
  const s0 = attns[0]!.shape;
  for (const [l, a] of attns.entries()) {
    if (a.rank !== 4 || a.shape[2] !== a.shape[3] || a.shape.some((d, i) => d !== s0[i])) {
      throw new Error(`${who}: layer ${l} weights must be [B, H, T, T] like layer 0 [${s0}], got [${a.shape}]`);
    }
  }
  return [s0[0]!, s0[1]!, s0[2]!];
}

/** CLS attention per layer and head: attns L × [B, H, T, T] → [L, B, H, gh, gw] (T = 1 + gh·gw). */
export function clsAttention(attns: tf.Tensor[], grid: [number, number]): tf.Tensor {
  const [B, H, T] = checkStack(attns, 'clsAttention');
  const [gh, gw] = grid;
  if (T !== 1 + gh * gw) throw new Error(`clsAttention: ${T} tokens is not CLS + a ${gh}x${gw} grid (${1 + gh * gw})`);
  return tf.tidy(() => tf.stack(attns.map(a => tf.reshape(tf.slice(a, [0, 0, 0, 1], [B, H, 1, T - 1]), [B, H, gh, gw]))));
}

/**
 * Attention rollout: attns L × [B, H, T, T] → R [B, T, T] with R = Ā_L ⋯ Ā_1,
 * Ā_l = norm_rows(residual·I + (1 − residual)·fuse_heads(A_l)). fuse: mean (default), max or min.
 */
export function attentionRollout(attns: tf.Tensor[], opts: {residual?: number; headFusion?: 'mean' | 'max' | 'min'} = {}): tf.Tensor3D {
  const [, , T] = checkStack(attns, 'attentionRollout');
  const r = opts.residual ?? 0.5, fusion = opts.headFusion ?? 'mean';
  if (!(r >= 0 && r <= 1)) throw new Error(`attentionRollout: residual must be in [0, 1] (got ${r})`);
  return tf.tidy(() => {
    const eye = tf.eye(T);                                                      // [T, T]
    let R: tf.Tensor | null = null;
    for (const a of attns) {
      const fused = fusion === 'mean' ? tf.mean(a, 1) : fusion === 'max' ? tf.max(a, 1) : tf.min(a, 1); // [B, T, T]
      const mixed = tf.add(tf.mul(eye, r), tf.mul(fused, 1 - r));              // [B, T, T]
      const bar = tf.div(mixed, tf.sum(mixed, -1, true));                       // rows sum to 1
      R = R === null ? bar : tf.matMul(bar, R);                                 // Ā_l · R_{l−1}
    }
    return R as tf.Tensor3D;
  });
}

/** Rollout map of the CLS token on the grid: R [B, T, T] → [B, gh, gw] (row 0, patch columns, rescaled to sum to 1). */
export function clsRollout(R: tf.Tensor, grid: [number, number]): tf.Tensor3D {
  const [B, T] = R.shape as [number, number, number];
  const [gh, gw] = grid;
  if (R.rank !== 3 || T !== 1 + gh * gw) throw new Error(`clsRollout: R must be [B, ${1 + gh * gw}, ${1 + gh * gw}] for CLS + ${gh}x${gw}, got [${R.shape}]`);
  return tf.tidy(() => {
    const row = tf.reshape(tf.slice(R, [0, 0, 1], [B, 1, T - 1]), [B, T - 1]); // [B, N]
    return tf.reshape(tf.div(row, tf.sum(row, -1, true)), [B, gh, gw]) as tf.Tensor3D;
  });
}

/** Pixel distances between patch centres on a gh×gw grid of P-pixel patches: [N, N]. */
export function patchDistances(gh: number, gw: number, patchSize: number): tf.Tensor2D {
  const N = gh * gw;
  const d = new Float32Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
    const dy = Math.floor(i / gw) - Math.floor(j / gw), dx = (i % gw) - (j % gw);
    d[i * N + j] = patchSize * Math.sqrt(dy * dy + dx * dx);
  }
  return tf.tensor2d(d, [N, N]);
}

/**
 * Mean attention distance per head of one layer: attn [B, H, T, T] with `prefixTokens` leading
 * non-patch tokens → [H] pixels (averaged over images and query patches).
 */
export function meanAttentionDistance(attn: tf.Tensor, grid: [number, number], patchSize: number, prefixTokens = 1): tf.Tensor1D {
  const [B, H, T] = checkStack([attn], 'meanAttentionDistance');
  const [gh, gw] = grid, N = gh * gw;
  if (T !== prefixTokens + N) throw new Error(`meanAttentionDistance: ${T} tokens is not ${prefixTokens} prefix + a ${gh}x${gw} grid`);
  return tf.tidy(() => {
    const a = tf.slice(attn, [0, 0, prefixTokens, prefixTokens], [B, H, N, N]);   // [B, H, N, N]
    const an = tf.div(a, tf.sum(a, -1, true));                                   // rows sum to 1
    const dist = tf.sum(tf.mul(an, patchDistances(gh, gw, patchSize)), -1);      // [B, H, N]
    return tf.mean(dist, [0, 2]) as tf.Tensor1D;                                 // [H]
  });
}

/**
 * Entropy (nats) of the CLS token's attention over the patches, per head: attn [B, H, T, T] with
 * `prefixTokens` leading non-patch tokens (CLS first) → [H], averaged over images. The CLS row's
 * patch columns are re-normalised to sum to 1, so uniform attention gives ln N exactly.
 */
export function clsAttentionEntropy(attn: tf.Tensor, prefixTokens = 1): tf.Tensor1D {
  const [B, H, T] = checkStack([attn], 'clsAttentionEntropy');
  if (prefixTokens < 1 || T <= prefixTokens) throw new Error(`clsAttentionEntropy: needs a CLS token and patches (${T} tokens, ${prefixTokens} prefix)`);
  return tf.tidy(() => {
    const row = tf.slice(attn, [0, 0, 0, prefixTokens], [B, H, 1, T - prefixTokens]);   // [B, H, 1, N]
    const p = tf.div(row, tf.sum(row, -1, true));                                        // sums to 1
    const plogp = tf.mul(p, tf.log(tf.maximum(p, 1e-30)));                               // 0·ln 0 = 0
    return tf.mean(tf.neg(tf.sum(plogp, [2, 3])), 0) as tf.Tensor1D;                     // [H]
  });
}


function checkWeights(weights: tf.Tensor, T: number, grid: [number, number], who: string): number {
  const [gh, gw] = grid;
  if (weights.rank !== 2 || weights.shape[1] !== T) throw new Error(`${who}: pooling weights must be [B, ${T}], got [${weights.shape}]`);
  if (T !== gh * gw) throw new Error(`${who}: ${T} tokens is not a ${gh}x${gw} grid (sequence pooling has no CLS token)`);
  return weights.shape[0]!;
}

/** Sequence-pooling weights on the token grid: weights [B, N] → [B, gh, gw] (N = gh·gw). */
export function poolWeightMap(weights: tf.Tensor, grid: [number, number]): tf.Tensor3D {
  const B = checkWeights(weights, grid[0] * grid[1], grid, 'poolWeightMap');
  return tf.reshape(weights, [B, grid[0], grid[1]]);
}

/**
 * The pooled row of every layer's attention: attns L × [B, H, T, T], weights [B, T] →
 * [L, B, H, gh, gw] with entry Σ_i w_i A_l[b, h, i, j] — the CLS row's analogue for sequence pooling.
 */
export function pooledAttention(attns: tf.Tensor[], weights: tf.Tensor, grid: [number, number]): tf.Tensor {
  const [B, H, T] = checkStack(attns, 'pooledAttention');
  if (checkWeights(weights, T, grid, 'pooledAttention') !== B) throw new Error(`pooledAttention: ${weights.shape[0]} pooling weight rows for ${B} images`);
  return tf.tidy(() => {
    const w = tf.reshape(weights, [B, 1, 1, T]);                                              // [B, 1, 1, T]
    return tf.stack(attns.map(a => tf.reshape(tf.matMul(tf.tile(w, [1, H, 1, 1]), a), [B, H, grid[0], grid[1]])));
  });
}

/** Rollout map of sequence pooling: R [B, T, T], weights [B, T] → wᵀR on the grid, [B, gh, gw] (sums to 1). */
export function pooledRollout(R: tf.Tensor, weights: tf.Tensor, grid: [number, number]): tf.Tensor3D {
  const T = R.shape[1]!;
  if (R.rank !== 3 || R.shape[2] !== T) throw new Error(`pooledRollout: R must be [B, T, T], got [${R.shape}]`);
  const B = checkWeights(weights, T, grid, 'pooledRollout');
  if (R.shape[0] !== B) throw new Error(`pooledRollout: ${B} pooling weight rows for ${R.shape[0]} images`);
  return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(weights, [B, 1, T]), R), [B, grid[0], grid[1]]) as tf.Tensor3D);
}

/**
 * Entropy (nats) of distributions along the last axis: p [..., N] → [...], each row re-normalised
 * to sum to 1 first (0·ln 0 = 0): ln N for a uniform row, 0 for a one-hot row.
 */
export function mapEntropy(p: tf.Tensor): tf.Tensor {
  if (p.rank < 1) throw new Error('mapEntropy: needs a tensor with a last axis');
  return tf.tidy(() => {
    const q = tf.div(p, tf.sum(p, -1, true));
    return tf.neg(tf.sum(tf.mul(q, tf.log(tf.maximum(q, 1e-30))), -1));
  });
}