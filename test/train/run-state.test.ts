/**
 * lib/train/run-state.ts: a measurement run (npm run levers / data-fraction) saved after an epoch and
 * resumed in a fresh trainer computes the same weights, moments and EMA as a run that never stopped;
 * a state of another run, or a file that is not a run state, is refused by name; no tensor leaks.
 */
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {saveCheckpoint} from '../../lib/io/checkpoint';
import {getRecipe} from '../../lib/train/recipes';
import {removeRunState, resumeRunState, saveRunState} from '../../lib/train/run-state';
import {createTrainer, disposeTrainer, makeBatch, orderOfEpoch, Trainer, trainStep} from '../../lib/train/vit-trainer';
import {fakeSet, setupBackend} from '../helpers';

beforeAll(setupBackend);

let trainers: Trainer[] = [];
afterEach(() => { trainers.forEach(disposeTrainer); trainers = []; });
// every lever on (dropout, stochastic depth, TrivialAugment, mixup/CutMix, EMA): all the randomness a resume must reproduce
const recipe = getRecipe('tiny-levers', {batchSize: 8, epochs: 2});
const make = () => { const t = createTrainer(recipe, 16); trainers.push(t); return t; };
const set = fakeSet(16);
const identity = {lever: 'all', seed: 0, recipe};

async function epochs(t: Trainer, from: number, to: number, step: number): Promise<{step: number; loss: number}> {
  let loss = NaN;
  for (let e = from; e < to; e++) {
    const order = orderOfEpoch(recipe, set.count, e);
    for (let b = 0; b < t.stepsPerEpoch; b++) loss = (await trainStep(t, makeBatch(recipe, set, order, e, b), step++)).loss;
  }
  return {step, loss};
}
const values = (p: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(p).map(([n, v]) => [n, Array.from(v.dataSync())]));

describe('run state: save after an epoch, resume exactly', () => {
  it('2 epochs straight = 1 epoch, save, a fresh trainer resumed, 1 more epoch: same weights, EMA and AdamW state, bit for bit', async () => {
    const straight = make();
    const a = await epochs(straight, 0, 2, 0);

    const file = join(mkdtempSync(join(tmpdir(), 'run-state-')), 'baseline-seed0.safetensors');
    const first = make();
    const p1 = await epochs(first, 0, 1, 0);
    await saveRunState(file, first, {epochsDone: 1, step: p1.step, trainSeconds: 12.5, loss: p1.loss}, identity);
    disposeTrainer(first); trainers = trainers.filter((t) => t !== first);

    const before = tf.memory().numTensors;
    const resumed = make();
    const created = tf.memory().numTensors - before;
    const at = await resumeRunState(file, resumed, identity);
    expect(at).toEqual({epochsDone: 1, step: 2, trainSeconds: 12.5, loss: p1.loss}); // 16 images / 8 = 2 steps per epoch
    expect(tf.memory().numTensors - before).toBe(created);                           // loading allocates nothing that stays
    const b = await epochs(resumed, at!.epochsDone, 2, at!.step);

    expect(b).toEqual(a);
    expect(values(resumed.params)).toEqual(values(straight.params));
    expect(values(resumed.ema!)).toEqual(values(straight.ema!));
    const sa = straight.optimizer.getState(), sb = resumed.optimizer.getState();
    expect(sb.step).toBe(sa.step);
    expect(values(sb.m as Record<string, tf.Tensor>)).toEqual(values(sa.m as Record<string, tf.Tensor>));
    expect(values(sb.v as Record<string, tf.Tensor>)).toEqual(values(sa.v as Record<string, tf.Tensor>));

    removeRunState(file);
    expect(existsSync(file)).toBe(false);
    expect(await resumeRunState(file, make(), identity)).toBeUndefined();            // no state: start from scratch
  }, 120_000);

  it('refuses the state of another run, naming the file and what differs, and a file that is not a run state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-state-'));
    const file = join(dir, 'x.safetensors');
    const t = make();
    await saveRunState(file, t, {epochsDone: 1, step: 4, trainSeconds: 1, loss: 2}, identity);
    await expect(resumeRunState(file, make(), {...identity, seed: 1}))
      .rejects.toThrow(/x\.safetensors holds another run \(seed: 0 there, 1 here\); remove it to start this run afresh/);
    const plain = join(dir, 'model.safetensors');
    await saveCheckpoint(plain, t.params, {meta: {recipe}});
    await expect(resumeRunState(plain, make(), identity)).rejects.toThrow(/model\.safetensors is not the state of a measurement run/);
    writeFileSync(join(dir, 'junk.safetensors'), 'not a checkpoint');
    await expect(resumeRunState(join(dir, 'junk.safetensors'), make(), identity)).rejects.toThrow(/junk\.safetensors/);
  });
});
