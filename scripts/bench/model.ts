/**
 * One model benchmark in its own process (so peak RSS and the wasm heap belong to it):
 *   tsx scripts/bench/model.ts --config recipe --backend wasm [--batch N] [--reps N] [--warmup N] [--bmm auto|stock]
 *   (or --recipe NAME: any training recipe's model and batch, e.g. fast; not part of npm run bench)
 * Prints one line `RESULT {json}`: training and inference images/s (median of reps after warm-up),
 * peak RSS, wasm heap, tensors alive before/after each training step.
 */
import * as tf from '@tensorflow/tfjs';
import {describeBackend, initBackend, BackendName} from '../../lib/backend';
import {bmmPath, setBmmImpl} from '../../lib/core/bmm';
import {countParams, Params} from '../../lib/core/params';
import {FusedAdamW} from '../../lib/optim/fused-adamw';
import {crossEntropy} from '../../lib/optim/losses';
import {initViT, vitForward} from '../../lib/vit/model';
import {RECIPES} from '../../lib/train/recipes';
import {parseCli} from '../cli-args';
import {BENCH_CONFIGS, median, peakRssMb, round, timeIt, wasmHeapMb} from './common';
import {enableWasmThreads} from '../../lib/core/wasm-threads';
import {nativeStatus, nativeThreads} from '../../lib/core/native-kernels';
import {nativeKernelsActive} from '../../lib/core/kernel-path';

const USAGE = 'tsx scripts/bench/model.ts --config recipe|small|base|tiny --backend wasm|cpu [--batch N] [--reps N] [--warmup N] [--bmm auto|stock] [--threads N] [--native 0 (pure wasm) | OPENBLAS_THREADS]';

async function main() {
  const parsed = parseCli({command: 'tsx scripts/bench/model.ts', summary: `One measured run of npm run bench (a child process). ${USAGE}`, options: {
    config: {kind: 'string', arg: 'recipe|small|base|tiny', help: 'model config (default tiny)'}, recipe: {kind: 'string', arg: 'NAME', help: 'a training recipe\'s model and batch instead (lib/train/recipes.ts), e.g. fast'}, backend: {kind: 'string', arg: 'wasm|cpu', help: 'tfjs backend (default wasm)'},
    bmm: {kind: 'string', arg: 'auto|stock', help: 'batched matmul implementation (default auto)'}, batch: {kind: 'positive', help: 'batch size (default: the config\'s)'},
    reps: {kind: 'positive', help: 'measured repetitions (default 3)'}, warmup: {kind: 'count', help: 'warm-up repetitions (default 2)'},
    threads: {kind: 'positive', help: 'wasm threads (default 1)'}, native: {kind: 'count', help: '0 = pure wasm, else OpenBLAS threads'},
  }});
  if (!parsed) return;
  const args = parsed.values;
  const rec = args.recipe === undefined ? undefined : RECIPES[args.recipe as string];
  if (args.recipe !== undefined && !rec) throw new Error(`unknown --recipe (known: ${Object.keys(RECIPES).join(', ')})`);
  const bc = rec ? {name: rec.name, model: rec.model, batch: rec.batchSize} : BENCH_CONFIGS[(args.config as string) ?? 'tiny'];
  if (!bc) throw new Error(`unknown --config (known: ${Object.keys(BENCH_CONFIGS).join(', ')})`);
  const backend = ((args.backend as string) ?? 'wasm') as BackendName;
  const threads = (args.threads as number | undefined) ?? 1;
  if (threads > 1) enableWasmThreads(threads);
  // --native 0: the pure wasm path; --native N: the native kernels with N OpenBLAS threads (must be active)
  if (args.native !== undefined) {
    if (args.native === 0 || threads > 1) process.env.COURSE_NATIVE = '0';
    else { process.env.COURSE_NATIVE = '1'; process.env.COURSE_THREADS = String(args.native); }
  }
  const info = await initBackend(backend);
  if (info.backend !== backend) throw new Error(`backend ${backend} unavailable (${describeBackend(info)})`);
  if (backend === 'wasm' && (args.native as number) > 0 && !nativeKernelsActive()) throw new Error(`--native ${args.native}: ${nativeStatus()}`);
  setBmmImpl(((args.bmm as string) ?? 'auto') as 'auto' | 'stock');
  const B = (args.batch as number | undefined) ?? bc.batch;
  const reps = (args.reps as number | undefined) ?? 3, warmup = (args.warmup as number | undefined) ?? 2;
  const cfg = bc.model;
  const params: Params = initViT(cfg, 0);
  const names = Object.keys(params), vars = names.map((n) => params[n]!);
  const opt = new FusedAdamW(params, {lr: 1e-3, weightDecay: 0.05, decay: () => true}); // decay on all, like the PyTorch reference
  const images = tf.randomUniform([B, cfg.imageSize, cfg.imageSize, cfg.channels], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(Array.from({length: B}, (_, i) => i % cfg.numClasses), 'int32');
  const tensors: [number, number][] = [];
  let loss = NaN;
  const step = async () => {
    const before = tf.memory().numTensors;
    const {value, grads} = tf.variableGrads(() => crossEntropy(vitForward(params, cfg, images, {training: true}).logits, labels), vars);
    const g: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => { g[n] = grads[vars[i]!.name]!; });
    opt.step(g);
    loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    tensors.push([before, tf.memory().numTensors]);
  };
  const trainCpu: number[] = [], inferCpu: number[] = [];
  const trainMs = await timeIt(step, warmup, reps, trainCpu);
  const infer = async () => {
    const logits = tf.tidy(() => vitForward(params, cfg, images).logits);
    await logits.data();
    logits.dispose();
  };
  const inferMs = await timeIt(infer, 1, reps, inferCpu);
  const t = median(trainMs), i = median(inferMs);
  const steady = tensors.slice(1).every(([a, b]) => a === b);
  const result = {
    framework: `tfjs-${tf.version.tfjs}`, backend: info.backend, threads: info.threads ?? 1, openblas_threads: nativeKernelsActive() ? nativeThreads() : 0, bmm: bmmPath(), config: bc.name, batch: B,
    params: countParams(params), train_ms_median: round(t), train_img_s: round(B / (t / 1000), 2), train_ms_all: trainMs.map((x) => Math.round(x)),
    train_cpu_ms_median: round(median(trainCpu)), infer_cpu_ms_median: round(median(inferCpu)),
    infer_ms_median: round(i), infer_img_s: round(B / (i / 1000), 2), peak_rss_mb: peakRssMb(), wasm_heap_mb: wasmHeapMb(),
    tensors_before_after: tensors, tensors_steady: steady, final_loss: loss, describe: describeBackend(info), kernels: backend === 'wasm' ? nativeStatus() : undefined, native: nativeKernelsActive(),
  };
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(0); // pthread workers (threads > 1) would keep Node alive
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
