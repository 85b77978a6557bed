/**
 * Gradient accumulation (recipe.microBatch): one step over slices of the batch gives the same loss,
 * predictions and updated weights as one step over the whole batch, without leaking tensors.
 */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {Rng} from '../../lib/core/rng';
import {RECIPES, getRecipe} from '../../lib/train/recipes';
import {Batch, createTrainer, disposeTrainer, lossAndGrads, trainStep} from '../../lib/train/vit-trainer';

beforeAll(async () => { await tf.setBackend('cpu'); });

function batchOf(B: number, seed: number): {x: Float32Array; y: Float32Array; labels: Uint8Array} {
  const rng = new Rng(seed);
  const x = Float32Array.from({length: B * 32 * 32 * 3}, () => rng.normal());
  const labels = Uint8Array.from({length: B}, () => rng.int(10));
  const y = new Float32Array(B * 10);
  labels.forEach((c, i) => { for (let k = 0; k < 10; k++) y[i * 10 + k] = (k === c ? 0.9 : 0) + 0.01; });
  return {x, y, labels};
}

const mk = (d: {x: Float32Array; y: Float32Array; labels: Uint8Array}, B: number): Batch =>
  ({x: tf.tensor4d(d.x, [B, 32, 32, 3]), targets: tf.tensor2d(d.y, [B, 10]), labels: d.labels});

describe('gradient accumulation', () => {
  it('slices of 3 + 3 + 2 give the whole-batch loss, gradients and predictions of 8, without leaks', async () => {
    const B = 8;
    const base = {...RECIPES['tiny']!, batchSize: B};
    const whole = createTrainer(base, 64), acc = createTrainer({...base, microBatch: 3}, 64);
    const names = Object.keys(whole.params);
    const d = batchOf(B, 10);
    const before = tf.memory().numTensors;
    const run = async (t: typeof whole) => {
      const batch = mk(d, B);
      const r = lossAndGrads(t, batch, names.map(n => t.params[n]!));
      const out = {loss: (await r.value.data())[0]!, pred: Array.from(await r.pred.data()),
        grads: await Promise.all(names.map(async n => await r.grads[t.params[n]!.name]!.data()))};
      tf.dispose([r.value, r.pred, ...Object.values(r.grads), batch.x, batch.targets]);
      return out;
    };
    const a = await run(whole), b = await run(acc);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(b.loss - a.loss) / a.loss).toBeLessThan(1e-5);
    expect(b.pred).toEqual(a.pred);
    let worst = 0, scale = 0;
    a.grads.forEach((g, k) => g.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b.grads[k]![i]!)); scale = Math.max(scale, Math.abs(v)); }));
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThan(1e-5);  // every gradient entry, relative to the largest
    // and a full training step (clipping, AdamW) through trainStep runs on slices without leaking
    const s = await trainStep(acc, mk(d, B), 0);
    expect(Math.abs(s.loss - a.loss) / a.loss).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
    disposeTrainer(whole); disposeTrainer(acc);
  });

  it('a micro-batch must be a positive integer', () => {
    expect(() => getRecipe('tiny', {microBatch: 0})).toThrow(/microBatch must be a positive integer/);
    expect(() => getRecipe('tiny', {microBatch: 2.5})).toThrow(/microBatch must be a positive integer/);
    expect(getRecipe('tiny', {microBatch: 16}).microBatch).toBe(16);
  });
});
