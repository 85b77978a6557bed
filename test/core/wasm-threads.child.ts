// Child process for wasm-threads.test.ts: threaded wasm, then a GEMM and a batched matMul (lib/core/wasm-kernels.ts) checked against plain JS.
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../../lib/backend';
import {bmm, bmmPath} from '../../lib/core/bmm';
import {enableWasmThreads} from '../../lib/core/wasm-threads';

function jsMatMul(a: Float32Array, b: Float32Array, M: number, K: number, N: number, aOff = 0, bOff = 0): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) c[i * N + j]! += a[aOff + i * K + k]! * b[bOff + k * N + j]!;
  return c;
}

(async () => {
  enableWasmThreads(2);
  const info = await initBackend('wasm');
  const a = tf.randomNormal([200, 96], 0, 1, 'float32', 1), b = tf.randomNormal([96, 150], 0, 1, 'float32', 2);
  const c = await tf.matMul(a, b).data();
  const ref = jsMatMul(await a.data() as Float32Array, await b.data() as Float32Array, 200, 96, 150);
  let err = 0;
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(c[i]! - ref[i]!));
  const q = tf.randomNormal([4, 9, 8], 0, 1, 'float32', 3), k = tf.randomNormal([4, 8, 7], 0, 1, 'float32', 4);
  const s = await bmm(q, k).data(), qd = await q.data() as Float32Array, kd = await k.data() as Float32Array;
  for (let n = 0; n < 4; n++) {
    const r = jsMatMul(qd, kd, 9, 8, 7, n * 72, n * 56);
    for (let i = 0; i < 63; i++) err = Math.max(err, Math.abs(s[n * 63 + i]! - r[i]!));
  }
  console.log('RESULT ' + JSON.stringify({threads: info.threads, bmm: bmmPath(), maxAbsErr: err}));
  process.exit(0); // the pthread workers keep Node alive otherwise
})().catch((e) => { console.error(e); process.exit(1); });
