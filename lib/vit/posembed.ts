/**
 * Position embeddings for the ViT — Chapter 3 §3.6 and §3.11.
 * - fixed 2-D sin/cos embeddings (MAE, MoCo v3; Swin instead adds a learned relative position bias
 *   to the attention scores): half of the channels encode the row, half the column, each with
 *   the 1-D Transformer encoding  [sin(p·ω_k), cos(p·ω_k)], ω_k = 10000^(−k/(D/4)).
 * - resampling learned embeddings to another grid (another image size): the N = gh·gw patch
 *   vectors are laid out on their 2-D grid and resized per channel, bilinearly or bicubically
 *   (PyTorch's F.interpolate with align_corners=False, no antialias); prefix tokens (CLS) are
 *   kept apart and copied. Written as two matrix products  G' = R_h · G · R_wᵀ  (per channel),
 *   so it is plain tfjs ops (and differentiable).
 */
import * as tf from '@tensorflow/tfjs';
import {Params} from '../core/params';
import {numPatches, numTokens, ViTConfig, vitConfig} from './model';

/** 1-D sin/cos table for positions 0..n-1: [n, dim], first dim/2 columns sin, last dim/2 cos. */
function sincos1d(n: number, dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < half; k++) {
      const omega = 1 / 10000 ** (k / half);
      out[p * dim + k] = Math.sin(p * omega);
      out[p * dim + half + k] = Math.cos(p * omega);
    }
  }
  return out;
}

/**
 * Fixed 2-D sin/cos position embeddings: [1, prefix + gh·gw, D]; channels [0, D/2) encode the row,
 * [D/2, D) the column; prefix tokens (CLS) get zeros. D must be divisible by 4.
 */
export function sincos2dPosEmbed(gh: number, gw: number, dModel: number, prefixTokens = 1): tf.Tensor3D {
  if (dModel % 4 !== 0) throw new Error(`sincos2dPosEmbed: dModel (${dModel}) must be divisible by 4 (sin and cos for rows and columns)`);
  const half = dModel / 2;
  const rows = sincos1d(gh, half), cols = sincos1d(gw, half);
  const out = new Float32Array((prefixTokens + gh * gw) * dModel);
  for (let i = 0; i < gh; i++) {
    for (let j = 0; j < gw; j++) {
      const o = (prefixTokens + i * gw + j) * dModel;
      out.set(rows.subarray(i * half, (i + 1) * half), o);
      out.set(cols.subarray(j * half, (j + 1) * half), o + half);
    }
  }
  return tf.tensor3d(out, [1, prefixTokens + gh * gw, dModel]);
}

export type ResizeMode = 'bilinear' | 'bicubic';

function cubic(t: number, a = -0.75): number { // Keys' kernel with PyTorch's a = −0.75
  const x = Math.abs(t);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/**
 * The 1-D resampling matrix R [outSize, inSize] of F.interpolate(align_corners=False):
 * output i reads the source coordinate s = (i + 0.5)·in/out − 0.5 (bilinear clamps s at 0;
 * bicubic reads 4 neighbours with indices clamped to the border). out = in gives the identity.
 */
export function resizeMatrix(inSize: number, outSize: number, mode: ResizeMode): Float32Array {
  const R = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  const clampIdx = (k: number) => Math.min(Math.max(k, 0), inSize - 1);
  for (let i = 0; i < outSize; i++) {
    if (mode === 'bilinear') {
      const s = Math.max(0, scale * (i + 0.5) - 0.5);
      const i0 = Math.min(Math.floor(s), inSize - 1);
      const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
      const l = s - i0;
      R[i * inSize + i0]! += 1 - l;
      R[i * inSize + i1]! += l;
    } else {
      const s = scale * (i + 0.5) - 0.5;
      const f = Math.floor(s), t = s - f;
      for (let k = -1; k <= 2; k++) R[i * inSize + clampIdx(f + k)]! += cubic(k - t);
    }
  }
  return R;
}

/**
 * Resample a position-embedding table to a new grid.
 * posEmbed [1, prefix + gh·gw, D] → [1, prefix + nh·nw, D]; the first `prefixTokens` rows (CLS)
 * are copied unchanged. `oldGrid` defaults to the square grid √(T − prefix).
 */
export function interpolatePosEmbed(posEmbed: tf.Tensor, newGrid: [number, number], opts: {prefixTokens?: number; oldGrid?: [number, number]; mode?: ResizeMode} = {}): tf.Tensor3D {
  const prefix = opts.prefixTokens ?? 1, mode = opts.mode ?? 'bicubic';
  if (posEmbed.rank !== 3 || posEmbed.shape[0] !== 1) throw new Error(`interpolatePosEmbed: posEmbed must be [1, T, D], got [${posEmbed.shape}]`);
  const [, T, D] = posEmbed.shape as [number, number, number];
  const n = T - prefix;
  const side = Math.round(Math.sqrt(n));
  const [gh, gw] = opts.oldGrid ?? [side, side];
  if (gh * gw !== n) throw new Error(`interpolatePosEmbed: ${T} tokens − ${prefix} prefix = ${n} patch positions, which is not a ${gh}x${gw} grid`);
  const [nh, nw] = newGrid;
  if (!(Number.isInteger(nh) && Number.isInteger(nw) && nh > 0 && nw > 0)) throw new Error(`interpolatePosEmbed: new grid must be positive integers, got ${nh}x${nw}`);
  if (mode !== 'bilinear' && mode !== 'bicubic') throw new Error(`interpolatePosEmbed: mode must be bilinear or bicubic (got ${mode})`);
  return tf.tidy(() => {
    const Rh = tf.tensor2d(resizeMatrix(gh, nh, mode), [nh, gh]);
    const Rw = tf.tensor2d(resizeMatrix(gw, nw, mode), [nw, gw]);
    const head = tf.slice(posEmbed, [0, 0, 0], [1, prefix, D]);                          // [1, prefix, D]
    const grid = tf.reshape(tf.slice(posEmbed, [0, prefix, 0], [1, n, D]), [gh, gw * D]); // [gh, gw·D]
    const a = tf.reshape(tf.matMul(Rh, grid), [nh, gw, D]);                               // [nh, gw, D]
    const b = tf.reshape(tf.transpose(a, [1, 0, 2]), [gw, nh * D]);                        // [gw, nh·D]
    const c = tf.reshape(tf.matMul(Rw, b), [nw, nh, D]);                                  // [nw, nh, D]
    const resized = tf.reshape(tf.transpose(c, [1, 0, 2]), [1, nh * nw, D]);               // [1, nh·nw, D]
    return tf.concat([head, resized], 1) as tf.Tensor3D;                                  // [1, prefix + nh·nw, D]
  });
}

/**
 * The model at another image size: same weights, position embeddings resampled to the new grid.
 * Returns a new config and a params object that shares every variable with `params` except a NEW
 * `pos_embed` variable (dispose only that one: `out.params['pos_embed'].dispose()`).
 */
export function resizeViT(params: Params, cfg: ViTConfig, imageSize: number, mode: ResizeMode = 'bicubic'): {params: Params; config: ViTConfig} {
  if (cfg.pool === 'flatten') throw new Error('resizeViT: a flatten head has numTokens·dModel inputs, so it cannot run at another image size (use cls or mean pooling)');
  const config = vitConfig({...cfg, imageSize});
  const gh = Math.sqrt(numPatches(config));                     // patches: imageSize/P; conv tokenizer: its output map
  const old = params['pos_embed'];
  if (!old) throw new Error('resizeViT: missing parameter "pos_embed"');
  if (old.shape[1] !== numTokens(cfg)) throw new Error(`resizeViT: pos_embed is [${old.shape}] but the config has ${numTokens(cfg)} tokens`);
  const side = Math.sqrt(numPatches(cfg));
  const pe = interpolatePosEmbed(old, [gh, gh], {prefixTokens: cfg.pool === 'cls' ? 1 : 0, oldGrid: [side, side], mode});
  const out: Params = {...params, pos_embed: tf.variable(pe, true)};
  pe.dispose();
  return {params: out, config};
}

/**
 * Cosine similarity between the position embeddings of all patch pairs (prefix tokens dropped):
 * posEmbed [1, prefix + N, D] → [N, N]. The ViT paper's Figure 7 (centre) draws row i on the grid.
 */
export function posEmbedCosine(posEmbed: tf.Tensor, prefixTokens = 1): tf.Tensor2D {
  if (posEmbed.rank !== 3 || posEmbed.shape[0] !== 1) throw new Error(`posEmbedCosine: posEmbed must be [1, T, D], got [${posEmbed.shape}]`);
  const [, T, D] = posEmbed.shape as [number, number, number];
  return tf.tidy(() => {
    const e = tf.reshape(tf.slice(posEmbed, [0, prefixTokens, 0], [1, T - prefixTokens, D]), [T - prefixTokens, D]); // [N, D]
    const u = tf.div(e, tf.add(tf.norm(e, 'euclidean', 1, true), 1e-12));                                             // unit rows
    return tf.matMul(u, u, false, true) as tf.Tensor2D;                                                                // [N, N]
  });
}

/**
 * Switches a model to fixed 2-D sin/cos position embeddings: overwrites `pos_embed` (CLS row 0)
 * and returns the names to leave out of the optimizer (['pos_embed']), since a fixed embedding is
 * not trained. Needs a square grid and dModel divisible by 4.
 */
export function useSincosPosEmbed(params: Params, cfg: ViTConfig): string[] {
  const g = Math.sqrt(numPatches(cfg));
  const pe = sincos2dPosEmbed(g, g, cfg.dModel, cfg.pool === 'cls' ? 1 : 0);
  const v = params['pos_embed'];
  if (!v) throw new Error('useSincosPosEmbed: missing parameter "pos_embed"');
  if (v.shape.join() !== pe.shape.join()) {
    pe.dispose();
    throw new Error(`useSincosPosEmbed: pos_embed is [${v.shape}] but the config needs [${[1, numTokens(cfg), cfg.dModel]}]`);
  }
  v.assign(pe);
  pe.dispose();
  return ['pos_embed'];
}
