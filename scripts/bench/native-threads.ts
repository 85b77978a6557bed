/**
 * The native kernels on 1 vs 2 threads, kernel by kernel (recipe-model shapes, batch 128):
 * the minimum of many alternated runs (a shared machine's preemptions only add time).
 *   node --import tsx scripts/bench/native-threads.ts [--reps 15]
 */
import * as tf from '@tensorflow/tfjs';
import {initBackend, describeBackend} from '../../lib/backend';
import {gelu} from '../../lib/core/activations';
import {layerNorm} from '../../lib/core/layernorm';
import {setThreads} from '../../lib/core/native-kernels';
import {parseCli} from '../cli-args';

async function main() {
  const parsed = parseCli({command: 'node --import tsx scripts/bench/native-threads.ts', summary: 'Native kernels on 1 vs 2 threads.', options: {reps: {kind: 'positive', help: 'alternated runs per setting (default 15)'}}});
  if (!parsed) return;
  const reps = (parsed.values.reps as number | undefined) ?? 15;
  process.env.COURSE_THREADS ??= '2';
  console.log(describeBackend(await initBackend('wasm')));
  const r = (s: number[], seed: number) => tf.randomNormal(s, 0, 1, 'float32', seed);
  const x = r([8320, 128], 1), y = r([8320, 128], 2), h = r([8320, 256], 3), g = r([128], 4), b = r([128], 5);
  const q = r([512, 65, 32], 6), kt = r([512, 32, 65], 7), s = r([512, 65, 65], 8), p = r([512, 65, 65], 9), v = r([512, 65, 32], 10), w = r([128, 128], 11);
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ['GEMM [8320,128]·[128,128]', () => tf.matMul(x, w)],
    ['batched QKᵀ [512,65,32]·[512,32,65]', () => tf.matMul(q, kt)],
    ['batched PV [512,65,65]·[512,65,32]', () => tf.matMul(p, v)],
    ['softmax [512,65,65]', () => tf.softmax(s)],
    ['LayerNorm fwd [8320,128]', () => layerNorm(x, g, b)],
    ['GELU fwd [8320,256]', () => gelu(h)],
    ['transpose [128,65,4,32] → [0,2,1,3]', () => tf.transpose(tf.reshape(x, [128, 65, 4, 32]), [0, 2, 1, 3])],
    ['transpose [512,65,32] → [0,2,1] (Kᵀ)', () => tf.transpose(q, [0, 2, 1])],
    ['transpose [512,32,65] → [0,2,1] (its gradient)', () => tf.transpose(kt, [0, 2, 1])],
    ['scale q·(1/√d) [512,65,32]', () => tf.mul(q, 0.17677669529663687)],
    ['add [8320,128] + [8320,128]', () => tf.add(x, y)],
    ['bias add [8320,128] + [128]', () => tf.add(x, b)],
    ['sum over rows [8320,128]', () => tf.sum(x, 0)],
  ];
  const best: Record<string, [number, number]> = {};
  for (let i = 0; i < reps; i++) {
    for (const t of [1, 2]) {
      setThreads(t);
      for (const [name, f] of cases) {
        const t0 = performance.now();
        const out = f();
        const ms = performance.now() - t0;
        tf.dispose(out);
        const e = (best[name] ??= [Infinity, Infinity]);
        e[t - 1] = Math.min(e[t - 1]!, ms);
      }
    }
  }
  console.log(`load ${require('node:os').loadavg().map((l: number) => l.toFixed(1)).join(' ')}; min of ${reps} ms: 1 thread / 2 threads`);
  for (const [name, [a, c]] of Object.entries(best)) console.log(`${name.padEnd(40)} ${a!.toFixed(2).padStart(7)} ${c!.toFixed(2).padStart(7)}  ${(a! / c!).toFixed(2)}×`);
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
