/**
 * The encoder-decoder Transformer — Chapter 2 §2.6 (Vaswani et al. 2017, Fig. 1).
 *   memory = Encoder(E_src[x]·√D + PE)            N encoder layers (self-attention + FFN)
 *   h      = Decoder(E_tgt[y]·√D + PE, memory)    N decoder layers (masked self, cross, FFN)
 *   logits = h W_out + b_out,   or h E_tgtᵀ when the output projection is tied to the embedding
 * Pre-norm stacks end with a final LayerNorm (encoder.norm, decoder.norm); post-norm stacks do not
 * need one (every sub-layer already ends in a LayerNorm).
 * Parameters: src_embed.weight [Vs, D], tgt_embed.weight [Vt, D], (pos_embed.weight [maxLen, D]
 * if learned), encoder.layers.i.*, decoder.layers.i.*, encoder.norm/decoder.norm (pre-norm),
 * generator.weight [D, Vt] + generator.bias [Vt] (untied).
 * Embedding lookup is a one-hot [N, V] × table [V, D] matMul: its gradient is a plain matMul
 * (tf.gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 * Written by hand on purpose: Chapter 2 builds the Transformer from its parts, not from a library model.
 */
import * as tf from '@tensorflow/tfjs';
import {Activation} from '../core/activations';
import {dense} from '../core/linear';
import {addDense, addLayerNorm, addParam, param, Params, truncNormal} from '../core/params';
import {Rng} from '../core/rng';
import {DecoderLayerOutput, decoderLayer, initDecoderLayer} from './decoder';
import {EncoderLayerConfig, encoderLayer, initEncoderLayer, NormPlacement, norm} from './encoder';
import {decoderMask, paddingMask} from './masks';
import {PositionalKind, initLearnedPositions, positionalEncoding} from './positional';

export interface TransformerConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  dModel: number;
  numHeads: number;
  numLayers: number;        // encoder layers
  numDecoderLayers: number; // decoder layers
  dFF: number;
  maxLen: number;
  dropout: number;
  activation: Activation;
  norm: NormPlacement;
  positional: PositionalKind;
  tieOutput: boolean;       // logits = h · E_tgtᵀ (no generator params)
  padId: number;
  lnEps?: number;
}

export const TRANSFORMER_TINY: TransformerConfig = {
  srcVocabSize: 16, tgtVocabSize: 16, dModel: 32, numHeads: 4, numLayers: 2, numDecoderLayers: 2, dFF: 64,
  maxLen: 32, dropout: 0, activation: 'relu', norm: 'post', positional: 'sinusoidal', tieOutput: false, padId: 0,
};

export function transformerConfig(o: Partial<TransformerConfig> = {}): TransformerConfig {
  const c = {...TRANSFORMER_TINY, ...o};
  for (const k of ['srcVocabSize', 'tgtVocabSize', 'dModel', 'numHeads', 'numLayers', 'numDecoderLayers', 'dFF', 'maxLen'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`Transformer config: ${k} must be a positive integer (got ${c[k]})`);
  }
  if (c.dModel % c.numHeads !== 0) throw new Error(`Transformer config: dModel (${c.dModel}) must be divisible by numHeads (${c.numHeads})`);
  if (c.positional === 'sinusoidal' && c.dModel % 2 !== 0) throw new Error(`Transformer config: sinusoidal positions need an even dModel (got ${c.dModel})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`Transformer config: dropout must be in [0, 1) (got ${c.dropout})`);
  if (c.norm !== 'pre' && c.norm !== 'post') throw new Error(`Transformer config: norm must be "pre" or "post" (got ${c.norm})`);
  return c;
}

export function layerConfig(cfg: TransformerConfig): EncoderLayerConfig {
  return {dModel: cfg.dModel, numHeads: cfg.numHeads, dFF: cfg.dFF, dropout: cfg.dropout, activation: cfg.activation, norm: cfg.norm, lnEps: cfg.lnEps};
}

export function initTransformer(cfg: TransformerConfig, seed = 0): Params {
  const rng = new Rng(seed);
  const p: Params = {};
  const D = cfg.dModel;
  // N(0, D^-1/2): after the ·√D scaling the embeddings have unit variance, like the PE rows
  addParam(p, 'src_embed.weight', truncNormal([cfg.srcVocabSize, D], 1 / Math.sqrt(D), rng));
  addParam(p, 'tgt_embed.weight', truncNormal([cfg.tgtVocabSize, D], 1 / Math.sqrt(D), rng));
  if (cfg.positional === 'learned') initLearnedPositions(p, 'pos_embed', cfg.maxLen, D, rng);
  const lc = layerConfig(cfg);
  for (let i = 0; i < cfg.numLayers; i++) initEncoderLayer(p, `encoder.layers.${i}`, lc, rng);
  for (let i = 0; i < cfg.numDecoderLayers; i++) initDecoderLayer(p, `decoder.layers.${i}`, lc, rng);
  if (cfg.norm === 'pre') { addLayerNorm(p, 'encoder.norm', D); addLayerNorm(p, 'decoder.norm', D); }
  if (!cfg.tieOutput) addDense(p, 'generator', D, cfg.tgtVocabSize, rng, 'xavier');
  return p;
}

/** Token ids [B, T] → embeddings [B, T, D]·√D + positions [offset, offset + T) (+ dropout). */
export function embed(params: Params, cfg: TransformerConfig, ids: tf.Tensor, table: 'src_embed' | 'tgt_embed', opts: {offset?: number; training?: boolean; seed?: number} = {}): tf.Tensor3D {
  const V = table === 'src_embed' ? cfg.srcVocabSize : cfg.tgtVocabSize;
  if (ids.rank !== 2) throw new Error(`embed: token ids must be [B, T], got [${ids.shape}]`);
  const [B, T] = ids.shape as [number, number];
  const offset = opts.offset ?? 0;
  if (offset + T > cfg.maxLen) throw new Error(`embed: ${T} tokens at offset ${offset} exceed maxLen ${cfg.maxLen}`);
  const vals = ids.dataSync();
  for (let i = 0; i < vals.length; i++) {
    if (!Number.isInteger(vals[i]) || vals[i]! < 0 || vals[i]! >= V) throw new Error(`embed: token id ${vals[i]} at flat index ${i} is outside the vocabulary [0, ${V}) of ${table}`);
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.reshape(tf.cast(ids, 'int32'), [B * T]) as tf.Tensor1D, V).toFloat();      // [B·T, V]
    const e = tf.reshape(dense(oneHot, param(params, `${table}.weight`)), [B, T, cfg.dModel]);              // [B, T, D]
    const pe = positionalEncoding(cfg.positional, params, 'pos_embed', T, cfg.dModel, cfg.maxLen, offset);  // [T, D]
    const x = tf.add(tf.mul(e, Math.sqrt(cfg.dModel)), pe);                                                 // [B, T, D]
    return (opts.training && cfg.dropout > 0 ? tf.dropout(x, cfg.dropout, undefined, opts.seed) : x) as tf.Tensor3D;
  });
}

export interface RunOptions {
  training?: boolean;
  returnWeights?: boolean;
  seed?: number;
}

/** Source ids [B, S] → memory [B, S, D] (and per-layer self-attention weights [B, H, S, S]). */
export function encode(params: Params, cfg: TransformerConfig, src: tf.Tensor, srcMask: tf.Tensor, opts: RunOptions = {}) {
  return tf.tidy(() => {
    let x: tf.Tensor = embed(params, cfg, src, 'src_embed', {training: opts.training, seed: opts.seed});    // [B, S, D]
    const weights: tf.Tensor4D[] = [];
    for (let i = 0; i < cfg.numLayers; i++) {
      const r = encoderLayer(params, `encoder.layers.${i}`, layerConfig(cfg), x, {mask: srcMask, training: opts.training, returnWeights: opts.returnWeights, seed: opts.seed === undefined ? undefined : opts.seed + 11 * (i + 1)});
      x = r.output;
      if (r.weights) weights.push(r.weights);
    }
    if (cfg.norm === 'pre') x = norm(params, 'encoder.norm', x, cfg.lnEps);                                // [B, S, D]
    return {memory: x as tf.Tensor3D, weights};
  });
}

/** Decoder stack on target input ids [B, T] → hidden states [B, T, D] (teacher forcing, full masks). */
export function decode(params: Params, cfg: TransformerConfig, tgtIn: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor, tgtMask: tf.Tensor, opts: RunOptions = {}) {
  return tf.tidy(() => {
    let x: tf.Tensor = embed(params, cfg, tgtIn, 'tgt_embed', {training: opts.training, seed: opts.seed === undefined ? undefined : opts.seed + 1}); // [B, T, D]
    const selfWeights: tf.Tensor4D[] = [], crossWeights: tf.Tensor4D[] = [];
    for (let i = 0; i < cfg.numDecoderLayers; i++) {
      const r: DecoderLayerOutput = decoderLayer(params, `decoder.layers.${i}`, layerConfig(cfg), x, memory, {selfMask: tgtMask, memoryMask: srcMask, training: opts.training, returnWeights: opts.returnWeights, seed: opts.seed === undefined ? undefined : opts.seed + 13 * (i + 1)});
      x = r.output;
      if (r.selfWeights) selfWeights.push(r.selfWeights);
      if (r.crossWeights) crossWeights.push(r.crossWeights);
    }
    if (cfg.norm === 'pre') x = norm(params, 'decoder.norm', x, cfg.lnEps);                                // [B, T, D]
    return {hidden: x as tf.Tensor3D, selfWeights, crossWeights};
  });
}

/** Hidden states [B, T, D] → logits [B, T, Vt] (tied: h · E_tgtᵀ). */
export function generator(params: Params, cfg: TransformerConfig, h: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => (cfg.tieOutput
    ? dense(h, tf.transpose(param(params, 'tgt_embed.weight')))                                            // [B, T, Vt]
    : dense(h, param(params, 'generator.weight'), param(params, 'generator.bias'))) as tf.Tensor3D);
}

export interface TransformerOutput {
  logits: tf.Tensor3D;                 // [B, T, Vt]
  encoderWeights?: tf.Tensor4D[];      // per layer [B, H, S, S]
  decoderSelfWeights?: tf.Tensor4D[];  // per layer [B, H, T, T]
  crossWeights?: tf.Tensor4D[];        // per layer [B, H, T, S]
}

/** Teacher-forced forward pass: src [B, S], tgtIn [B, T] (BOS + target[:-1]) → logits [B, T, Vt]. */
export function transformerForward(params: Params, cfg: TransformerConfig, src: tf.Tensor, tgtIn: tf.Tensor, opts: RunOptions = {}): TransformerOutput {
  if (src.rank !== 2 || tgtIn.rank !== 2 || src.shape[0] !== tgtIn.shape[0]) {
    throw new Error(`transformerForward: src [B, S] and tgtIn [B, T] must be rank 2 with the same B, got [${src.shape}] and [${tgtIn.shape}]`);
  }
  return tf.tidy(() => {
    const srcMask = paddingMask(src, cfg.padId);                  // [B, 1, 1, S]
    const tgtMask = decoderMask(tgtIn, cfg.padId);                // [B, 1, T, T]
    const enc = encode(params, cfg, src, srcMask, opts);
    const dec = decode(params, cfg, tgtIn, enc.memory, srcMask, tgtMask, opts);
    const out: TransformerOutput = {logits: generator(params, cfg, dec.hidden)};
    if (opts.returnWeights) Object.assign(out, {encoderWeights: enc.weights, decoderSelfWeights: dec.selfWeights, crossWeights: dec.crossWeights});
    return out as unknown as tf.TensorContainer;
  }) as unknown as TransformerOutput;
}
