/**
 * Where a training step's time goes with the native kernels (the default): wraps the wasm BatchMatMul kernel with a
 * timer and prints, for the chapter 4 recipe model (batch 128), the step time, the share spent in
 * matrix products and the top GEMM shapes with their GFLOP/s.
 *   node --import tsx scripts/bench/gemm-breakdown.ts
 */
import * as tf from '@tensorflow/tfjs';
import {initBackend, describeBackend} from '../../lib/backend';
import {RECIPES} from '../../lib/train/recipes';
import {initViT, vitForward} from '../../lib/vit/model';
import {crossEntropy} from '../../lib/optim/losses';
async function main() {
  console.log(describeBackend(await initBackend()));
  const k = tf.getKernel('BatchMatMul', 'wasm')!;
  const stats: Record<string, {ms: number; n: number; flop: number}> = {};
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({...k, kernelFunc: (args: any) => {
    const {a, b} = args.inputs; const {transposeA, transposeB} = args.attrs;
    const t0 = performance.now(); const r = k.kernelFunc(args); const ms = performance.now() - t0;
    const key = `${a.shape.join('x')} · ${b.shape.join('x')} ${transposeA ? 'tA' : ''}${transposeB ? 'tB' : ''}`;
    const ra = a.shape.length; const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2], K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const batch = a.shape.slice(0, -2).reduce((x: number, y: number) => x * y, 1);
    (stats[key] ??= {ms: 0, n: 0, flop: 0}); stats[key].ms += ms; stats[key].n++; stats[key].flop += 2 * batch * M * N * K;
    return r;
  }});
  const cfg = RECIPES['cifar-small']!.model;
  const params = initViT(cfg, 0);
  const vars = Object.values(params);
  const x = tf.randomUniform([128, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({length: 128}, (_, i) => i % 10), 'int32'), 10).toFloat() as tf.Tensor2D;
  const step = () => { const {value, grads} = tf.variableGrads(() => crossEntropy(vitForward(params, cfg, x, {training: true}).logits, y), vars); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); };
  step(); step();
  for (const s of Object.values(stats)) { s.ms = 0; s.n = 0; s.flop = 0; }
  const t0 = performance.now(); step(); step(); const total = (performance.now() - t0) / 2;
  let g = 0;
  const rows = Object.entries(stats).sort((p, q) => q[1].ms - p[1].ms);
  for (const [key, s] of rows) g += s.ms / 2;
  console.log(`step ${total.toFixed(0)} ms, GEMM ${g.toFixed(0)} ms (${(100 * g / total).toFixed(0)} %)`);
  for (const [key, s] of rows.slice(0, 14)) console.log(key.padEnd(40), (s.ms / 2).toFixed(1).padStart(7), 'ms', String(s.n / 2).padStart(4), (s.flop / s.ms / 1e6).toFixed(1).padStart(6), 'GFLOP/s');
  process.exit(0);
}
main();
