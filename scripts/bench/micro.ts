/**
 * Micro-benchmarks of the ViT's hot spots, forward and forward + backward, for every formulation
 * lib could use (the one lib uses is marked). Own process; prints `RESULT {json}`.
 *   tsx scripts/bench/micro.ts [--backend wasm] [--batch 64] [--reps 5] [--threads N]
 * Shapes are ViT-base's (dModel 192, 3 heads, dFF 384, 65 tokens) at the given batch.
 */
import * as tf from '@tensorflow/tfjs';
import {describeBackend, initBackend, BackendName} from '../../lib/backend';
import {gelu, geluTanh} from '../../lib/core/activations';
import {bmm, bmmPath, setBmmImpl} from '../../lib/core/bmm';
import {layerNorm} from '../../lib/core/layernorm';
import {dense} from '../../lib/core/linear';
import {enableWasmThreads} from '../../lib/core/wasm-threads';
import {splitHeads} from '../../lib/transformer/attention';
import {patchify} from '../../lib/vit/patches';
import {parseCli} from '../cli-args';
import {median, round} from './common';

type F = (...xs: tf.Tensor[]) => tf.Tensor;
interface Formulation { op: string; name: string; lib?: boolean; f: F; inputs: () => tf.Tensor[]; bmm?: 'auto' | 'stock' }

const rn = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

function formulations(B: number): Formulation[] {
  const T = 65, D = 192, H = 3, dh = 64, Fd = 384, N = B * T, BH = B * H;
  const tr3 = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
  const linIn = () => [rn([N, D], 1), rn([D, 3 * D], 2), rn([3 * D], 3)];
  const qkvIn = () => [rn([B, T, D], 4), rn([D, 3 * D], 5), rn([3 * D], 6)];
  const qk = () => [rn([BH, T, dh], 7), rn([BH, T, dh], 8)];
  const pv = () => [tf.softmax(rn([BH, T, T], 9)), rn([BH, T, dh], 10)];
  const lnIn = () => [rn([N, D], 11), rn([D], 12), rn([D], 13)];
  const geluIn = () => [rn([N, Fd], 14)];
  const img = () => [tf.randomUniform([B, 32, 32, 3], 0, 1, 'float32', 15)];
  return [
    {op: 'linear [N,192]x[192,576]', name: 'dense(): matMul + add, autograd, on the wasm kernels (wasm-kernels.ts)', lib: true, bmm: 'auto', f: (x, w, b) => dense(x, w!, b!), inputs: linIn},
    {op: 'linear [N,192]x[192,576]', name: 'matMul + add, autograd, on the stock wasm kernels (transpose flags)', bmm: 'stock', f: (x, w, b) => dense(x, w!, b!), inputs: linIn},
    {op: 'linear [N,192]x[192,576]', name: 'tf.fused.matMul with bias, tfjs autograd', f: (x, w, b) => tf.fused.matMul({a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b}), inputs: linIn},
    {op: 'QKV projection + head split', name: '3 dense() on column blocks of W_qkv + rank-4 transposes', lib: true, inputs: qkvIn, f: (x, w, b) => {
      const p = (i: number) => splitHeads(dense(x, tf.slice(w!, [0, i * D], [D, D]), tf.slice(b!, [i * D], [D])), H);
      return tf.concat([p(0), p(1), p(2)], 0);
    }},
    {op: 'QKV projection + head split', name: 'one fused dense() + rank-5 transpose + unstack', inputs: qkvIn, f: (x, w, b) => {
      const qkv = tf.transpose(tf.reshape(dense(x, w!, b!), [B, T, 3, H, dh]), [2, 0, 3, 1, 4]);   // [3, B, H, T, dh]
      return tf.reshape(qkv, [3 * BH, T, dh]);
    }},
    {op: 'QKV projection + head split', name: 'one fused dense() + tf.split + rank-4 transposes', inputs: qkvIn, f: (x, w, b) => {
      const parts = tf.split(dense(x, w!, b!), 3, 2);
      return tf.concat(parts.map((t) => splitHeads(t, H)), 0);
    }},
    {op: 'scores Q·Kᵀ [BH,65,64]', name: 'bmm(q, transpose(k)) on the wasm kernels (per-item XNNPACK on heap views)', lib: true, bmm: 'auto', inputs: qk, f: (q, k) => bmm(q, tr3(k!))},
    {op: 'scores Q·Kᵀ [BH,65,64]', name: 'bmm(q, transpose(k)) on the stock wasm kernels', bmm: 'stock', inputs: qk, f: (q, k) => bmm(q, tr3(k!))},
    {op: 'scores Q·Kᵀ [BH,65,64]', name: 'tf.matMul(q, k, false, true) on the wasm kernels', bmm: 'auto', inputs: qk, f: (q, k) => tf.matMul(q, k!, false, true)},
    {op: 'softmax [BH,65,65]', name: 'tf.softmax (fused kernel + its gradient)', lib: true, inputs: () => [rn([BH, T, T], 16)], f: (x) => tf.softmax(x)},
    {op: 'softmax [BH,65,65]', name: 'composed exp(x - max) / sum, autograd', inputs: () => [rn([BH, T, T], 16)], f: (x) => {
      const e = tf.exp(tf.sub(x, tf.max(x, -1, true)));
      return tf.div(e, tf.sum(e, -1, true));
    }},
    {op: 'weighted sum P·V', name: 'bmm() on the wasm kernels', lib: true, bmm: 'auto', inputs: pv, f: (p, v) => bmm(p, v!)},
    {op: 'weighted sum P·V', name: 'bmm() on the stock wasm kernels', bmm: 'stock', inputs: pv, f: (p, v) => bmm(p, v!)},
    {op: 'LayerNorm [N,192]', name: 'layerNorm(): custom analytic gradient', lib: true, inputs: lnIn, f: (x, g, b) => layerNorm(x, g!, b!)},
    {op: 'LayerNorm [N,192]', name: 'tf.moments composition, autograd', inputs: lnIn, f: (x, g, b) => {
      const {mean, variance} = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), g!), b!);
    }},
    {op: 'GELU [N,384]', name: 'gelu(): exact erf, custom gradient', lib: true, inputs: geluIn, f: (x) => gelu(x)},
    {op: 'GELU [N,384]', name: 'exact erf composed, autograd', inputs: geluIn, f: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))},
    {op: 'GELU [N,384]', name: 'geluTanh(): tanh approximation, custom gradient (option)', inputs: geluIn, f: (x) => geluTanh(x)},
    {op: 'GELU [N,384]', name: 'x·sigmoid(1.702x) approximation, autograd', inputs: geluIn, f: (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)))},
    {op: 'column sum [N,384] (bias / LN-affine gradient)', name: 'tf.sum(x, 0) on the wasm kernels: ones[1,N]·x GEMM', lib: true, bmm: 'auto', inputs: geluIn, f: (x) => tf.sum(x, 0)},
    {op: 'column sum [N,384] (bias / LN-affine gradient)', name: 'tf.sum(x, 0) on the stock wasm kernel', bmm: 'stock', inputs: geluIn, f: (x) => tf.sum(x, 0)},
    {op: 'patchify [B,32,32,3] p=4', name: 'patchify(): rank-4 transpose', lib: true, inputs: img, f: (x) => patchify(x, 4)},
    {op: 'patchify [B,32,32,3] p=4', name: 'rank-6 transpose', inputs: img, f: (x) => {
      const y = tf.transpose(tf.reshape(x, [B, 8, 4, 8, 4, 3]), [0, 1, 3, 2, 4, 5]);
      return tf.reshape(y, [B, 64, 48]);
    }},
  ];
}

async function timeOne(fm: Formulation, reps: number): Promise<{fwd: number; fwdBwd: number}> {
  setBmmImpl(fm.bmm ?? 'auto');
  const xs = fm.inputs();
  const r = tf.tidy(() => tf.randomNormal(tf.tidy(() => fm.f(...xs)).shape, 0, 1, 'float32', 99));
  const fwd: number[] = [], both: number[] = [];
  const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(fm.f(...a), r)));
  for (let i = 0; i < reps + 1; i++) {
    let t0 = performance.now();
    const y = tf.tidy(() => fm.f(...xs));
    await y.data();
    const t1 = performance.now() - t0;
    y.dispose();
    t0 = performance.now();
    const gs = g(xs);
    await Promise.all(gs.map((t) => t.data()));
    const t2 = performance.now() - t0;
    tf.dispose(gs);
    if (i > 0) { fwd.push(t1); both.push(t2); } // first round = warm-up
  }
  tf.dispose([...xs, r]);
  setBmmImpl('auto');
  return {fwd: median(fwd), fwdBwd: median(both)};
}

/** Max |approx − exact| of the GELU approximations over [-8, 8] (float32 evaluation). */
async function geluErrors(): Promise<Record<string, number>> {
  const x = tf.linspace(-8, 8, 160001);
  const exact = gelu(x);
  const err = async (y: tf.Tensor) => (await tf.max(tf.abs(tf.sub(y, exact))).data())[0]!;
  const out = {tanh: await err(geluTanh(x)), sigmoid: await err(tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))))};
  tf.dispose([x, exact]);
  return out;
}

async function main() {
  const parsed = parseCli({command: 'tsx scripts/bench/micro.ts', summary: 'Micro-benchmarks of each hot spot per formulation (a child process of npm run bench).', options: {
    backend: {kind: 'string', arg: 'wasm|cpu', help: 'tfjs backend (default wasm)'}, batch: {kind: 'positive', help: 'batch size (default 64)'},
    reps: {kind: 'positive', help: 'repetitions (default 5)'}, threads: {kind: 'positive', help: 'wasm threads (default 1)'},
    only: {kind: 'string', arg: 'OPSUBSTRING', help: 'only ops whose name contains this'},
  }});
  if (!parsed) return;
  const args = parsed.values;
  const threads = (args.threads as number | undefined) ?? 1;
  if (threads > 1) enableWasmThreads(threads);
  const info = await initBackend(((args.backend as string) ?? 'wasm') as BackendName);
  const B = (args.batch as number | undefined) ?? 64, reps = (args.reps as number | undefined) ?? 5;
  const rows = [];
  for (const fm of formulations(B)) {
    if (args.only && !fm.op.includes(args.only as string)) continue;
    const t = await timeOne(fm, reps);
    rows.push({op: fm.op, formulation: fm.name, lib: fm.lib ?? false, bmm_path: fm.bmm ? (setBmmImpl(fm.bmm), bmmPath()) : undefined, fwd_ms: round(t.fwd), fwd_bwd_ms: round(t.fwdBwd)});
    setBmmImpl('auto');
    process.stderr.write(`  ${fm.op} | ${fm.name}: ${round(t.fwd)} / ${round(t.fwdBwd)} ms\n`);
  }
  console.log('RESULT ' + JSON.stringify({backend: info.backend, threads: info.threads ?? 1, describe: describeBackend(info), batch: B, tokens: 65, reps, rows, gelu_max_abs_error: await geluErrors()}));
  process.exit(0);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
