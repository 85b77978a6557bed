/**
 * A small ResNet-style CNN — the baseline of "why a ViT needs data" (chapters 3 and 4).
 *
 *   stem    conv 3×3 (C → c0) → LN → ReLU
 *   stage s blocks of  y = ReLU(LN(conv3×3(ReLU(LN(conv3×3(x))))) + shortcut(x))   (He et al. 2016, basic block)
 *           the first block of stages s > 0 halves the resolution (stride 2) and its shortcut is a
 *           1×1 convolution with stride 2 (projection shortcut); other shortcuts are the identity
 *   head    global average pool → linear → logits
 *
 * What a CNN assumes and a ViT does not: locality (3×3 windows), weight sharing (the same filter at
 * every position) and so translation equivariance of every conv layer.
 * Normalisation is LayerNorm over the channels of each pixel (as ConvNeXt does) instead of BatchNorm:
 * no running statistics, so training and evaluation compute the same function and a checkpoint is
 * only weights. Convolutions are lib/core/conv.ts (im2col + matMul), which trains on wasm.
 * Parameters: stem.conv.weight [3, 3, C, c0], stem.norm.*, stages.{s}.{b}.conv1.weight, .norm1.*,
 * .conv2.weight, .norm2.*, .shortcut.weight [c_in, c_out] (projection blocks), head.*.
 */
import * as tf from '@tensorflow/tfjs';
import {conv2d} from '../core/conv';
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
}

export const CNN_DEFAULTS: CnnConfig = {imageSize: 32, channels: 3, widths: [32, 64, 128], blocksPerStage: 1, numClasses: 10};

export function cnnConfig(o: Partial<CnnConfig> = {}): CnnConfig {
  const c = {...CNN_DEFAULTS, ...o};
  for (const k of ['imageSize', 'channels', 'blocksPerStage', 'numClasses'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`CNN config: ${k} must be a positive integer (got ${c[k]})`);
  }
  if (!Array.isArray(c.widths) || c.widths.length === 0 || !c.widths.every((w) => Number.isInteger(w) && w > 0)) {
    throw new Error(`CNN config: widths must be a non-empty list of positive integers (got ${JSON.stringify(c.widths)})`);
  }
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

const ln = (p: Params, name: string, x: tf.Tensor) => layerNorm(x, param(p, `${name}.weight`), param(p, `${name}.bias`), 1e-5);

/** images [B, H, W, C] → logits [B, classes]. */
export function cnnForward(params: Params, cfg: CnnConfig, images: tf.Tensor): tf.Tensor2D {
  const [, H, W, C] = images.shape;
  if (images.rank !== 4 || H !== cfg.imageSize || W !== cfg.imageSize || C !== cfg.channels) {
    throw new Error(`CNN: images must be [B, ${cfg.imageSize}, ${cfg.imageSize}, ${cfg.channels}], got [${images.shape}]`);
  }
  return tf.tidy(() => {
    let x = tf.relu(ln(params, 'stem.norm', conv2d(images, param(params, 'stem.conv.weight'), undefined, {pad: 1}))); // [B, H, W, c0]
    for (const b of cnnBlocks(cfg)) {
      let h = tf.relu(ln(params, `${b.name}.norm1`, conv2d(x, param(params, `${b.name}.conv1.weight`), undefined, {stride: b.stride, pad: 1})));
      h = ln(params, `${b.name}.norm2`, conv2d(h, param(params, `${b.name}.conv2.weight`), undefined, {pad: 1}));
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
