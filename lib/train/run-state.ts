/**
 * Epoch checkpoints of a measurement run (`npm run levers`, `npm run data-fraction`): one run is an
 * hour of CPU, and a process that ends (a closed laptop, a session's end, Ctrl-C) should lose at most
 * one epoch of it, not all of it.
 *
 * - saveRunState: after each epoch, the weights, AdamW's moments and step, the EMA, the position
 *   (epochs done, optimizer steps, seconds of training so far) and the run's identity, written
 *   atomically (lib/io/checkpoint.ts).
 * - resumeRunState: loads such a file into a freshly created trainer of the same run and returns
 *   where to continue; a file of another run (other lever, seed, recipe, data) is refused with its
 *   name and the field that differs, never loaded into the wrong run.
 * - trainEpochs: the epoch loop of both scripts — resume, train, save after every epoch, progress lines.
 * - removeRunState: once the run's result is in its results file.
 *
 * Resuming at an epoch boundary is exact: the batch order, augmentation and dropout masks are
 * functions of (seed, epoch, batch, step), so the resumed run computes the same numbers as one that
 * never stopped (tested).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {ImageSet} from '../data/cifar';
import {assignParams, cleanStaleTemps, loadCheckpoint, saveCheckpoint} from '../io/checkpoint';
import {makeBatch, orderOfEpoch, Trainer, trainStep} from './vit-trainer';

/** Where a run stands at the end of an epoch. */
export interface RunPosition { epochsDone: number; step: number; trainSeconds: number; /** the last batch's loss */ loss: number }

const shown = (file: string) => path.relative(process.cwd(), file) || file;

/** Saves the trainer's state after `pos.epochsDone` epochs; `identity` says which run it belongs to. */
export async function saveRunState(file: string, t: Trainer, pos: RunPosition, identity: Record<string, unknown>): Promise<void> {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  await saveCheckpoint(file, t.params, {optimizer: t.optimizer, ema: t.ema, meta: {runState: pos, identity}});
}

/**
 * Loads `file` into `t` when it exists and belongs to the run `identity`; returns the position to
 * continue from, or undefined (no file: start from scratch). `t` must be freshly created for the run.
 */
export async function resumeRunState(file: string, t: Trainer, identity: Record<string, unknown>): Promise<RunPosition | undefined> {
  cleanStaleTemps(file);
  if (!fs.existsSync(file)) return undefined;
  const ck = await loadCheckpoint(file);
  const saved = ck.meta.identity as Record<string, unknown> | undefined;
  const pos = ck.meta.runState as RunPosition | undefined;
  if (!saved || !pos || !ck.optimizer) {
    throw new Error(`${shown(file)} is not the state of a measurement run (no identity, position or optimizer state); remove it to start the run afresh`);
  }
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(identity)])];
  const differs = keys.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(identity[k]));
  if (differs.length > 0) {
    throw new Error(`${shown(file)} holds another run (${differs.map((k) => `${k}: ${JSON.stringify(saved[k])} there, ` +
      `${JSON.stringify(identity[k])} here`).join('; ')}); remove it to start this run afresh`);
  }
  assignParams(t.params, ck.params);
  t.optimizer.setState(ck.optimizer);
  if (t.ema) assignParams(t.ema, ck.ema ?? {});
  return pos;
}

/**
 * Trains `t` (freshly created for the run) for `epochs` epochs of `set` with its recipe: resumes from
 * `state` when that file holds this run (`identity`), saves the state after every epoch and writes a
 * progress line per epoch to stderr, prefixed with `tag`. `afterStep` sees every step's loss and the
 * number of steps so far (e.g. to stop on a non-finite loss). Returns the steps taken in all, the last
 * batch's loss and the seconds of training across sittings.
 */
export async function trainEpochs(t: Trainer, set: ImageSet, epochs: number, opts: {state: string; identity: Record<string, unknown>; tag: string;
  afterStep?: (loss: number, step: number) => void}): Promise<{step: number; loss: number; trainSeconds: number}> {
  const t0 = Date.now();
  const at = await resumeRunState(opts.state, t, opts.identity);
  let {step, loss} = at ?? {step: 0, loss: NaN};
  const done = at?.epochsDone ?? 0, before = at?.trainSeconds ?? 0, step0 = step;
  if (at) process.stderr.write(`${opts.tag}: resumed from ${shown(opts.state)} after epoch ${done} (${before.toFixed(0)} s of training)\n`);
  for (let e = done; e < epochs; e++) {
    const order = orderOfEpoch(t.recipe, set.count, e);
    for (let b = 0; b < t.stepsPerEpoch; b++) {
      loss = (await trainStep(t, makeBatch(t.recipe, set, order, e, b), step++)).loss;
      opts.afterStep?.(loss, step);
      await new Promise((r) => setImmediate(r));
    }
    const secs = (Date.now() - t0) / 1000;
    await saveRunState(opts.state, t, {epochsDone: e + 1, step, trainSeconds: before + secs, loss}, opts.identity);
    process.stderr.write(`${opts.tag}: epoch ${e + 1}/${epochs} loss ${loss.toFixed(4)} ` +
      `(${(((step - step0) * t.recipe.batchSize) / secs).toFixed(0)} img/s)\n`);
  }
  return {step, loss, trainSeconds: before + (Date.now() - t0) / 1000};
}

export function removeRunState(file: string): void {
  fs.rmSync(file, {force: true});
}
