/**
 * Tokenizers and poolings of ViTs for small data — Chapter 4 (and Chapter 3's hybrid model).
 *
 * - Convolutional tokenizer (CCT, Hassani et al. 2021, "Escaping the Big Data Paradigm with Compact
 *   Transformers"; reference code SHI-Labs/Compact-Transformers src/utils/tokenizer.py): per stage a
 *   3×3 convolution (stride 1, padding 1, no bias, Kaiming-normal init) → ReLU → 3×3 max-pool with
 *   stride 2 and padding 1. Inner stages have `convChannels` channels (CCT's in_planes = 64), the last
 *   has dModel; the last map's pixels are the tokens. A convolutional stem feeding the Transformer:
 *   the "hybrid" ViT of Dosovitskiy et al. Trains on wasm through lib/core/conv.ts (im2col + matMul).
 *   Parameters: tokenizer.conv{i}.weight [3, 3, C_in, C_out] (HWIO).
 * - Shifted patch tokenization (SPT, Lee et al. 2021, "Vision Transformer for Small-Size Datasets";
 *   reference code aanna0701/SPT_LSA_ViT models/SPT.py): the image is zero-padded by s = ⌊P/2⌋ and
 *   cropped back four times, shifted diagonally (left-up, right-up, left-down, right-down); the image
 *   and its 4 shifts are concatenated on channels (5C), cut into P×P patches, LayerNorm'ed and projected.
 *   Parameters: patch_embed.norm.{weight,bias} [5·P²·C], patch_embed.proj.{weight [5·P²·C, D], bias}.
 * - Sequence pooling (CCT's `seq_pool`): weights softmax_t(x_t · w + b) over the tokens, pooled = Σ_t w_t x_t.
 * - The source blog's position embedding: Linear(1 → D) of the token index 0..T−1 (pos_embed_linear.*).
 */
import * as tf from '@tensorflow/tfjs';
import {conv2d, maxPool2d} from '../core/conv';
import {layerNorm} from '../core/layernorm';
import {dense} from '../core/linear';
import {addDense, addLayerNorm, addParam, param, Params} from '../core/params';
import {Rng} from '../core/rng';
import type {ViTConfig} from './model';
import {patchify} from './patches';

/** Channels in → out of each conv tokenizer stage. */
export function convStageChannels(cfg: ViTConfig): [number, number][] {
  const n = cfg.convStages ?? 2, inner = cfg.convChannels ?? 64, out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([i === 0 ? cfg.channels : inner, i === n - 1 ? cfg.dModel : inner]);
  return out;
}

/** Kaiming-normal (fan_in, gain √2) conv filter [k, k, cin, cout], as nn.init.kaiming_normal_ (not truncated). */
function kaimingConv(k: number, cin: number, cout: number, rng: Rng): tf.Tensor {
  const std = Math.sqrt(2 / (k * k * cin)), v = new Float32Array(k * k * cin * cout);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
  return tf.tensor(v, [k, k, cin, cout]);
}

export function initTokenizer(p: Params, cfg: ViTConfig, rng: Rng): void {
  if (cfg.tokenizer === 'conv') {
    convStageChannels(cfg).forEach(([cin, cout], i) => addParam(p, `tokenizer.conv${i}.weight`, kaimingConv(3, cin, cout, rng)));
  } else if (cfg.tokenizer === 'shifted-patch') {
    const dim = 5 * cfg.patchSize * cfg.patchSize * cfg.channels;
    addLayerNorm(p, 'patch_embed.norm', dim);
    addDense(p, 'patch_embed.proj', dim, cfg.dModel, rng, 'xavier');
  } else {
    throw new Error(`initTokenizer: no tokenizer "${cfg.tokenizer}"`);
  }
}

export function tokenizerParamShapes(cfg: ViTConfig): Record<string, number[]> {
  const s: Record<string, number[]> = {};
  if (cfg.tokenizer === 'conv') {
    convStageChannels(cfg).forEach(([cin, cout], i) => { s[`tokenizer.conv${i}.weight`] = [3, 3, cin, cout]; });
  } else if (cfg.tokenizer === 'shifted-patch') {
    const dim = 5 * cfg.patchSize * cfg.patchSize * cfg.channels;
    s['patch_embed.norm.weight'] = [dim]; s['patch_embed.norm.bias'] = [dim];
    s['patch_embed.proj.weight'] = [dim, cfg.dModel]; s['patch_embed.proj.bias'] = [cfg.dModel];
  }
  return s;
}

/**
 * Where a token sits in the image, along one axis: every pixel that can affect token i lies in
 * [centre_i − (size−1)/2, centre_i + (size−1)/2] with centre_i = firstCentre + stride·i (pixel
 * indices; borders clip it). Patches: size = stride = P, firstCentre (P−1)/2. Conv tokenizer: the
 * receptive-field recurrence over its layers (k, s, p) = conv (3, 1, 1), max-pool (3, 2, 1) per
 * stage: size += (k−1)·jump, firstCentre += ((k−1)/2 − p)·jump, jump ·= s; two stages give
 * 13 px every 4 px. Shifted patches: the patch and its copies shifted by ⌊P/2⌋, P + 2⌊P/2⌋ px.
 */
export function tokenReceptiveField(cfg: ViTConfig): {size: number; stride: number; firstCentre: number} {
  const tok = cfg.tokenizer ?? 'patch', P = cfg.patchSize;
  if (tok === 'patch') return {size: P, stride: P, firstCentre: (P - 1) / 2};
  if (tok === 'shifted-patch') return {size: P + 2 * Math.floor(P / 2), stride: P, firstCentre: (P - 1) / 2};
  let size = 1, jump = 1, firstCentre = 0;
  for (let i = 0; i < (cfg.convStages ?? 2); i++) {
    for (const [k, s, p] of [[3, 1, 1], [3, 2, 1]] as const) {
      size += (k - 1) * jump;
      firstCentre += ((k - 1) / 2 - p) * jump;
      jump *= s;
    }
  }
  return {size, stride: jump, firstCentre};
}

/** CCT tokenizer: images [B, H, W, C] → tokens [B, h·w, D] (conv → ReLU → max-pool per stage). */
export function convTokens(params: Params, cfg: ViTConfig, images: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    let x: tf.Tensor = images;
    for (let i = 0; i < convStageChannels(cfg).length; i++) {
      x = tf.relu(conv2d(x, param(params, `tokenizer.conv${i}.weight`), undefined, {stride: 1, pad: 1})); // [B, h, w, C_i]
      x = maxPool2d(x, 3, 2, 1);                                                                          // [B, ⌈h/2⌉, ⌈w/2⌉, C_i]
    }
    const [B, h, w, D] = x.shape as [number, number, number, number];
    return tf.reshape(x, [B, h * w, D]) as tf.Tensor3D;
  });
}

/**
 * SPT's input: images [B, H, W, C] → [B, H, W, 5C] = [x, left-up, right-up, left-down, right-down],
 * each shift a crop of x zero-padded by s (x_pad[:, 0:H, 0:W], x_pad[:, 0:H, 2s:], x_pad[:, 2s:, 0:W], x_pad[:, 2s:, 2s:]).
 */
export function shiftedImages(images: tf.Tensor, shift: number): tf.Tensor4D {
  const [B, H, W, C] = images.shape as [number, number, number, number];
  return tf.tidy(() => {
    if (shift === 0) return tf.concat([images, images, images, images, images], 3) as tf.Tensor4D;
    const xp = tf.pad(images, [[0, 0], [shift, shift], [shift, shift], [0, 0]]);
    const crop = (y: number, x: number) => tf.slice(xp, [0, y, x, 0], [B, H, W, C]);
    return tf.concat([images, crop(0, 0), crop(0, 2 * shift), crop(2 * shift, 0), crop(2 * shift, 2 * shift)], 3) as tf.Tensor4D;
  });
}

/** SPT: images → tokens [B, N, D] = linear(LN(patchify(shiftedImages(x, ⌊P/2⌋)))). */
export function shiftedPatchTokens(params: Params, cfg: ViTConfig, images: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const patches = patchify(shiftedImages(images, Math.floor(cfg.patchSize / 2)), cfg.patchSize);          // [B, N, 5·P²·C]
    const normed = layerNorm(patches, param(params, 'patch_embed.norm.weight'), param(params, 'patch_embed.norm.bias'), cfg.lnEps);
    return dense(normed, param(params, 'patch_embed.proj.weight'), param(params, 'patch_embed.proj.bias')) as tf.Tensor3D;
  });
}

/** The source blog's position embedding: index t = 0..T−1 → t·w + b, [1, T, D]. */
export function indexLinearPositions(params: Params, T: number): tf.Tensor3D {
  return tf.tidy(() => {
    const idx = tf.reshape(tf.range(0, T, 1, 'float32'), [T, 1]);                                          // [T, 1]
    const pos = dense(idx, param(params, 'pos_embed_linear.weight'), param(params, 'pos_embed_linear.bias'));  // [T, D]
    return tf.expandDims(pos, 0) as tf.Tensor3D;
  });
}

/** Tokens of any tokenizer + CLS + positions (the plain patch + learned case stays in model.ts's embed). */
export function embedVariant(params: Params, cfg: ViTConfig, images: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const B = images.shape[0]!;
    let x: tf.Tensor;
    if (cfg.tokenizer === 'conv') x = convTokens(params, cfg, images);
    else if (cfg.tokenizer === 'shifted-patch') x = shiftedPatchTokens(params, cfg, images);
    else x = dense(patchify(images, cfg.patchSize), param(params, 'patch_embed.proj.weight'), param(params, 'patch_embed.proj.bias'));
    if (cfg.pool === 'cls') x = tf.concat([tf.tile(param(params, 'cls_token'), [B, 1, 1]), x], 1);        // [B, T, D]
    const pe = cfg.posEmbed ?? 'learned';
    if (pe === 'learned') x = tf.add(x, param(params, 'pos_embed'));
    else if (pe === 'index-linear') x = tf.add(x, indexLinearPositions(params, x.shape[1]!));
    return x as tf.Tensor3D;
  });
}

/** CCT's sequence-pooling weights: x [B, T, D] → softmax_t(x_t·w + b), [B, T] (each row sums to 1). */
export function seqPoolWeights(params: Params, x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const scores = dense(x, param(params, 'attention_pool.weight'), param(params, 'attention_pool.bias'));  // [B, T, 1]
    return tf.softmax(tf.squeeze(scores, [2])) as tf.Tensor2D;                                              // [B, T]
  });
}

/** CCT's sequence pooling: x [B, T, D] → Σ_t softmax_t(x_t·w + b) x_t, [B, D]; `weights` = seqPoolWeights(x) if known. */
export function seqPool(params: Params, x: tf.Tensor, weights?: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const w = weights ?? seqPoolWeights(params, x);                                                          // [B, T]
    return tf.sum(tf.mul(tf.expandDims(w, 2), x), 1) as tf.Tensor2D;                                        // [B, D]
  });
}


