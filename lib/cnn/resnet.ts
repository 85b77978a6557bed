/**
 * A small ResNet-style CNN — the baseline of "why a ViT needs data" (chapters 3 and 4).
 *
 *   stem    conv 3×3 (C → c0) → norm → ReLU
 *   stage s blocks of  y = ReLU(norm(conv3×3(ReLU(norm(conv3×3(x))))) + shortcut(x))   (He et al. 2016, basic block)
 *           the first block of stages s > 0 halves the resolution (stride 2) and its shortcut is a
 *           1×1 convolution with stride 2 (projection shortcut); other shortcuts are the identity
 *   head    global average pool → linear → logits
 *
 * What a CNN assumes and a ViT does not: locality (3×3 windows), weight sharing (the same filter at
 * every position) and so translation equivariance of every conv layer.
 * Normalisation (`norm`):
 *   'batch'  BatchNorm, as in ResNets (the default): per channel over the batch and all pixels while
 *            training; evaluation normalises with the training set's moments, measured after training
 *            by estimateBnMoments (lib/core/batchnorm.ts says why), so evaluation needs them passed in
 *   'layer'  LayerNorm over the channels of each pixel (as ConvNeXt does): the same function in training
 *            and evaluation, no moments. Measured here it trains far worse in this small network: with
 *            16–64 channels, normalising each pixel's channel vector discards how strongly the pixel
 *            responds (the course's first data-fraction CNN used it; models/data-fraction/ keeps those runs)
 * Convolutions are lib/core/conv.ts (im2col + matMul), which trains on wasm.
 * Parameters (the same for both norms): stem.conv.weight [3, 3, C, c0], stem.norm.*, stages.{s}.{b}.conv1.weight, .norm1.*,
 * .conv2.weight, .norm2.*, .shortcut.weight [c_in, c_out] (projection blocks), head.*.
 */
import * as tf from '@tensorflow/tfjs';
import {conv2d} from '../core/conv';
import {batchNorm, BnMoments, MomentAccumulator} from '../core/batchnorm';
import {layerNorm} from '../core/layernorm';
import {dense} from '../core/linear';
import {addDense, addLayerNorm, addParam, param, Params} from '../core/params';
import {Rng} from '../core/rng';

export interface CnnConfig {
  imageSize: number;
  channels: number;        // input channels
  widths: number[];        // channels of each stage
  blocksPerStage: number;
  numClasses: number;
  norm: 'batch' | 'layer';
}

export const CNN_DEFAULTS: CnnConfig = {imageSize: 32, channels: 3, widths: [32, 64, 128], blocksPerStage: 1, numClasses: 10, norm: 'batch'};

export function cnnConfig(o: Partial<CnnConfig> = {}): CnnConfig {
  const c = {...CNN_DEFAULTS, ...o};
  for (const k of ['imageSize', 'channels', 'blocksPerStage', 'numClasses'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`CNN config: ${k} must be a positive integer (got ${c[k]})`);
  }
  if (!Array.isArray(c.widths) || c.widths.length === 0 || !c.widths.every((w) => Number.isInteger(w) && w > 0)) {
    throw new Error(`CNN config: widths must be a non-empty list of positive integers (got ${JSON.stringify(c.widths)})`);
  }
  if (c.norm !== 'batch' && c.norm !== 'layer') throw new Error(`CNN config: norm must be 'batch' or 'layer' (got ${JSON.stringify(c.norm)})`);
  return c;
}

function kaiming(shape: number[], fanIn: number, rng: Rng): tf.Tensor {
  const std = Math.sqrt(2 / fanIn), v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
  return tf.tensor(v, shape);
}

/** Block names and their channels/stride, in order. */
export function cnnBlocks(cfg: CnnConfig): {name: string; cin: number; cout: number; stride: number}[] {
  const out: {name: string; cin: number; cout: number; stride: number}[] = [];
  let cin = cfg.widths[0]!;
  cfg.widths.forEach((w, s) => {
    for (let b = 0; b < cfg.blocksPerStage; b++) {
      out.push({name: `stages.${s}.${b}`, cin, cout: w, stride: s > 0 && b === 0 ? 2 : 1});
      cin = w;
    }
  });
  return out;
}

export function initCnn(cfg: CnnConfig, seed = 0): Params {
  const rng = new Rng(seed), p: Params = {};
  const c0 = cfg.widths[0]!;
  addParam(p, 'stem.conv.weight', kaiming([3, 3, cfg.channels, c0], 9 * cfg.channels, rng));
  addLayerNorm(p, 'stem.norm', c0);
  for (const b of cnnBlocks(cfg)) {
    addParam(p, `${b.name}.conv1.weight`, kaiming([3, 3, b.cin, b.cout], 9 * b.cin, rng));
    addLayerNorm(p, `${b.name}.norm1`, b.cout);
    addParam(p, `${b.name}.conv2.weight`, kaiming([3, 3, b.cout, b.cout], 9 * b.cout, rng));
    addLayerNorm(p, `${b.name}.norm2`, b.cout);
    if (b.stride !== 1 || b.cin !== b.cout) addParam(p, `${b.name}.shortcut.weight`, kaiming([b.cin, b.cout], b.cin, rng));
  }
  addDense(p, 'head', cfg.widths[cfg.widths.length - 1]!, cfg.numClasses, rng, 'trunc_normal');
  return p;
}

/** The evaluation moments of every BatchNorm layer, by name (stem.norm, stages.0.0.norm1, …). */
export type CnnMoments = Record<string, BnMoments>;

export interface CnnForwardOptions {
  /** BatchNorm: normalise with the batch's own moments (training). Ignored by 'layer'. */
  training?: boolean;
  /** BatchNorm, evaluation: the moments of estimateBnMoments. */
  moments?: CnnMoments;
  /** called with every norm layer's name and input (estimateBnMoments uses it) */
  onNormInput?: (name: string, x: tf.Tensor) => void;
}

/** images [B, H, W, C] → logits [B, classes]. */
export function cnnForward(params: Params, cfg: CnnConfig, images: tf.Tensor, opts: CnnForwardOptions = {}): tf.Tensor2D {
  const [, H, W, C] = images.shape;
  if (images.rank !== 4 || H !== cfg.imageSize || W !== cfg.imageSize || C !== cfg.channels) {
    throw new Error(`CNN: images must be [B, ${cfg.imageSize}, ${cfg.imageSize}, ${cfg.channels}], got [${images.shape}]`);
  }
  if (cfg.norm === 'batch' && !opts.training && !opts.moments) {
    throw new Error('CNN with BatchNorm: evaluation needs the training set\'s moments — pass {moments: estimateBnMoments(…)} ' +
      '(or {training: true} to normalise with the batch\'s own moments, as in training)');
  }
  const norm = (name: string, x: tf.Tensor) => {
    opts.onNormInput?.(name, x);
    const w = param(params, `${name}.weight`), b = param(params, `${name}.bias`);
    if (cfg.norm === 'layer') return layerNorm(x, w, b, 1e-5);
    const m = opts.training ? undefined : opts.moments![name];
    if (!opts.training && !m) throw new Error(`CNN with BatchNorm: the moments have no entry for ${name}`);
    return batchNorm(x, w, b, m);
  };
  return tf.tidy(() => {
    let x = tf.relu(norm('stem.norm', conv2d(images, param(params, 'stem.conv.weight'), undefined, {pad: 1}))); // [B, H, W, c0]
    for (const b of cnnBlocks(cfg)) {
      let h = tf.relu(norm(`${b.name}.norm1`, conv2d(x, param(params, `${b.name}.conv1.weight`), undefined, {stride: b.stride, pad: 1})));
      h = norm(`${b.name}.norm2`, conv2d(h, param(params, `${b.name}.conv2.weight`), undefined, {pad: 1}));
      let sc: tf.Tensor = x;
      if (params[`${b.name}.shortcut.weight`]) {
        const w = param(params, `${b.name}.shortcut.weight`);
        sc = conv2d(x, tf.reshape(w, [1, 1, b.cin, b.cout]), undefined, {stride: b.stride});                        // 1×1 conv, stride s
      }
      x = tf.relu(tf.add(h, sc));
    }
    const pooled = tf.mean(x, [1, 2]);                                                                         // [B, c_last]
    return dense(pooled, param(params, 'head.weight'), param(params, 'head.bias')) as tf.Tensor2D;
  });
}

/**
 * "Precise BN": the per-channel moments of every BatchNorm layer's input over `images` (e.g. a few
 * thousand un-augmented training images), the network run in training mode batch by batch — what
 * evaluation normalises with. The caller disposes them (disposeMoments).
 */
export function estimateBnMoments(params: Params, cfg: CnnConfig, images: tf.Tensor4D, batchSize = 250): CnnMoments {
  if (cfg.norm !== 'batch') throw new Error(`estimateBnMoments: this CNN normalises with '${cfg.norm}', which has no moments`);
  const n = images.shape[0];
  if (n < 1) throw new Error('estimateBnMoments: no images');
  const acc = new Map<string, MomentAccumulator>();
  for (let i = 0; i < n; i += batchSize) {
    tf.tidy(() => {
      const x = tf.slice(images, [i, 0, 0, 0], [Math.min(batchSize, n - i), -1, -1, -1]);
      cnnForward(params, cfg, x, {training: true, onNormInput: (name, h) => {
        if (!acc.has(name)) acc.set(name, new MomentAccumulator());
        acc.get(name)!.add(h);
      }});
    });
  }
  return Object.fromEntries([...acc].map(([name, a]) => [name, a.moments()]));
}

export function disposeMoments(m: CnnMoments): void {
  for (const v of Object.values(m)) tf.dispose([v.mean, v.variance]);
}
