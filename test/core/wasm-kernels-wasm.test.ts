/**
 * The pure wasm path's kernels (lib/core/wasm-kernels.ts: BatchMatMul with transpose flags and
 * batches on per-item XNNPACK GEMMs, Sum over leading axes as one GEMM) against the stock wasm
 * kernels: values and gradients within 1e-5 relative, every matMul form, no leaked buffers, and
 * proof that the fast path ran. Native kernels are switched off here (they sit on top of these).
 */
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../lib/backend';
import {bmmPath, setBmmImpl} from '../../lib/core/bmm';
import {disableNativeKernels, enableNativeKernels} from '../../lib/core/native-kernels';
import {wasmKernelCalls, wasmKernelsAvailable, wasmKernelsInstalled} from '../../lib/core/wasm-kernels';
import {relErr} from './reference-vit';

let nativeWasOn = false;
beforeAll(async () => {
  await initBackend('wasm');
  nativeWasOn = enableNativeKernels().active;
  disableNativeKernels();
});
afterAll(() => { if (nativeWasOn) enableNativeKernels(); });

const rn = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const be = () => tf.backend() as unknown as {numDataIds(): number};

/**
 * Value and (unless forwardOnly) gradients of sum(f(xs)·r) on the course's wasm kernels and on the
 * stock ones; views = kernel calls the course's per-item GEMMs served.
 */
async function both(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], forwardOnly = false): Promise<{errs: number[]; views: number}> {
  const r = tf.tidy(() => rn(f(...xs).shape, 99));
  const run = () => tf.tidy(() => [f(...xs), ...(forwardOnly ? [] : tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs))]);
  setBmmImpl('stock');
  const ref = run();
  setBmmImpl('auto');
  const calls = wasmKernelCalls(), ids = be().numDataIds(), before = tf.memory().numTensors;
  const got = run();
  const views = wasmKernelCalls() - calls;
  expect(tf.memory().numTensors - before).toBe(got.length);
  expect(be().numDataIds() - ids, 'buffers left behind').toBe(got.length);
  const errs = [];
  for (let i = 0; i < ref.length; i++) { expect(got[i]!.shape).toEqual(ref[i]!.shape); errs.push(await relErr(got[i]!, ref[i]!)); }
  tf.dispose([...ref, ...got, r]);
  return {errs, views};
}

describe('pure wasm kernels (wasm-kernels.ts) = the stock wasm kernels', () => {
  it('are installed by initBackend on wasm of the pinned tfjs, and serve bmm on the pure wasm path', () => {
    expect(wasmKernelsAvailable()).toBe(true);
    expect(wasmKernelsInstalled()).toBe(true);
    expect(bmmPath()).toBe('fast');
    setBmmImpl('stock');
    expect(bmmPath()).toBe('stock');
    setBmmImpl('auto');
  });
  // tfjs's own matMul gradient does not reduce a broadcast batch (it fails on any kernel): forward only there
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['rank 2', [37, 19], [19, 23], false, false],
    ['rank 2, transposeA', [19, 37], [19, 23], true, false],
    ['rank 2, transposeB', [37, 19], [23, 19], false, true],
    ['rank 2, both', [19, 37], [23, 19], true, true],
    ['batched', [6, 9, 8], [6, 8, 5], false, false],
    ['batched, transposeB', [6, 9, 8], [6, 5, 8], false, true],
    ['batched, transposeA', [6, 8, 9], [6, 8, 5], true, false],
    ['rank 4', [2, 3, 9, 8], [2, 3, 8, 5], false, false],
    ['broadcast b [8,5]', [6, 9, 8], [8, 5], false, false],
    ['broadcast a [1,9,8]', [1, 9, 8], [6, 8, 5], false, false],
    ['attention-like [12,65,16]·[12,16,65]', [12, 65, 16], [12, 16, 65], false, false],
  ];
  for (const [name, sa, sb, ta, tb] of cases) {
    it(`matMul ${name}: value and both gradients within 1e-5, the per-item GEMMs used`, async () => {
      const a = rn(sa, 1), b = rn(sb, 2);
      const {errs, views} = await both((x, y) => tf.matMul(x, y!, ta, tb), [a, b], name.startsWith('broadcast'));
      for (const e of errs) expect(e).toBeLessThan(1e-5);
      expect(views).toBeGreaterThan(0); // flags or batches (at least in the gradients): the course's kernel ran
      tf.dispose([a, b]);
    });
  }
  it('Sum over leading axes (keepDims, negative axes) = the stock Sum; other axes, all axes and int32 stay stock', async () => {
    const x = rn([37, 5, 24], 3);
    for (const f of [(t: tf.Tensor) => tf.sum(t, 0), (t: tf.Tensor) => tf.sum(t, [1, 0], true), (t: tf.Tensor) => tf.sum(t, [-3, -2])]) {
      const {errs, views} = await both(f, [x]);
      for (const e of errs) expect(e).toBeLessThan(1e-5);
      expect(views).toBeGreaterThan(0);
    }
    for (const f of [(t: tf.Tensor) => tf.sum(t, -1), (t: tf.Tensor) => tf.sum(t)]) {
      const {errs, views} = await both(f, [x]);
      for (const e of errs) expect(e).toBeLessThan(1e-5);
      expect(views).toBe(0);
    }
    const ints = tf.cast(tf.mul(x, 10), 'int32'), s = tf.sum(ints, 0);
    expect(s.dtype).toBe('int32');
    setBmmImpl('stock');
    expect(Array.from(await s.data())).toEqual(Array.from(await tf.sum(ints, 0).data()));
    setBmmImpl('auto');
    tf.dispose([x, ints, s]);
  });
  it('bad shapes still give tfjs\'s error; empty products work', async () => {
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]), true, false)).toThrow(/inner shapes/);
    const z = tf.matMul(tf.ones([3, 0, 4]), tf.ones([3, 4, 2]));
    expect(z.shape).toEqual([3, 0, 2]);
    z.dispose();
  });
});
