/**
 * Transformer encoder layer — Chapter 2 §2.5 (reused by the ViT, Chapter 3).
 *   post-norm (the 2017 paper):  x = LN(x + MHA(x));   x = LN(x + FFN(x))
 *   pre-norm  (ViT, GPT-2):      x = x + MHA(LN(x));   x = x + FFN(LN(x))
 * FFN(x) = act(x W1 + b1) W2 + b2, applied to every position.
 * Parameters (prefix p): p.norm1.*, p.attn.{qkv,proj}.*, p.norm2.*, p.mlp.fc1.*, p.mlp.fc2.*
 * Options for small-data ViTs (Chapter 4): locality self-attention (`lsa`, Lee et al. 2021: a
 * learnable per-head temperature p.attn.temperature [H], initialised to 1/√d_h, and the diagonal of
 * the scores masked so a token cannot attend to itself) and stochastic depth (`dropPath`: in
 * training each sample's residual branch is dropped with this probability and kept ones scaled by
 * 1/(1 − rate); Huang et al. 2016, as timm's DropPath).
 */
import * as tf from '@tensorflow/tfjs';
import {activation, Activation} from '../core/activations';
import {layerNorm, LN_EPS} from '../core/layernorm';
import {dense} from '../core/linear';
import {addDense, addLayerNorm, addParam, param, Params} from '../core/params';
import {Rng} from '../core/rng';
import {initMultiHeadAttention, multiHeadAttention} from './attention';

export type NormPlacement = 'pre' | 'post';

export interface EncoderLayerConfig {
  dModel: number;
  numHeads: number;
  dFF: number;
  dropout: number;
  activation: Activation;
  norm: NormPlacement;
  lnEps?: number;
  lsa?: boolean;             // locality self-attention (learnable temperature + diagonal mask)
}

export interface RunOptions {
  training?: boolean;
  mask?: tf.Tensor;          // keep-mask broadcastable to [B, H, T, T]
  returnWeights?: boolean;
  seed?: number;             // dropout seed
  dropPath?: number;         // stochastic depth rate of this layer (training only)
}

/**
 * Stochastic depth on a residual branch x [B, ...]: per sample, keep with probability 1 − rate and
 * scale by 1/(1 − rate), else zero (so the block is skipped for that sample). Identity when rate = 0.
 */
export function dropPath(x: tf.Tensor, rate: number, seed?: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropPath: rate must be in [0, 1) (got ${rate})`);
  if (rate === 0) return x;
  return tf.tidy(() => {
    const shape = [x.shape[0]!, ...x.shape.slice(1).map(() => 1)];
    const keep = tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', seed), 1 - rate)); // 1 with probability 1 − rate
    return tf.mul(x, tf.div(keep, 1 - rate));
  });
}

/** The LSA keep-mask [1, 1, T, T]: 1 everywhere except the diagonal. */
export function diagonalMask(T: number): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(tf.sub(1, tf.eye(T)), [1, 1, T, T]) as tf.Tensor4D);
}

export function initFeedForward(params: Params, prefix: string, dModel: number, dFF: number, rng: Rng): void {
  addDense(params, `${prefix}.fc1`, dModel, dFF, rng, 'xavier');
  addDense(params, `${prefix}.fc2`, dFF, dModel, rng, 'xavier');
}

/** Position-wise FFN. x: [B, T, D] → [B, T, D]. */
export function feedForward(params: Params, prefix: string, x: tf.Tensor, act: Activation, dropout = 0, training = false, seed?: number): tf.Tensor {
  return tf.tidy(() => {
    let h = activation(act, dense(x, param(params, `${prefix}.fc1.weight`), param(params, `${prefix}.fc1.bias`))); // [B, T, F]
    if (training && dropout > 0) h = tf.dropout(h, dropout, undefined, seed);
    return dense(h, param(params, `${prefix}.fc2.weight`), param(params, `${prefix}.fc2.bias`));                    // [B, T, D]
  });
}

export function initEncoderLayer(params: Params, prefix: string, cfg: EncoderLayerConfig, rng: Rng): void {
  addLayerNorm(params, `${prefix}.norm1`, cfg.dModel);
  initMultiHeadAttention(params, `${prefix}.attn`, cfg.dModel, rng);
  if (cfg.lsa) addParam(params, `${prefix}.attn.temperature`, tf.fill([cfg.numHeads], 1 / Math.sqrt(cfg.dModel / cfg.numHeads)));
  addLayerNorm(params, `${prefix}.norm2`, cfg.dModel);
  initFeedForward(params, `${prefix}.mlp`, cfg.dModel, cfg.dFF, rng);
}

export function norm(params: Params, prefix: string, x: tf.Tensor, eps = LN_EPS): tf.Tensor {
  return layerNorm(x, param(params, `${prefix}.weight`), param(params, `${prefix}.bias`), eps);
}

/** One encoder layer. x: [B, T, D] → {output [B, T, D], weights? [B, H, T, T]}. */
export function encoderLayer(params: Params, prefix: string, cfg: EncoderLayerConfig, x: tf.Tensor, opts: RunOptions = {}) {
  return tf.tidy(() => {
    const eps = cfg.lnEps ?? LN_EPS;
    const training = opts.training ?? false;
    const dp = training ? opts.dropPath ?? 0 : 0;
    const drop = (t: tf.Tensor, s: number) => {
      const seed = opts.seed === undefined ? undefined : opts.seed + s;
      const d = training && cfg.dropout > 0 ? tf.dropout(t, cfg.dropout, undefined, seed) : t;
      return dp > 0 ? dropPath(d, dp, seed === undefined ? undefined : seed + 1000003) : d;
    };
    let mask = opts.mask;
    if (cfg.lsa) {
      const T = x.shape[1]!, diag = diagonalMask(T);
      mask = mask === undefined ? diag : tf.mul(mask, diag);
    }
    const attnOpts = {mask, dropout: cfg.dropout, training, returnWeights: opts.returnWeights, seed: opts.seed,
      temperature: cfg.lsa ? param(params, `${prefix}.attn.temperature`) : undefined};
    let y: tf.Tensor;
    let weights: tf.Tensor4D | undefined;
    if (cfg.norm === 'pre') {
      const a = multiHeadAttention(params, `${prefix}.attn`, norm(params, `${prefix}.norm1`, x, eps), null, cfg.numHeads, attnOpts);
      weights = a.weights;
      const h = tf.add(x, drop(a.output, 1));                                                                   // [B, T, D]
      y = tf.add(h, drop(feedForward(params, `${prefix}.mlp`, norm(params, `${prefix}.norm2`, h, eps), cfg.activation, cfg.dropout, training, opts.seed), 2));
    } else {
      const a = multiHeadAttention(params, `${prefix}.attn`, x, null, cfg.numHeads, attnOpts);
      weights = a.weights;
      const h = norm(params, `${prefix}.norm1`, tf.add(x, drop(a.output, 1)), eps);                             // [B, T, D]
      y = norm(params, `${prefix}.norm2`, tf.add(h, drop(feedForward(params, `${prefix}.mlp`, h, cfg.activation, cfg.dropout, training, opts.seed), 2)), eps);
    }
    const out: {output: tf.Tensor3D; weights?: tf.Tensor4D} = {output: y as tf.Tensor3D};
    if (weights) out.weights = weights;
    return out;
  });
}
