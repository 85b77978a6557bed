/**
 * Where a full training step (forward, backward, AdamW) of a bench config goes, per wasm kernel:
 * every registered wasm kernel is wrapped with a timer; the rest of the step is tfjs bookkeeping
 * and JS.   node --import tsx scripts/bench/kernel-times.ts [--config recipe] [--native 0|N]
 */
import * as tf from '@tensorflow/tfjs';
import {initBackend, describeBackend} from '../../lib/backend';
import {FusedAdamW} from '../../lib/optim/fused-adamw';
import {crossEntropy} from '../../lib/optim/losses';
import {initViT, vitForward} from '../../lib/vit/model';
import {parseCli} from '../cli-args';
import {BENCH_CONFIGS} from './common';

async function main() {
  const parsed = parseCli({command: 'node --import tsx scripts/bench/kernel-times.ts', summary: 'Per-kernel times of one full training step.', options: {
    config: {kind: 'string', arg: 'NAME', help: 'bench config (default recipe)'}, native: {kind: 'count', help: '0 = pure wasm, else OpenBLAS threads'},
    reps: {kind: 'positive', help: 'measured steps (default 3)'},
  }});
  if (!parsed) return;
  const args = parsed.values;
  const bc = BENCH_CONFIGS[(args.config as string) ?? 'recipe']!;
  if (args.native !== undefined) {
    if (args.native === 0) process.env.COURSE_NATIVE = '0';
    else process.env.COURSE_THREADS = String(args.native);
  }
  const info = await initBackend('wasm');
  const stats = new Map<string, {ms: number; n: number}>();
  let inKernel = 0;
  for (const k of tf.getKernelsForBackend('wasm')) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({...k, kernelFunc: ((a: any) => {
      if (inKernel > 0) return k.kernelFunc(a); // nested (a kernel calling the stock one): counted by the outer
      inKernel++;
      const t0 = performance.now();
      try { return k.kernelFunc(a); } finally {
        inKernel--;
        const key = process.env.BY_SHAPE ? `${k.kernelName} ${Object.values(a.inputs as Record<string, tf.TensorInfo>).map((t) => `[${t.shape}]`).join(' ')}` : k.kernelName;
        const e = stats.get(key) ?? {ms: 0, n: 0};
        e.ms += performance.now() - t0; e.n++; stats.set(key, e);
      }
    }) as tf.KernelFunc});
  }
  const B = bc.batch, cfg = bc.model;
  const params = initViT(cfg, 0), names = Object.keys(params), vars = names.map((n) => params[n]!);
  const opt = new FusedAdamW(params, {lr: 1e-3, weightDecay: 0.05, decay: () => true});
  const x = tf.randomUniform([B, 32, 32, 3], 0, 1, 'float32', 1), y = tf.tensor1d(Array.from({length: B}, (_, i) => i % 10), 'int32');
  const phase = {fwdbwd: 0, opt: 0};
  const step = async () => {
    const t0 = performance.now();
    const {value, grads} = tf.variableGrads(() => crossEntropy(vitForward(params, cfg, x, {training: true}).logits, y), vars);
    const t1 = performance.now();
    const g: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => { g[n] = grads[vars[i]!.name]!; });
    opt.step(g);
    await value.data();
    phase.fwdbwd += t1 - t0; phase.opt += performance.now() - t1;
    tf.dispose([value, ...Object.values(grads)]);
  };
  await step(); await step();
  stats.clear(); phase.fwdbwd = 0; phase.opt = 0;
  const reps = (args.reps as number | undefined) ?? 3;
  const t0 = performance.now(), c0 = process.cpuUsage();
  const walls: number[] = [];
  for (let i = 0; i < reps; i++) { const s0 = performance.now(); await step(); walls.push(performance.now() - s0); }
  const wall = (performance.now() - t0) / reps;
  const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1000 / reps;
  const total = [...stats.values()].reduce((a, b) => a + b.ms, 0) / reps;
  const calls = [...stats.values()].reduce((a, b) => a + b.n, 0) / reps;
  console.log(`${describeBackend(info)}; ${bc.name} batch ${B}; load ${require('node:os').loadavg().map((l: number) => l.toFixed(2)).join(' ')}`);
  console.log(`STEP ${JSON.stringify({wall: Math.round(wall), min: Math.round(Math.min(...walls)), cpu: Math.round(cpu)})}`);
  console.log(`step ${wall.toFixed(0)} ms (fwd+bwd ${(phase.fwdbwd / reps).toFixed(0)}, optimiser ${(phase.opt / reps).toFixed(0)}); kernels ${total.toFixed(0)} ms in ${calls} calls; outside kernels ${(wall - total).toFixed(0)} ms`);
  for (const [name, e] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 25))) {
    console.log(`${name.padEnd(22)} ${(e.ms / reps).toFixed(1).padStart(7)} ms ${(100 * e.ms / reps / wall).toFixed(1).padStart(5)} %  ${String(e.n / reps).padStart(5)} calls`);
  }
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
