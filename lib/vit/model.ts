/**
 * The Vision Transformer — Chapter 3 (Dosovitskiy et al., 2020), pre-norm encoder from Chapter 2.
 *   z0 = [x_cls; x_p¹E; …; x_pᴺE] + E_pos,  z_l = encoder layers,  y = head(LN(pool(z_L)))
 * Parameters use timm's names (our layout: dense kernels [in, out]): patch_embed.proj.*,
 * cls_token [1, 1, D], pos_embed [1, N(+1), D], blocks.N.*, norm.*, head.*.
 * Written by hand on purpose: Chapter 3 builds the ViT from the Transformer's parts, not from a library model.
 *
 * Small-data options (Chapter 4; all optional, absent = the plain ViT above, so older configs and
 * checkpoints load unchanged; tokenizers in ./tokenizers.ts):
 *   tokenizer 'conv'           CCT's convolutional tokenizer (Hassani et al. 2021): convStages × (3×3 conv,
 *                              no bias → ReLU → 3×3 max-pool stride 2 pad 1); tokens = the last map's
 *                              pixels (32 px, 2 stages → 8×8 = 64 tokens). Also the "hybrid" ViT's stem.
 *   tokenizer 'shifted-patch'  SPT (Lee et al. 2021): the image and its 4 diagonal shifts by P/2 are
 *                              concatenated on channels, cut into P×P patches, LayerNorm → linear.
 *   lsa                        locality self-attention (Lee et al. 2021): learnable per-head temperature, no self-token attention.
 *   pool 'seq'                 CCT's sequence pooling: softmax(x·w_pool) over tokens, weighted mean of x.
 *   norm 'post'                post-norm blocks (the 2017 Transformer; the source blog).
 *   posEmbed 'index-linear'    the source blog's Linear(1 → D) of the token index; 'none': no positions.
 *   dropPath                   stochastic depth, rate linear in depth from 0 (first block) to dropPath (last).
 */
import * as tf from '@tensorflow/tfjs';
import {Activation} from '../core/activations';
import {dense} from '../core/linear';
import {addDense, addLayerNorm, addParam, param, Params, truncNormal} from '../core/params';
import {Rng} from '../core/rng';
import {EncoderLayerConfig, encoderLayer, initEncoderLayer, norm} from '../transformer/encoder';
import {checkPatchGrid, patchify} from './patches';
import {embedVariant, initTokenizer, seqPool, seqPoolWeights, tokenizerParamShapes} from './tokenizers';

export type Pooling = 'cls' | 'mean' | 'flatten' | 'seq';
export type Tokenizer = 'patch' | 'conv' | 'shifted-patch';
export type PosEmbedKind = 'learned' | 'index-linear' | 'none';

export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  channels: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dFF: number;
  numClasses: number;
  dropout: number;
  pool: Pooling;
  activation: Activation;
  lnEps: number;
  tokenizer?: Tokenizer;         // default 'patch'
  convStages?: number;           // conv tokenizer: conv-ReLU-maxpool stages (default 2)
  convChannels?: number;         // conv tokenizer: channels of the inner stages (default 64, CCT's in_planes)
  lsa?: boolean;                 // locality self-attention (default false)
  norm?: 'pre' | 'post';         // default 'pre'
  posEmbed?: PosEmbedKind;       // default 'learned'
  dropPath?: number;             // stochastic depth rate of the last block (default 0)
}

export const VIT_DEFAULTS: ViTConfig = {
  imageSize: 32, patchSize: 4, channels: 3, dModel: 192, numHeads: 3, numLayers: 6, dFF: 384,
  numClasses: 10, dropout: 0, pool: 'cls', activation: 'gelu', lnEps: 1e-6,
};

export function vitConfig(o: Partial<ViTConfig> = {}): ViTConfig {
  const c = {...VIT_DEFAULTS, ...o};
  for (const k of ['imageSize', 'patchSize', 'channels', 'dModel', 'numHeads', 'numLayers', 'dFF', 'numClasses'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`ViT config: ${k} must be a positive integer (got ${c[k]})`);
  }
  if (c.dModel % c.numHeads !== 0) throw new Error(`ViT config: dModel (${c.dModel}) must be divisible by numHeads (${c.numHeads})`);
  checkPatchGrid(c.imageSize, c.imageSize, c.patchSize);
  if (!['cls', 'mean', 'flatten', 'seq'].includes(c.pool)) throw new Error(`ViT config: pool must be cls, mean, flatten or seq (got ${c.pool})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`ViT config: dropout must be in [0, 1) (got ${c.dropout})`);
  const oneOf = (k: keyof ViTConfig, allowed: readonly unknown[]) => {
    if (c[k] !== undefined && !allowed.includes(c[k])) throw new Error(`ViT config: ${k} must be one of ${allowed.join(', ')} (got ${c[k]})`);
  };
  oneOf('tokenizer', ['patch', 'conv', 'shifted-patch']);
  oneOf('norm', ['pre', 'post']);
  oneOf('posEmbed', ['learned', 'index-linear', 'none']);
  if (c.lsa !== undefined && typeof c.lsa !== 'boolean') throw new Error(`ViT config: lsa must be true or false (got ${c.lsa})`);
  for (const k of ['convStages', 'convChannels'] as const) {
    if (c[k] !== undefined && (!Number.isInteger(c[k]) || c[k]! <= 0)) throw new Error(`ViT config: ${k} must be a positive integer (got ${c[k]})`);
  }
  if (c.dropPath !== undefined && !(typeof c.dropPath === 'number' && c.dropPath >= 0 && c.dropPath < 1)) throw new Error(`ViT config: dropPath must be in [0, 1) (got ${c.dropPath})`);
  if (c.tokenizer === 'conv' && convGrid(c) < 1) throw new Error(`ViT config: ${c.convStages} conv stages leave no tokens of a ${c.imageSize}px image`);
  return c;
}

/** Side of the conv tokenizer's output map: each stage's max-pool (3, stride 2, pad 1) maps n → ⌈n/2⌉. */
export function convGrid(cfg: ViTConfig): number {
  let n = cfg.imageSize;
  for (let i = 0; i < (cfg.convStages ?? 2); i++) n = Math.floor((n - 1) / 2) + 1;
  return n;
}

export function numPatches(cfg: ViTConfig): number {
  return cfg.tokenizer === 'conv' ? convGrid(cfg) ** 2 : (cfg.imageSize / cfg.patchSize) ** 2;
}

export function numTokens(cfg: ViTConfig): number {
  return numPatches(cfg) + (cfg.pool === 'cls' ? 1 : 0);
}

export function layerConfig(cfg: ViTConfig): EncoderLayerConfig {
  const c: EncoderLayerConfig = {dModel: cfg.dModel, numHeads: cfg.numHeads, dFF: cfg.dFF, dropout: cfg.dropout, activation: cfg.activation, norm: cfg.norm ?? 'pre', lnEps: cfg.lnEps};
  if (cfg.lsa) c.lsa = true;
  return c;
}

/** Stochastic depth rate of block i: linear from 0 (first) to cfg.dropPath (last), as CCT's torch.linspace(0, sd, L). */
export function dropPathRate(cfg: ViTConfig, i: number): number {
  const r = cfg.dropPath ?? 0;
  return cfg.numLayers === 1 ? r : (r * i) / (cfg.numLayers - 1);
}

export function initViT(cfg: ViTConfig, seed = 0): Params {
  const rng = new Rng(seed);
  const p: Params = {};
  if ((cfg.tokenizer ?? 'patch') === 'patch') {
    const patchDim = cfg.patchSize * cfg.patchSize * cfg.channels;
    addDense(p, 'patch_embed.proj', patchDim, cfg.dModel, rng, 'xavier');
  } else {
    initTokenizer(p, cfg, rng);
  }
  if (cfg.pool === 'cls') addParam(p, 'cls_token', truncNormal([1, 1, cfg.dModel], 0.02, rng));
  const pe = cfg.posEmbed ?? 'learned';
  if (pe === 'learned') addParam(p, 'pos_embed', truncNormal([1, numTokens(cfg), cfg.dModel], 0.02, rng));
  else if (pe === 'index-linear') addDense(p, 'pos_embed_linear', 1, cfg.dModel, rng, 'xavier');
  for (let i = 0; i < cfg.numLayers; i++) initEncoderLayer(p, `blocks.${i}`, layerConfig(cfg), rng);
  addLayerNorm(p, 'norm', cfg.dModel);
  if (cfg.pool === 'seq') addDense(p, 'attention_pool', cfg.dModel, 1, rng, 'trunc_normal');
  const headIn = cfg.pool === 'flatten' ? numTokens(cfg) * cfg.dModel : cfg.dModel;
  addDense(p, 'head', headIn, cfg.numClasses, rng, 'trunc_normal');
  return p;
}

/**
 * The name and shape of every parameter initViT(cfg) creates, computed without allocating anything
 * (a checkpoint's recipe is checked against its tensors with it before a model is built).
 * test/train/load-trained-vit.test.ts pins it to initViT for every recipe and pooling.
 */
export function vitParamShapes(cfg: ViTConfig): Record<string, number[]> {
  const D = cfg.dModel, s: Record<string, number[]> = {};
  const dense = (n: string, i: number, o: number) => { s[`${n}.weight`] = [i, o]; s[`${n}.bias`] = [o]; };
  const ln = (n: string) => { s[`${n}.weight`] = [D]; s[`${n}.bias`] = [D]; };
  if ((cfg.tokenizer ?? 'patch') === 'patch') dense('patch_embed.proj', cfg.patchSize * cfg.patchSize * cfg.channels, D);
  else Object.assign(s, tokenizerParamShapes(cfg));
  if (cfg.pool === 'cls') s['cls_token'] = [1, 1, D];
  const pe = cfg.posEmbed ?? 'learned';
  if (pe === 'learned') s['pos_embed'] = [1, numTokens(cfg), D];
  else if (pe === 'index-linear') dense('pos_embed_linear', 1, D);
  for (let i = 0; i < cfg.numLayers; i++) {
    ln(`blocks.${i}.norm1`); dense(`blocks.${i}.attn.qkv`, D, 3 * D); dense(`blocks.${i}.attn.proj`, D, D); ln(`blocks.${i}.norm2`);
    if (cfg.lsa) s[`blocks.${i}.attn.temperature`] = [cfg.numHeads];
    dense(`blocks.${i}.mlp.fc1`, D, cfg.dFF); dense(`blocks.${i}.mlp.fc2`, cfg.dFF, D);
  }
  ln('norm');
  if (cfg.pool === 'seq') dense('attention_pool', D, 1);
  dense('head', cfg.pool === 'flatten' ? numTokens(cfg) * D : D, cfg.numClasses);
  return s;
}

export interface ViTOutput {
  logits: tf.Tensor2D;            // [B, numClasses]
  attentions?: tf.Tensor4D[];     // per layer [B, H, T, T]
  poolWeights?: tf.Tensor2D;      // pool 'seq' with returnPoolWeights: the sequence-pooling weights [B, T]
}

export interface ViTRunOptions {
  training?: boolean;
  returnAttention?: boolean;
  /** pool 'seq' only: also return the sequence-pooling weights (where the classifier reads) */
  returnPoolWeights?: boolean;
  seed?: number;
}

/** Patch embedding + CLS + positions: images [B, H, W, C] → tokens [B, T, D]. */
export function embed(params: Params, cfg: ViTConfig, images: tf.Tensor): tf.Tensor3D {
  const [, H, W, C] = images.shape;
  if (images.rank !== 4 || H !== cfg.imageSize || W !== cfg.imageSize || C !== cfg.channels) {
    throw new Error(`ViT: images must be [B, ${cfg.imageSize}, ${cfg.imageSize}, ${cfg.channels}], got [${images.shape}]`);
  }
  if ((cfg.tokenizer ?? 'patch') !== 'patch' || (cfg.posEmbed ?? 'learned') !== 'learned') return embedVariant(params, cfg, images);
  // BEGIN SOLUTION vit-embed
  return tf.tidy(() => {
    const B = images.shape[0]!;
    const patches = patchify(images, cfg.patchSize);                                                      // [B, N, P·P·C]
    let x = dense(patches, param(params, 'patch_embed.proj.weight'), param(params, 'patch_embed.proj.bias')); // [B, N, D]
    if (cfg.pool === 'cls') x = tf.concat([tf.tile(param(params, 'cls_token'), [B, 1, 1]), x], 1);         // [B, N+1, D]
    return tf.add(x, param(params, 'pos_embed')) as tf.Tensor3D;                                          // [B, T, D]
  });
  // END SOLUTION
}

export function vitForward(params: Params, cfg: ViTConfig, images: tf.Tensor, opts: ViTRunOptions = {}): ViTOutput {
  if (opts.returnPoolWeights && cfg.pool !== 'seq') {
    throw new Error(`vitForward: returnPoolWeights needs sequence pooling (pool 'seq'); this model pools with '${cfg.pool}'`);
  }
  return tf.tidy(() => {
    let x: tf.Tensor = embed(params, cfg, images);                      // [B, T, D]
    const attentions: tf.Tensor4D[] = [];
    const lc = layerConfig(cfg);
    for (let i = 0; i < cfg.numLayers; i++) {
      const r = encoderLayer(params, `blocks.${i}`, lc, x, {training: opts.training, returnWeights: opts.returnAttention, seed: opts.seed === undefined ? undefined : opts.seed + 17 * i, dropPath: dropPathRate(cfg, i)});
      x = r.output;
      if (r.weights) attentions.push(r.weights);
    }
    x = norm(params, 'norm', x, cfg.lnEps);                             // [B, T, D]
    const [B, T, D] = x.shape as [number, number, number];
    let pooled: tf.Tensor, poolWeights: tf.Tensor2D | undefined;
    if (cfg.pool === 'cls') pooled = tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, D]), [B, D]); // [B, D]
    else if (cfg.pool === 'mean') pooled = tf.mean(x, 1);                                    // [B, D]
    else if (cfg.pool === 'seq') {
      poolWeights = seqPoolWeights(params, x);                                               // [B, T]
      pooled = seqPool(params, x, poolWeights);                                              // [B, D]
    } else pooled = tf.reshape(x, [B, T * D]);                                               // [B, T·D]
    const logits = dense(pooled, param(params, 'head.weight'), param(params, 'head.bias')) as tf.Tensor2D; // [B, classes]
    const out: ViTOutput = {logits};
    if (opts.returnAttention) out.attentions = attentions;
    if (opts.returnPoolWeights) out.poolWeights = poolWeights;
    return out as unknown as tf.TensorContainer;
  }) as unknown as ViTOutput;
}
