import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {countParams, disposeParams} from '../../lib/core/params';
import {decodeStep, disposeDecoderState, greedyDecode, startDecoding} from '../../lib/transformer/decode';
import {decoderMask, lengthMask} from '../../lib/transformer/masks';
import {decode, encode, generator, initTransformer, transformerConfig, TransformerConfig, transformerForward} from '../../lib/transformer/model';
import {toTorchStateDict} from '../../lib/transformer/torch';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);

const base = transformerConfig({srcVocabSize: 11, tgtVocabSize: 9, dModel: 16, numHeads: 2, numLayers: 2, numDecoderLayers: 2, dFF: 24, maxLen: 12});
const variants: [string, TransformerConfig][] = [
  ['post-norm, sinusoidal, untied', base],
  ['pre-norm, learned positions, tied output', transformerConfig({...base, norm: 'pre', positional: 'learned', tieOutput: true, activation: 'gelu'})],
];
const src = () => tf.tensor2d([[3, 4, 5, 6, 0, 0], [7, 8, 9, 10, 4, 3]], [2, 6], 'int32');   // row 0: 4 tokens + 2 PAD
const tgt = () => tf.tensor2d([[1, 3, 4, 5, 6], [1, 8, 7, 6, 2]], [2, 5], 'int32');          // BOS + 4 tokens

async function logitsOf(p: ReturnType<typeof initTransformer>, cfg: TransformerConfig, s: tf.Tensor, t: tf.Tensor): Promise<number[][][]> {
  const out = transformerForward(p, cfg, s, t);
  const a = await out.logits.array();
  out.logits.dispose();
  return a;
}

describe('encoder-decoder Transformer', () => {
  it('counts the parameters of the formula (post-norm, untied)', () => {
    const p = initTransformer(base, 0);
    const D = 16, F = 24, Vs = 11, Vt = 9;
    const mha = D * 3 * D + 3 * D + D * D + D, ffn = D * F + F + F * D + D, ln = 2 * D;
    expect(countParams(p)).toBe(Vs * D + Vt * D + 2 * (mha + ffn + 2 * ln) + 2 * (2 * mha + ffn + 3 * ln) + D * Vt + Vt);
    disposeParams(p);
  });

  for (const [name, cfg] of variants) {
    describe(name, () => {
      it('maps src [B, S] and tgt [B, T] to logits [B, T, Vt] and attention maps of the documented shapes', () => {
        const p = initTransformer(cfg, 1);
        const s = src(), t = tgt();
        const out = transformerForward(p, cfg, s, t, {returnWeights: true});
        expect(out.logits.shape).toEqual([2, 5, 9]);
        expect(out.encoderWeights!.map(w => w.shape)).toEqual([[2, 2, 6, 6], [2, 2, 6, 6]]);
        expect(out.decoderSelfWeights!.map(w => w.shape)).toEqual([[2, 2, 5, 5], [2, 2, 5, 5]]);
        expect(out.crossWeights!.map(w => w.shape)).toEqual([[2, 2, 5, 6], [2, 2, 5, 6]]);
        tf.dispose([s, t, out.logits, ...out.encoderWeights!, ...out.decoderSelfWeights!, ...out.crossWeights!]);
        disposeParams(p);
      });

      it('is causal: changing target tokens after position t never changes the logits at positions ≤ t', async () => {
        const p = initTransformer(cfg, 2);
        const s = src(), t = tgt();
        const ref = await logitsOf(p, cfg, s, t);
        for (const pos of [1, 2, 3, 4]) {
          const changed = (await t.array()).map(r => r.map((v, j) => (j >= pos ? (v % 7) + 2 : v)));
          const t2 = tf.tensor2d(changed, [2, 5], 'int32');
          const l2 = await logitsOf(p, cfg, s, t2);
          for (let b = 0; b < 2; b++) for (let j = 0; j < pos; j++) await expectAllClose(l2[b]![j]!, ref[b]![j]!, 1e-5);
          let diff = 0;
          for (let j = pos; j < 5; j++) diff += Math.abs(l2[0]![j]![0]! - ref[0]![j]![0]!);
          expect(diff, `logits after position ${pos} do change`).toBeGreaterThan(1e-6);
          t2.dispose();
        }
        tf.dispose([s, t]);
        disposeParams(p);
      });

      it('ignores padding: changing padded source tokens or padded target tokens changes no real output', async () => {
        const p = initTransformer(cfg, 3);
        const s = src(), t = tgt();
        const ref = await logitsOf(p, cfg, s, t);
        // garbage tokens in the padded source slots, masked by length: memory and logits at real positions unchanged
        const srcMask = lengthMask([4, 6], 6), tMask = decoderMask(t, cfg.padId);
        const garbage = tf.tensor2d([[3, 4, 5, 6, 9, 2], [7, 8, 9, 10, 4, 3]], [2, 6], 'int32');
        const run = (x: tf.Tensor) => tf.tidy(() => {
          const {memory} = encode(p, cfg, x, srcMask);
          return [tf.slice(memory, [0, 0, 0], [2, 4, cfg.dModel]), generator(p, cfg, decode(p, cfg, t, memory, srcMask, tMask).hidden)];
        });
        const [m1, g1] = run(s), [m2, g2] = run(garbage);
        await expectAllClose(m2!, m1!, 1e-5);
        await expectAllClose(g2!, g1!, 1e-5);
        await expectAllClose(g1!, ref.flat(2), 1e-5);
        tf.dispose([srcMask, tMask, garbage, m1!, g1!, m2!, g2!]);
        // the same batch padded further (more PAD ids): the same logits
        const s2 = tf.tensor2d([[3, 4, 5, 6, 0, 0, 0, 0], [7, 8, 9, 10, 4, 3, 0, 0]], [2, 8], 'int32');
        await expectAllClose((await logitsOf(p, cfg, s2, t)).flat(2), ref.flat(2), 1e-5);
        // padded target positions (after the real ones) do not change the real positions
        const t3 = tf.tensor2d([[1, 3, 4, 5, 6, 0, 0], [1, 8, 7, 6, 2, 0, 0]], [2, 7], 'int32');
        const l3 = await logitsOf(p, cfg, s, t3);
        await expectAllClose(l3.map(r => r.slice(0, 5)).flat(2), ref.flat(2), 1e-5);
        tf.dispose([s, t, s2, t3]);
        disposeParams(p);
      });

      it('the KV cache gives the logits of the full masked forward pass, step by step (within 1e-5)', async () => {
        const p = initTransformer(cfg, 4);
        const s = src(), t = tgt();
        const ref = await logitsOf(p, cfg, s, t);
        let state = startDecoding(p, cfg, s);
        for (let j = 0; j < 5; j++) {
          const tok = tf.slice(t, [0, j], [2, 1]);
          const r = decodeStep(p, cfg, state, tok);
          state = r.state;
          expect(r.logits.shape).toEqual([2, 1, 9]);
          const l = await r.logits.array();
          for (let b = 0; b < 2; b++) await expectAllClose(l[b]![0]!, ref[b]![j]!, 1e-5);
          tf.dispose([tok, r.logits]);
        }
        expect(state.cache[0]!.k.shape).toEqual([4, 5, 8]);
        disposeDecoderState(state);
        tf.dispose([s, t]);
        disposeParams(p);
      });

      it('greedy decoding gives the same tokens with and without the cache', async () => {
        const p = initTransformer(cfg, 5);
        const s = src();
        const before = tf.memory().numTensors;
        const a = await greedyDecode(p, cfg, s, {bos: 1, eos: 2, maxSteps: 8, useCache: true});
        const b = await greedyDecode(p, cfg, s, {bos: 1, eos: 2, maxSteps: 8, useCache: false});
        expect(tf.memory().numTensors, 'no leaked tensors').toBe(before);
        expect(a.ids).toEqual(b.ids);
        expect(a.steps).toBeGreaterThan(0);
        expect(a.ids[0]!.length).toBeGreaterThan(0);
        s.dispose();
        disposeParams(p);
      });

      it('records the time of every decoder step; an EOS id no token has decodes exactly maxSteps', async () => {
        const p = initTransformer(cfg, 5);
        const s = src();
        for (const useCache of [true, false]) {
          const r = await greedyDecode(p, cfg, s, {bos: 1, eos: -1, maxSteps: 6, useCache});
          expect(r.steps).toBe(6);
          expect(r.ids.every(ids => ids.length === 6)).toBe(true);
          expect(r.stepMs).toHaveLength(6);
          expect(r.stepMs.every(ms => ms >= 0)).toBe(true);
          // the steps exclude only the encoder, so they add up to no more than the whole call
          expect(r.stepMs.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(r.msPerStep * r.steps + 1e-6);
        }
        s.dispose();
        disposeParams(p);
      });

      it('gradients reach every parameter', () => {
        const p = initTransformer({...cfg, dropout: 0.1}, 6);
        const s = src(), t = tgt();
        const {value, grads} = tf.variableGrads(() => tf.mean(tf.square(transformerForward(p, {...cfg, dropout: 0.1}, s, t, {training: true, seed: 1}).logits)) as tf.Scalar, Object.values(p));
        for (const [n, v] of Object.entries(p)) {
          expect(grads[v.name], n).toBeDefined();
          expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0], `gradient of ${n}`).toBeGreaterThan(0);
        }
        tf.dispose([s, t, value, grads]);
        disposeParams(p);
      });

      it('does not leak tensors (forward with weights, training mode)', () => {
        const p = initTransformer({...cfg, dropout: 0.1}, 7);
        const s = src(), t = tgt();
        const before = tf.memory().numTensors;
        const out = transformerForward(p, {...cfg, dropout: 0.1}, s, t, {returnWeights: true, training: true});
        tf.dispose([out.logits, ...out.encoderWeights!, ...out.decoderSelfWeights!, ...out.crossWeights!]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([s, t]);
        disposeParams(p);
      });
    });
  }

  it('exports PyTorch names for the whole model (encoder/decoder layers as nn.Transformer)', () => {
    const p = initTransformer(base, 0);
    const sd = toTorchStateDict(p);
    for (const k of ['encoder.layers.0.self_attn.in_proj_weight', 'encoder.layers.1.linear2.bias', 'decoder.layers.1.multihead_attn.out_proj.weight',
      'decoder.layers.0.norm3.weight', 'src_embed.weight', 'generator.weight']) expect(sd, k).toHaveProperty([k]);
    expect([(sd['encoder.layers.0.self_attn.in_proj_weight'] as number[][]).length, (sd['generator.weight'] as number[][]).length]).toEqual([48, 9]);
    expect((sd['tgt_embed.weight'] as number[][]).length).toBe(9);
    disposeParams(p);
  });

  it('rejects bad input with clear errors', () => {
    const p = initTransformer(base, 0);
    const s = src(), big = tf.tensor2d([[1, 12]], [1, 2], 'int32'), long = tf.zeros([2, 13], 'int32'), t1 = tf.zeros([1, 3], 'int32');
    expect(() => transformerForward(p, base, big, tf.zeros([1, 2], 'int32'))).toThrow(/token id 12 at flat index 1 is outside the vocabulary \[0, 11\) of src_embed/);
    expect(() => transformerForward(p, base, long, tgt())).toThrow(/13 tokens at offset 0 exceed maxLen 12/);
    expect(() => transformerForward(p, base, s, t1)).toThrow(/same B, got \[2,6\] and \[1,3\]/);
    expect(() => transformerConfig({dModel: 10, numHeads: 4})).toThrow(/dModel \(10\) must be divisible by numHeads \(4\)/);
    tf.dispose([s, big, long, t1]);
    disposeParams(p);
  });
});
