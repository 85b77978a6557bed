/**
 * The child process of data-parallel training (lib/train/data-parallel.ts): it holds a copy of the
 * ViT, receives the current weights and a slice of the batch, and returns the slice's weighted
 * loss, its gradients and its predicted classes; or a batch-aligned part of an evaluation set, and
 * returns its per-batch results (evalBatches). It runs the same slice code as the trainer's
 * gradient accumulation (`sliceLossAndGrads`), so two processes give the numbers of one process
 * with `microBatch` = half the batch. Not a public entry point: started by GradWorker.
 */
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../backend';
import {Params} from '../core/params';
import {initViT, ViTConfig} from '../vit/model';
import {TrainRecipe} from './recipes';
import {EvalBatches, evalBatches, sliceLossAndGrads} from './vit-trainer';

export type ToWorker =
  | {type: 'init'; model: ViTConfig; names: string[]}
  | {type: 'grad'; weights: Float32Array[]; x: Float32Array; xShape: number[]; targets: Float32Array;
      tShape: number[]; seed: number | undefined; weight: number}
  | {type: 'eval'; weights: Float32Array[]; recipe: TrainRecipe; images: Uint8Array; labels: Uint8Array; count: number; batchSize: number};
export type FromWorker =
  | {type: 'ready'; backend: string}
  | {type: 'grad'; value: number; grads: Float32Array[]; pred: Int32Array}
  | {type: 'eval'; result: EvalBatches}
  | {type: 'error'; message: string};

let model: ViTConfig | undefined;
let names: string[] = [];
let params: Params | undefined;

/**
 * Sends a result to the trainer. If the trainer has gone (Ctrl-C reaches both processes; the
 * worker may finish a step after its parent exited), the worker exits quietly: without the
 * callback, the failed send's EPIPE would be thrown as an 'error' event with a stack trace.
 */
function reply(m: FromWorker): void {
  if (!process.connected) process.exit(0);
  process.send!(m, undefined, undefined, (err) => { if (err) process.exit(0); });
}

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'init') {
    await initBackend();
    model = m.model; names = m.names;
    params = initViT(model, 0);
    const missing = names.filter((n) => !(n in params!));
    if (missing.length > 0 || Object.keys(params).length !== names.length) {
      throw new Error(`the worker's model has other parameters than the trainer's (${missing.slice(0, 3).join(', ') || 'count differs'})`);
    }
    reply({type: 'ready', backend: tf.getBackend()});
    return;
  }
  if (!params || !model) throw new Error(`${m.type} before init`);
  names.forEach((n, i) => {
    const v = params![n]!, w = m.weights[i]!;
    if (w.length !== v.size) throw new Error(`weights of ${n}: ${w.length} values for shape [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
  });
  if (m.type === 'eval') {
    const result = await evalBatches(params, m.recipe, {images: m.images, labels: m.labels, count: m.count}, m.batchSize);
    reply({type: 'eval', result});
    return;
  }
  const x = tf.tensor4d(m.x, m.xShape as [number, number, number, number]);
  const targets = tf.tensor2d(m.targets, m.tShape as [number, number]);
  const vars = names.map((n) => params![n]!);
  const r = sliceLossAndGrads(params, model, undefined, x, targets, m.seed, m.weight, vars);
  const grads = vars.map((v) => r.grads[v.name]!.dataSync() as Float32Array);
  const value = r.value.dataSync()[0]!;
  const pred = r.pred.dataSync() as Int32Array;
  tf.dispose([x, targets, r.value, r.pred, ...Object.values(r.grads)]);
  reply({type: 'grad', value, grads, pred});
}

process.on('message', (m: ToWorker) => {
  handle(m).catch((e) => reply({type: 'error', message: (e as Error).message}));
});
// the trainer went away (exit, crash, Ctrl-C): so does the worker
process.on('disconnect', () => process.exit(0));
