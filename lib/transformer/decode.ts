/**
 * Greedy decoding — Chapter 2 §2.10: y_t = argmax p(y_t | y_<t, x), one token per step.
 * Without a cache every step re-runs the decoder on the whole prefix (O(T²) work per step in
 * the attention, O(T) in the projections). With the key/value cache each decoder layer keeps the
 * keys and values of the earlier positions ([B·H, t, Dh]), projects only the new token and attends
 * over the cache; the cross-attention keys/values of the memory are projected once. Both give the
 * same logits: the causal mask means earlier positions never depend on later ones.
 */
import * as tf from '@tensorflow/tfjs';
import {Params} from '../core/params';
import {KeyValues, projectKeyValues} from './attention';
import {decoderLayer} from './decoder';
import {norm} from './encoder';
import {causalMask, paddingMask} from './masks';
import {decode, embed, encode, generator, layerConfig, TransformerConfig} from './model';

export interface DecoderState {
  memoryKV: KeyValues[];          // per layer: cross-attention keys/values [B·H, S, Dh]
  cache: (KeyValues | null)[];    // per layer: self-attention keys/values [B·H, t, Dh]
  srcMask: tf.Tensor4D;           // [B, 1, 1, S]
  step: number;                   // t = number of target positions already in the cache
}

/** Encodes the source once and projects the memory for every decoder layer's cross-attention. */
export function startDecoding(params: Params, cfg: TransformerConfig, src: tf.Tensor): DecoderState {
  return tf.tidy(() => {
    const srcMask = paddingMask(src, cfg.padId);                                                        // [B, 1, 1, S]
    const {memory} = encode(params, cfg, src, srcMask);                                                 // [B, S, D]
    const memoryKV = Array.from({length: cfg.numDecoderLayers}, (_, i) => projectKeyValues(params, `decoder.layers.${i}.cross_attn`, memory, cfg.numHeads));
    return {memoryKV, cache: memoryKV.map(() => null), srcMask, step: 0} as unknown as tf.TensorContainer;
  }) as unknown as DecoderState;
}

/** Feeds tokens [B, n] at positions [t, t + n) → logits [B, n, Vt] and the new state (the old one is disposed). */
export function decodeStep(params: Params, cfg: TransformerConfig, state: DecoderState, tokens: tf.Tensor): {logits: tf.Tensor3D; state: DecoderState} {
  const res = tf.tidy(() => {
    let x: tf.Tensor = embed(params, cfg, tokens, 'tgt_embed', {offset: state.step});                  // [B, n, D]
    const cache: KeyValues[] = [];
    for (let i = 0; i < cfg.numDecoderLayers; i++) {
      const r = decoderLayer(params, `decoder.layers.${i}`, layerConfig(cfg), x, null, {memoryKV: state.memoryKV[i], memoryMask: state.srcMask, cache: state.cache[i] ?? null});
      x = r.output;
      cache.push(r.cache!);
    }
    if (cfg.norm === 'pre') x = norm(params, 'decoder.norm', x, cfg.lnEps);                             // [B, n, D]
    return {logits: generator(params, cfg, x), cache} as unknown as tf.TensorContainer;
  }) as unknown as {logits: tf.Tensor3D; cache: KeyValues[]};
  tf.dispose(state.cache.flatMap(kv => (kv ? [kv.k, kv.v] : [])));
  return {logits: res.logits, state: {...state, cache: res.cache, step: state.step + tokens.shape[1]!}};
}

export function disposeDecoderState(state: DecoderState): void {
  tf.dispose([state.srcMask, ...state.memoryKV.flatMap(kv => [kv.k, kv.v]), ...state.cache.flatMap(kv => (kv ? [kv.k, kv.v] : []))]);
}

export interface GreedyOptions {
  bos: number;
  eos: number;
  maxSteps: number;     // tokens to generate at most (≤ maxLen)
  useCache?: boolean;   // default true
}

export interface GreedyResult {
  ids: number[][];      // [B][≤ maxSteps] generated ids, up to and including EOS
  steps: number;        // decoder steps run
  msPerStep: number;    // wall time per generated token (whole batch)
  stepMs: number[];     // wall time of each decoder step (the encoder, run once before, excluded)
}

/** Greedy decoding of a batch of sources [B, S]; stops when every row has produced EOS. */
export async function greedyDecode(params: Params, cfg: TransformerConfig, src: tf.Tensor, o: GreedyOptions): Promise<GreedyResult> {
  if (o.maxSteps > cfg.maxLen) throw new Error(`greedyDecode: maxSteps (${o.maxSteps}) exceeds maxLen (${cfg.maxLen})`);
  const B = src.shape[0]!;
  const ids: number[][] = Array.from({length: B}, () => []);
  const done = new Array<boolean>(B).fill(false);
  const t0 = performance.now();
  const stepMs: number[] = [];
  let steps = 0, tStep = t0;
  const lap = () => { const now = performance.now(); stepMs.push(now - tStep); tStep = now; };
  const pick = async (logits: tf.Tensor3D) => {               // argmax of the last position: [B]
    const last = tf.tidy(() => tf.argMax(tf.squeeze(tf.slice(logits, [0, logits.shape[1] - 1, 0], [B, 1, -1]), [1]), -1));
    const v = await last.data();
    last.dispose();
    return Array.from(v);
  };
  const record = (next: number[]) => next.forEach((id, b) => { if (!done[b]) { ids[b]!.push(id); if (id === o.eos) done[b] = true; } });
  if (o.useCache ?? true) {
    let state = startDecoding(params, cfg, src);
    tStep = performance.now();
    let tok = tf.fill([B, 1], o.bos, 'int32');
    while (steps < o.maxSteps && !done.every(Boolean)) {
      const r = decodeStep(params, cfg, state, tok);
      state = r.state;
      const next = await pick(r.logits);
      r.logits.dispose(); tok.dispose();
      tok = tf.tensor2d(next, [B, 1], 'int32');
      record(next); steps++; lap();
    }
    tok.dispose();
    disposeDecoderState(state);
  } else {
    const srcMask = paddingMask(src, cfg.padId);
    const {memory} = encode(params, cfg, src, srcMask);
    tStep = performance.now();
    const prefix: number[][] = Array.from({length: B}, () => [o.bos]);
    while (steps < o.maxSteps && !done.every(Boolean)) {
      const T = prefix[0]!.length;
      const logits = tf.tidy(() => {
        const tgtIn = tf.tensor2d(prefix.flat(), [B, T], 'int32');                                      // [B, T]
        const mask = causalMask(T);                                                                     // [T, T]
        return generator(params, cfg, decode(params, cfg, tgtIn, memory, srcMask, mask).hidden);         // [B, T, Vt]
      });
      const next = await pick(logits);
      logits.dispose();
      next.forEach((id, b) => prefix[b]!.push(id));
      record(next); steps++; lap();
    }
    tf.dispose([srcMask, memory]);
  }
  return {ids, steps, msPerStep: (performance.now() - t0) / Math.max(steps, 1), stepMs};
}
