/**
 * Data-parallel training (lib/train/data-parallel.ts): the second half of every batch computed in a
 * worker process gives the same weights, bit for bit, as gradient accumulation over two halves in
 * one process (same slices, seeds, weights and order of additions); failures of the worker surface
 * as clear errors in the trainer.
 */
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startDataParallel, useOneThreadPerWorker} from '../../lib/train/data-parallel';
import {RECIPES} from '../../lib/train/recipes';
import {cleanTrainMetrics, createTrainer, disposeTrainer, evaluate, makeBatch, orderOfEpoch, Trainer, trainStep} from '../../lib/train/vit-trainer';

const env = {...process.env, COURSE_BACKEND: 'cpu'}; // the worker's backend = this process's
beforeAll(async () => { await tf.setBackend('cpu'); });

// every lever on: dropout and stochastic depth masks are seeded per slice, EMA after each step
const recipe = {...RECIPES['tiny-levers']!, batchSize: 8};
const count = 16;
const set = {images: Uint8Array.from({length: count * 3072}, (_, i) => (i * 131 + (i >> 9) * 7) % 256),
  labels: Uint8Array.from({length: count}, (_, i) => (i * 3) % 10), count};

describe('useOneThreadPerWorker', () => {
  it('sets 1 OpenBLAS thread for 2 workers only, and never overrides a COURSE_THREADS the user set', () => {
    const two: NodeJS.ProcessEnv = {}, one: NodeJS.ProcessEnv = {}, none: NodeJS.ProcessEnv = {}, set: NodeJS.ProcessEnv = {COURSE_THREADS: '2'};
    useOneThreadPerWorker(2, two); useOneThreadPerWorker(1, one); useOneThreadPerWorker(undefined, none); useOneThreadPerWorker(2, set);
    expect([two.COURSE_THREADS, one.COURSE_THREADS, none.COURSE_THREADS, set.COURSE_THREADS]).toEqual(['1', undefined, undefined, '2']);
  });
});

describe('data-parallel training', () => {
  const trainers: Trainer[] = [];
  afterAll(() => trainers.forEach(disposeTrainer));

  it('equals gradient accumulation over the two halves, bit for bit, without leaking tensors', async () => {
    const accum = createTrainer({...recipe, microBatch: 4}, count);
    const dp = createTrainer(recipe, count);
    trainers.push(accum, dp);
    await startDataParallel(dp, env);
    const order = orderOfEpoch(recipe, count, 0);
    const before = tf.memory().numTensors;
    for (let b = 0; b < 2; b++) {
      const ra = await trainStep(accum, makeBatch(recipe, set, order, 0, b), b);
      const rd = await trainStep(dp, makeBatch(recipe, set, order, 0, b), b);
      expect(rd.loss).toBe(ra.loss);
      expect(rd.correct).toBe(ra.correct);
      expect(rd.gradNorm).toBe(ra.gradNorm);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const n of Object.keys(accum.params)) {
      expect(Array.from(dp.params[n]!.dataSync()), n).toEqual(Array.from(accum.params[n]!.dataSync()));
      expect(Array.from(dp.ema![n]!.dataSync()), `ema ${n}`).toEqual(Array.from(accum.ema![n]!.dataSync()));
    }
    // and it is not the whole-batch step: the halves' dropout masks differ from one mask for all 8
    const whole = createTrainer(recipe, count);
    trainers.push(whole);
    for (let b = 0; b < 2; b++) await trainStep(whole, makeBatch(recipe, set, order, 0, b), b);
    expect(Array.from(whole.params['head.weight']!.dataSync())).not.toEqual(Array.from(dp.params['head.weight']!.dataSync()));
  }, 120_000);

  it('evaluation with the worker equals evaluation in one process, bit for bit, TTA and EMA weights included', async () => {
    const dp = createTrainer(recipe, count);
    trainers.push(dp);
    const w = await startDataParallel(dp, env);
    const order = orderOfEpoch(recipe, count, 0);
    await trainStep(dp, makeBatch(recipe, set, order, 0, 0), 0); // EMA weights now differ from the weights
    // 16 images in batches of 5: 4 batches, 2 here (10 images) and 2 (6 images) in the worker
    let asked: number[] = [];
    const spy = {startEval: (p: Parameters<typeof w.startEval>[0], r: Parameters<typeof w.startEval>[1],
      s: Parameters<typeof w.startEval>[2], b: number) => { asked = [s.count, s.labels[0]!]; return w.startEval(p, r, s, b); }};
    const before = tf.memory().numTensors;
    for (const r of [recipe, {...recipe, tta: 'flip' as const}]) {
      for (const params of [dp.params, dp.ema!]) {
        const one = await evaluate(params, r, set, 5);
        const two = await evaluate(params, r, set, 5, undefined, spy);
        expect(asked).toEqual([6, set.labels[10]]);
        expect(two.loss).toBe(one.loss);
        expect(two.accuracy).toBe(one.accuracy);
        expect(Array.from(two.predictions)).toEqual(Array.from(one.predictions));
        expect(Array.from(two.probs)).toEqual(Array.from(one.probs));
        expect(two.single).toEqual(one.single);
        expect(two.single === undefined).toBe(r.tta === undefined);
      }
    }
    const ema = await evaluate(dp.ema!, recipe, set, 5, undefined, w), raw = await evaluate(dp.params, recipe, set, 5, undefined, w);
    expect(Array.from(ema.probs)).not.toEqual(Array.from(raw.probs)); // the worker used the weights it was given
    expect(await cleanTrainMetrics(dp.params, recipe, set, 12, w)).toEqual(await cleanTrainMetrics(dp.params, recipe, set, 12));
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('a worker that dies is named in the error, and the batch is not lost silently', async () => {
    const dp = createTrainer(recipe, count);
    trainers.push(dp);
    const w = await startDataParallel(dp, env);
    const child = (w as unknown as {child: import('node:child_process').ChildProcess}).child;
    const gone = new Promise((r) => child.once('exit', r)); // wait for the exit itself, not a guessed delay (a busy machine is slow)
    child.kill('SIGKILL');
    await gone;
    const order = orderOfEpoch(recipe, count, 0);
    const before = tf.memory().numTensors;
    const batch = makeBatch(recipe, set, order, 0, 0);
    await expect(trainStep(dp, batch, 0)).rejects.toThrow(/the gradient worker process has ended \(killed by SIGKILL\)/);
    tf.dispose([batch.x, batch.targets]);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('refuses a trainer with a custom forward (the CNN baseline) with a clear message', async () => {
    const t = createTrainer(recipe, count);
    trainers.push(t);
    t.forward = (p, x) => tf.zeros([x.shape[0], 10]) as tf.Tensor2D;
    await expect(startDataParallel(t, env)).rejects.toThrow(/needs a ViT recipe: a custom forward cannot run in the worker process/);
  });
});
