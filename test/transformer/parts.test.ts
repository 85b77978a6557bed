import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams, Params} from '../../lib/core/params';
import {Rng} from '../../lib/core/rng';
import {sequenceCrossEntropy} from '../../lib/optim/losses';
import {transformerSchedule, warmupCosine} from '../../lib/optim/schedule';
import {appendKeyValues, attendKeyValues, initMultiHeadAttention, multiHeadAttention, projectKeyValues} from '../../lib/transformer/attention';
import {causalMask, decoderMask, lengthMask, paddingMask} from '../../lib/transformer/masks';
import {initLearnedPositions, learnedEncoding, sinusoidalEncoding} from '../../lib/transformer/positional';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('positional encodings', () => {
  it('sinusoidal: PE[0] = [0, 1, 0, 1, …] and PE[pos, 2i] = sin(pos / 10000^(2i/D)), PE[pos, 2i+1] = cos(…)', async () => {
    const pe = sinusoidalEncoding(3, 4);
    expect(pe.shape).toEqual([3, 4]);
    const a = 2 / 100; // 10000^(2/4) = 100
    await expectAllClose(pe, [[0, 1, 0, 1], [Math.sin(1), Math.cos(1), Math.sin(1 / 100), Math.cos(1 / 100)], [Math.sin(2), Math.cos(2), Math.sin(a), Math.cos(a)]], 1e-6);
    pe.dispose();
  });
  it('an offset gives the later rows of the same table', async () => {
    const full = sinusoidalEncoding(6, 8), tail = sinusoidalEncoding(2, 8, 4);
    await expectAllClose(tail, tf.slice(full, [4, 0], [2, 8]), 0);
    tf.dispose([full, tail]);
  });
  it('learned: rows [offset, offset + T) of the table, and a clear error past maxLen', async () => {
    const p: Params = {};
    initLearnedPositions(p, 'pos', 5, 4, new Rng(0));
    const rows = learnedEncoding(p, 'pos', 2, 3);
    await expectAllClose(rows, tf.slice(p['pos.weight']!, [3, 0], [2, 4]), 0);
    expect(() => learnedEncoding(p, 'pos', 3, 3)).toThrow(/positions \[3, 6\) exceed the table of maxLen 5/);
    expect(() => sinusoidalEncoding(2, 5)).toThrow(/even dModel/);
    rows.dispose();
    disposeParams(p);
  });
});

describe('masks (1 = may attend)', () => {
  it('causalMask(3) is the lower triangle; with a cache offset t the new rows see all t earlier keys', async () => {
    const m = causalMask(3), o = causalMask(2, 3);
    expect(await m.array()).toEqual([[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
    expect(await o.array()).toEqual([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]);
    tf.dispose([m, o]);
  });
  it('paddingMask is [B, 1, 1, T] and agrees with lengthMask', async () => {
    const ids = tf.tensor2d([[5, 6, 0, 0], [7, 0, 0, 0]], [2, 4], 'int32');
    const m = paddingMask(ids, 0), l = lengthMask([2, 1], 4);
    expect(m.shape).toEqual([2, 1, 1, 4]);
    expect(await m.array()).toEqual([[[[1, 1, 0, 0]]], [[[1, 0, 0, 0]]]]);
    expect(await l.array()).toEqual(await m.array());
    tf.dispose([ids, m, l]);
  });
  it('decoderMask combines causal and padding: [B, 1, T, T]', async () => {
    const ids = tf.tensor2d([[5, 6, 0]], [1, 3], 'int32');
    const m = decoderMask(ids, 0);
    expect(m.shape).toEqual([1, 1, 3, 3]);
    expect(await m.array()).toEqual([[[[1, 0, 0], [1, 1, 0], [1, 1, 0]]]]);
    tf.dispose([ids, m]);
  });
  it('rejects bad arguments with clear messages', () => {
    expect(() => lengthMask([5], 4)).toThrow(/length 5 of sequence 0 is not in \[0, 4\]/);
    expect(() => causalMask(0)).toThrow(/need T > 0/);
    const x = tf.zeros([3]);
    expect(() => paddingMask(x, 0)).toThrow(/token ids must be \[B, T\], got \[3\]/);
    x.dispose();
  });
});

describe('multi-head attention', () => {
  const D = 8, H = 2;
  const make = (fused = true) => { const p: Params = {}; initMultiHeadAttention(p, 'a', D, new Rng(1), {fused}); return p; };

  it('weights are [B, H, Tq, Tk], rows sum to 1 and blocked keys get weight 0', async () => {
    const p = make();
    const x = tf.randomNormal([2, 3, D], 0, 1, 'float32', 1), mem = tf.randomNormal([2, 5, D], 0, 1, 'float32', 2);
    const mask = lengthMask([5, 2], 5);
    const r = multiHeadAttention(p, 'a', x, mem, H, {mask, returnWeights: true});
    expect(r.output.shape).toEqual([2, 3, D]);
    expect(r.weights!.shape).toEqual([2, H, 3, 5]);
    for (const s of await tf.sum(r.weights!, -1).data()) expect(s).toBeCloseTo(1, 5);
    const w = await r.weights!.array();
    for (const h of [0, 1]) for (const q of [0, 1, 2]) expect(w[1]![h]![q]!.slice(2)).toEqual([0, 0, 0]);
    tf.dispose([x, mem, mask, r.output, r.weights!]);
    disposeParams(p);
  });

  it('a fully masked row stays finite (uniform weights)', async () => {
    const p = make();
    const x = tf.randomNormal([1, 2, D]);
    const mask = tf.tensor([[1, 1], [0, 0]]).reshape([1, 1, 2, 2]);
    const r = multiHeadAttention(p, 'a', x, null, H, {mask, returnWeights: true});
    expect((await r.output.data()).every(Number.isFinite)).toBe(true);
    await expectAllClose(tf.slice(r.weights!, [0, 0, 1, 0], [1, H, 1, 2]), [0.5, 0.5, 0.5, 0.5], 1e-6);
    tf.dispose([x, mask, r.output, r.weights!]);
    disposeParams(p);
  });

  it('dropout on the weights acts only in training, and is reproducible with a seed', async () => {
    const p = make();
    const x = tf.randomNormal([1, 6, D], 0, 1, 'float32', 3);
    const a = multiHeadAttention(p, 'a', x, null, H);
    const b = multiHeadAttention(p, 'a', x, null, H, {dropout: 0.5});
    const c = multiHeadAttention(p, 'a', x, null, H, {dropout: 0.5, training: true, seed: 7});
    const d = multiHeadAttention(p, 'a', x, null, H, {dropout: 0.5, training: true, seed: 7});
    await expectAllClose(b.output, a.output, 0);
    await expectAllClose(d.output, c.output, 0);
    expect(tf.max(tf.abs(tf.sub(c.output, a.output))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, a.output, b.output, c.output, d.output]);
    disposeParams(p);
  });

  it('cached keys/values grown step by step give the causal self-attention of the whole sequence', async () => {
    const p = make(false);
    const x = tf.randomNormal([2, 4, D], 0, 1, 'float32', 4);
    const mask = causalMask(4);
    const full = multiHeadAttention(p, 'a', x, null, H, {mask});
    let cache: ReturnType<typeof appendKeyValues> | null = null;
    const steps: tf.Tensor[] = [];
    for (let t = 0; t < 4; t++) {
      const xt = tf.slice(x, [0, t, 0], [2, 1, D]);
      const kv = projectKeyValues(p, 'a', xt, H);
      const grown = appendKeyValues(cache, kv);
      if (cache) tf.dispose([cache.k, cache.v]);
      tf.dispose([kv.k, kv.v]);
      cache = grown;
      steps.push(attendKeyValues(p, 'a', xt, cache, H).output);
      xt.dispose();
    }
    const inc = tf.concat(steps, 1);
    await expectAllClose(inc, full.output, 1e-5);
    tf.dispose([x, mask, full.output, inc, ...steps, cache!.k, cache!.v]);
    disposeParams(p);
  });

  it('gradients reach every parameter (fused and separate)', () => {
    for (const fused of [true, false]) {
      const p = make(fused);
      const x = tf.randomNormal([2, 3, D]), mem = tf.randomNormal([2, 4, D]);
      const {value, grads} = tf.variableGrads(() => tf.sum(tf.square(multiHeadAttention(p, 'a', x, mem, H).output)) as tf.Scalar, Object.values(p));
      for (const [name, v] of Object.entries(p)) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0], name).toBeGreaterThan(0);
      tf.dispose([x, mem, value, grads]);
      disposeParams(p);
    }
  });

  it('names the problem for bad shapes', () => {
    const p = make();
    const x = tf.zeros([2, 3, D]), bad = tf.zeros([2, 3, 6]), mem = tf.zeros([1, 3, D]), m = tf.ones([3, 3, 3]);
    expect(() => multiHeadAttention(p, 'a', x, null, 3)).toThrow(/dModel \(8\) must be divisible by numHeads \(3\)/);
    expect(() => multiHeadAttention(p, 'a', bad, null, H)).toThrow(/a.qkv.weight is \[8,24\], expected \[6, 18\]/);
    expect(() => multiHeadAttention(p, 'a', x, mem, H)).toThrow(/memory \[1,3,8\] must be \[B, Tk, D\] = \[2, Tk, 8\]/);
    expect(() => multiHeadAttention(p, 'a', x, null, H, {mask: m})).toThrow(/mask \[3,3,3\] does not broadcast to \[B, H, Tq, Tk\] = \[2, 2, 3, 3\]/);
    expect(() => multiHeadAttention(p, 'b', x, null, H)).toThrow(/missing parameter "b.qkv.weight"/);
    tf.dispose([x, bad, mem, m]);
    disposeParams(p);
  });

  it('does not leak tensors', () => {
    const p = make();
    const x = tf.randomNormal([2, 3, D]), mask = causalMask(3);
    expectNoLeak(() => { const r = multiHeadAttention(p, 'a', x, null, H, {mask, returnWeights: true, dropout: 0.1, training: true}); return [r.output, r.weights!]; });
    tf.dispose([x, mask]);
    disposeParams(p);
  });
});

describe('training helpers from lib/train (hand-computed)', () => {
  it('the original schedule: d^-0.5 · min(step^-0.5, step · warmup^-1.5), peak at step = warmup', () => {
    const o = {dModel: 512, warmupSteps: 4000};
    expect(transformerSchedule(1, o)).toBeCloseTo(Math.pow(512, -0.5) * Math.pow(4000, -1.5), 12);
    expect(transformerSchedule(4000, o)).toBeCloseTo(1 / Math.sqrt(512 * 4000), 12); // 6.98771e-4
    expect(transformerSchedule(16000, o)).toBeCloseTo(transformerSchedule(4000, o) / 2, 12);
    expect(warmupCosine(0, {baseLr: 1, warmupSteps: 4, totalSteps: 12})).toBeCloseTo(0.25, 12);
    expect(warmupCosine(8, {baseLr: 1, warmupSteps: 4, totalSteps: 12})).toBeCloseTo(0.5, 12);
  });
  it('label-smoothed sequence cross-entropy: −(0.1·log 0.25 + 0.9·log 0.75) with ε = 0.2, PAD ignored', async () => {
    const logits = tf.tensor3d([[[0, Math.log(3)], [5, -5]]]);      // p = [0.25, 0.75] at t = 0
    const targets = tf.tensor2d([[1, 0]], [1, 2], 'int32');          // t = 1 is padding (id 0)
    const loss = sequenceCrossEntropy(logits, targets, {labelSmoothing: 0.2, padId: 0});
    expect(loss.dataSync()[0]).toBeCloseTo(-(0.1 * Math.log(0.25) + 0.9 * Math.log(0.75)), 5);
    tf.dispose([logits, targets, loss]);
  });
});
