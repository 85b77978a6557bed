/**
 * Data-parallel training on one machine: the batch is split in two halves, the trainer computes the
 * gradients of the first while a second process (lib/train/grad-worker.ts) computes those of the
 * second, and the trainer adds them, in that order, before its optimiser step — the arithmetic of
 * gradient accumulation with `microBatch` = half the batch, so both give the same numbers bit for
 * bit. The worker receives the current weights with every slice (3.5 MB for the 0.9 M-parameter
 * models), so it holds no state of its own and a resumed run needs nothing from it.
 *
 * Why processes: on this 2-core machine one process with 2 OpenBLAS threads trains the fast
 * recipe's model at 203 img/s, two 1-thread processes side by side at 127 + 130 (measured with
 * scripts/bench/model.ts, 2026-12-02): the elementwise kernels and the JS between them use the
 * second core better as a second process than as a second thread.
 */
import {ChildProcess, fork} from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ViTConfig} from '../vit/model';
import type {FromWorker, ToWorker} from './grad-worker';
import {Params} from '../core/params';
import {ImageSet} from '../data/cifar';
import {TrainRecipe} from './recipes';
import {accumulate, Batch, EvalBatches, sliceLossAndGrads, sliceSeed, Trainer} from './vit-trainer';

export class GradWorker {
  private pending?: {resolve: (m: FromWorker) => void; reject: (e: Error) => void};
  private exited?: string;

  private constructor(private child: ChildProcess, readonly names: string[]) {
    // an idle worker must not keep the trainer's process alive (a finished or stopped run just exits,
    // and the worker follows on 'disconnect'): the channel is referenced only while a request is open
    child.unref();
    this.channel()?.unref();
    child.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      this.channel()?.unref();
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(`the gradient worker failed: ${m.message}`));
      else p.resolve(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = signal ? `killed by ${signal}` : `exit code ${code}`;
      this.pending?.reject(new Error(`the gradient worker process ended (${this.exited}) before it answered`));
      this.pending = undefined;
    });
  }

  private channel(): {ref(): void; unref(): void} | undefined {
    return (this.child as unknown as {channel?: {ref(): void; unref(): void}}).channel;
  }

  /** Starts the worker process with its own backend (1 OpenBLAS thread) and a model of `model`. */
  static async start(model: ViTConfig, names: string[], env: NodeJS.ProcessEnv = process.env): Promise<GradWorker> {
    const child = fork(path.join(__dirname, 'grad-worker.ts'), [], {
      execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {...env, COURSE_THREADS: '1'},
    });
    const w = new GradWorker(child, names);
    const ready = await w.request({type: 'init', model, names});
    if (ready.type !== 'ready') throw new Error('the gradient worker did not start');
    return w;
  }

  /**
   * Sends one request; `sent` resolves once the message has left this process. A caller that
   * computes synchronously next must await it first: a large message (the weights) is flushed by
   * the event loop, which a synchronous computation blocks, so the worker would start only after it.
   */
  private send(m: ToWorker): {sent: Promise<void>; reply: Promise<FromWorker>} {
    if (this.exited) {
      const e = Promise.reject(new Error(`the gradient worker process has ended (${this.exited})`));
      e.catch(() => undefined);
      return {sent: e as Promise<never>, reply: e};
    }
    if (this.pending) throw new Error('the gradient worker is busy (one request at a time)');
    let sentOk!: () => void, sentFail!: (e: Error) => void;
    const sent = new Promise<void>((res, rej) => { sentOk = res; sentFail = rej; });
    sent.catch(() => undefined);
    const reply = new Promise<FromWorker>((resolve, reject) => {
      this.pending = {resolve, reject};
      this.channel()?.ref();
      this.child.send(m, (e) => {
        if (!e) { sentOk(); return; }
        const err = new Error(`cannot reach the gradient worker: ${e.message}`);
        sentFail(err);
        if (this.pending) { this.pending = undefined; reject(err); }
      });
    });
    return {sent, reply};
  }

  private request(m: ToWorker): Promise<FromWorker> {
    return this.send(m).reply;
  }

  /**
   * Sends `m` and resolves once it has left this process, with the pending answer of type `type`
   * (an early failure is kept from being unhandled; the caller awaits `answer`).
   */
  private async start<K extends 'grad' | 'eval'>(m: ToWorker, type: K): Promise<{answer: Promise<Extract<FromWorker, {type: K}>>}> {
    const {sent, reply} = this.send(m);
    reply.catch(() => undefined);
    await sent;
    return {answer: reply.then((r) => {
      if (r.type !== type) throw new Error(`the gradient worker answered ${r.type}`);
      return r as Extract<FromWorker, {type: K}>;
    })};
  }

  /** The values of `params` (the weights or their EMA) in this worker's name order. */
  weightsOf(params: Params): Float32Array[] {
    return this.names.map((n) => {
      const v = params[n];
      if (!v) throw new Error(`data-parallel: the weights have no ${n}`);
      return v.dataSync() as Float32Array;
    });
  }

  /**
   * Starts one slice in the worker: the weighted loss, gradients (in `names` order) and predictions
   * of that slice at `weights`. Resolves (with the pending answer) once the request has been sent.
   */
  startGrad(weights: Float32Array[], x: tf.Tensor4D, targets: tf.Tensor2D, seed: number | undefined, weight: number) {
    return this.start({type: 'grad', weights, x: x.dataSync() as Float32Array, xShape: x.shape,
      targets: targets.dataSync() as Float32Array, tShape: targets.shape, seed, weight}, 'grad');
  }

  /**
   * Starts evalBatches of `set` in the worker at `params` (the trainer's weights or their EMA, by the
   * trainer's names). Resolves once the request has been sent.
   */
  async startEval(params: Params, recipe: TrainRecipe, set: ImageSet, batchSize: number): Promise<{answer: Promise<EvalBatches>}> {
    // slice(), not the view: a view would be sent with its whole buffer (the full data set)
    const {answer} = await this.start({type: 'eval', weights: this.weightsOf(params), recipe, images: set.images.slice(),
      labels: set.labels.slice(), count: set.count, batchSize}, 'eval');
    return {answer: answer.then((m) => m.result)};
  }

  close(): void {
    if (!this.exited) this.child.kill();
  }

  lossAndGrads(t: Trainer, batch: Batch, vars: tf.Variable[]) {
    return lossAndGradsParallel(t, batch, vars, this);
  }
}

/**
 * Sets this process to 1 OpenBLAS thread when a run uses 2 worker processes (unless COURSE_THREADS
 * is set): two processes of 1 thread each use the 2 cores better than one of 2 threads. Call it
 * before initBackend.
 */
export function useOneThreadPerWorker(workers: number | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (workers === 2 && env.COURSE_THREADS === undefined) env.COURSE_THREADS = '1';
}

/** Starts the worker of trainer `t` (ViT recipes; the CNN baseline's forward cannot be sent to another process). */
export async function startDataParallel(t: Trainer, env: NodeJS.ProcessEnv = process.env): Promise<GradWorker> {
  if (t.forward) throw new Error('data-parallel training (workers 2) needs a ViT recipe: a custom forward cannot run in the worker process');
  const w = await GradWorker.start(t.recipe.model, Object.keys(t.params), env);
  t.worker = w;
  return w;
}

/**
 * lossAndGrads with the second half of the batch in the worker: the same slices, seeds, weights
 * and order of additions as gradient accumulation with microBatch = ceil(B / 2).
 */
export async function lossAndGradsParallel(t: Trainer, batch: Batch, vars: tf.Variable[], w: GradWorker):
  Promise<{value: tf.Scalar; grads: tf.NamedTensorMap; pred: tf.Tensor}> {
  const B = batch.x.shape[0], half = Math.ceil(B / 2), n2 = B - half;
  if (n2 === 0) throw new Error(`data-parallel training needs at least 2 images per batch (got ${B})`);
  const [x1, y1, x2, y2] = tf.tidy(() => [tf.slice(batch.x, [0, 0, 0, 0], [half, -1, -1, -1]), tf.slice(batch.targets, [0, 0], [half, -1]),
    tf.slice(batch.x, [half, 0, 0, 0], [n2, -1, -1, -1]), tf.slice(batch.targets, [half, 0], [n2, -1])]);
  const weights = w.weightsOf(t.params);
  let remote: Awaited<ReturnType<GradWorker['startGrad']>>;
  try {
    remote = await w.startGrad(weights, x2 as tf.Tensor4D, y2 as tf.Tensor2D, sliceSeed(batch, half), n2 / B);
  } catch (e) {
    tf.dispose([x1!, y1!, x2!, y2!]);
    throw e;
  }
  remote.answer.catch(() => undefined);
  // the worker computes the second half while this process computes the first
  const local = sliceLossAndGrads(t.params, t.recipe.model, undefined, x1!, y1!, sliceSeed(batch, 0), half / B, vars);
  tf.dispose([x1!, y1!, x2!, y2!]);
  let r: Awaited<typeof remote.answer>;
  try {
    r = await remote.answer;
  } catch (e) {
    tf.dispose([local.value, local.pred, ...Object.values(local.grads)]);
    throw e;
  }
  const byVar: tf.NamedTensorMap = {};
  w.names.forEach((n, i) => { const v = t.params[n]!; byVar[v.name] = tf.tensor(r.grads[i]!, v.shape); });
  const acc = accumulate(accumulate(undefined, local), {value: tf.scalar(r.value), grads: byVar});
  const p2 = tf.tensor1d(r.pred, 'int32');
  const pred = tf.concat([local.pred, p2]);
  tf.dispose([local.pred, p2]);
  return {...acc, pred};
}
