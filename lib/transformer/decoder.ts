/**
 * Transformer decoder layer — Chapter 2 §2.6: masked self-attention, cross-attention to the
 * encoder output ("memory"), position-wise FFN; each wrapped in a residual and a LayerNorm.
 *   post-norm (2017 paper):  x = LN1(x + SelfAttn(x));  x = LN2(x + CrossAttn(x, mem));  x = LN3(x + FFN(x))
 *   pre-norm:                x = x + SelfAttn(LN1(x));  x = x + CrossAttn(LN2(x), mem);  x = x + FFN(LN3(x))
 * Parameters (prefix p): p.norm1.*, p.attn.* (masked self), p.norm2.*, p.cross_attn.*, p.norm3.*,
 * p.mlp.fc1.*, p.mlp.fc2.* (PyTorch: norm1, self_attn, norm2, multihead_attn, norm3, linear1, linear2).
 *
 * Incremental decoding: pass `cache` (this layer's keys/values of the earlier target positions,
 * [B·H, t, Dh]) and `memoryKV` (the projected memory, computed once); x then holds only the new
 * positions t, t+1, … and the layer returns the grown cache.
 */
import * as tf from '@tensorflow/tfjs';
import {LN_EPS} from '../core/layernorm';
import {addLayerNorm, Params} from '../core/params';
import {Rng} from '../core/rng';
import {appendKeyValues, attendKeyValues, initMultiHeadAttention, KeyValues, multiHeadAttention, projectKeyValues} from './attention';
import {EncoderLayerConfig, feedForward, initFeedForward, norm} from './encoder';
import {causalMask} from './masks';

export type DecoderLayerConfig = EncoderLayerConfig;

export interface DecoderRunOptions {
  training?: boolean;
  selfMask?: tf.Tensor;     // keep-mask broadcastable to [B, H, T, T] (causal, maybe with padding)
  memoryMask?: tf.Tensor;   // keep-mask broadcastable to [B, H, T, S] (source padding)
  returnWeights?: boolean;
  seed?: number;
  cache?: KeyValues | null; // incremental mode: keys/values of earlier positions (null at step 0)
  memoryKV?: KeyValues;     // incremental mode: projectKeyValues(params, `${p}.cross_attn`, memory)
}

export interface DecoderLayerOutput {
  output: tf.Tensor3D;            // [B, T, D]
  selfWeights?: tf.Tensor4D;      // [B, H, T, T(+t)]
  crossWeights?: tf.Tensor4D;     // [B, H, T, S]
  cache?: KeyValues;              // incremental mode: [B·H, t + T, Dh]
}

export function initDecoderLayer(params: Params, prefix: string, cfg: DecoderLayerConfig, rng: Rng, opts: {fused?: boolean} = {}): void {
  addLayerNorm(params, `${prefix}.norm1`, cfg.dModel);
  initMultiHeadAttention(params, `${prefix}.attn`, cfg.dModel, rng, opts);
  addLayerNorm(params, `${prefix}.norm2`, cfg.dModel);
  initMultiHeadAttention(params, `${prefix}.cross_attn`, cfg.dModel, rng, opts);
  addLayerNorm(params, `${prefix}.norm3`, cfg.dModel);
  initFeedForward(params, `${prefix}.mlp`, cfg.dModel, cfg.dFF, rng);
}

/** One decoder layer. x: [B, T, D], memory: [B, S, D] (may be null when memoryKV is given). */
export function decoderLayer(params: Params, prefix: string, cfg: DecoderLayerConfig, x: tf.Tensor, memory: tf.Tensor | null, opts: DecoderRunOptions = {}): DecoderLayerOutput {
  if (x.rank !== 3 || x.shape[2] !== cfg.dModel) throw new Error(`decoderLayer: x must be [B, T, ${cfg.dModel}], got [${x.shape}]`);
  if (memory === null && opts.memoryKV === undefined) throw new Error('decoderLayer: give the encoder memory [B, S, D] or its projected memoryKV');
  const incremental = opts.cache !== undefined;
  return tf.tidy(() => {
    const eps = cfg.lnEps ?? LN_EPS;
    const training = opts.training ?? false;
    const seed = (s: number) => (opts.seed === undefined ? undefined : opts.seed + s);
    const drop = (t: tf.Tensor, s: number) => (training && cfg.dropout > 0 ? tf.dropout(t, cfg.dropout, undefined, seed(s)) : t);
    const common = {dropout: cfg.dropout, training, returnWeights: opts.returnWeights};
    const out: DecoderLayerOutput = {} as DecoderLayerOutput;

    const selfAttn = (h: tf.Tensor) => {
      if (!incremental) return multiHeadAttention(params, `${prefix}.attn`, h, null, cfg.numHeads, {...common, mask: opts.selfMask, seed: seed(3)});
      const t = opts.cache ? opts.cache.k.shape[1] : 0;
      const kv = appendKeyValues(opts.cache ?? null, projectKeyValues(params, `${prefix}.attn`, h, cfg.numHeads)); // [BH, t+T, Dh]
      out.cache = kv;
      const T = h.shape[1]!;
      const mask = opts.selfMask ?? (T > 1 ? causalMask(T, t) : undefined);                                      // [T, t+T]
      return attendKeyValues(params, `${prefix}.attn`, h, kv, cfg.numHeads, {...common, mask, seed: seed(3)});
    };
    const crossAttn = (h: tf.Tensor) => {
      const o = {...common, mask: opts.memoryMask, seed: seed(4)};
      return opts.memoryKV ? attendKeyValues(params, `${prefix}.cross_attn`, h, opts.memoryKV, cfg.numHeads, o)
        : multiHeadAttention(params, `${prefix}.cross_attn`, h, memory, cfg.numHeads, o);
    };
    const ffn = (h: tf.Tensor) => feedForward(params, `${prefix}.mlp`, h, cfg.activation, cfg.dropout, training, opts.seed);

    let y: tf.Tensor;
    if (cfg.norm === 'pre') {
      const a = selfAttn(norm(params, `${prefix}.norm1`, x, eps));
      const h1 = tf.add(x, drop(a.output, 1));                                                   // [B, T, D]
      const c = crossAttn(norm(params, `${prefix}.norm2`, h1, eps));
      const h2 = tf.add(h1, drop(c.output, 2));                                                  // [B, T, D]
      y = tf.add(h2, drop(ffn(norm(params, `${prefix}.norm3`, h2, eps)), 5));                    // [B, T, D]
      out.selfWeights = a.weights; out.crossWeights = c.weights;
    } else {
      const a = selfAttn(x);
      const h1 = norm(params, `${prefix}.norm1`, tf.add(x, drop(a.output, 1)), eps);             // [B, T, D]
      const c = crossAttn(h1);
      const h2 = norm(params, `${prefix}.norm2`, tf.add(h1, drop(c.output, 2)), eps);            // [B, T, D]
      y = norm(params, `${prefix}.norm3`, tf.add(h2, drop(ffn(h2), 5)), eps);                     // [B, T, D]
      out.selfWeights = a.weights; out.crossWeights = c.weights;
    }
    out.output = y as tf.Tensor3D;
    for (const k of ['selfWeights', 'crossWeights', 'cache'] as const) if (out[k] === undefined) delete out[k];
    return out as unknown as tf.TensorContainer;
  }) as unknown as DecoderLayerOutput;
}
