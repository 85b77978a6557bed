import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {additiveScores} from '../../../lib/attention/scores';
import {expectAllClose, expectNoLeak, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

const arr = (n: number, f: (i: number) => number) => [...Array(n).keys()].map(f);

describe('additiveScores (hidden)', () => {
  it('matches a plain loop over every query i and key j', async () => {
    const [B, Tq, Tk, Dq, Dk, A] = [2, 3, 4, 2, 3, 5];
    const qa = arr(B * Tq * Dq, (i) => Math.sin(i + 1)), ka = arr(B * Tk * Dk, (i) => Math.cos(2 * i));
    const W1a = arr(Dq * A, (i) => 0.3 * Math.sin(3 * i)), W2a = arr(Dk * A, (i) => 0.2 * Math.cos(i)), va = arr(A, (i) => i - 2);
    const want: number[] = [];
    for (let b = 0; b < B; b++) for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) {
      let r = 0;
      for (let a = 0; a < A; a++) {
        let h = 0;
        for (let d = 0; d < Dq; d++) h += qa[(b * Tq + i) * Dq + d]! * W1a[d * A + a]!;
        for (let d = 0; d < Dk; d++) h += ka[(b * Tk + j) * Dk + d]! * W2a[d * A + a]!;
        r += va[a]! * Math.tanh(h);
      }
      want.push(r);
    }
    const got = additiveScores(tf.tensor3d(qa, [B, Tq, Dq]), tf.tensor3d(ka, [B, Tk, Dk]),
      {W1: tf.tensor2d(W1a, [Dq, A]), W2: tf.tensor2d(W2a, [Dk, A]), v: tf.tensor1d(va)});
    await expectAllClose(got, want, 1e-4);
  });
  it('saturates to ±sum(v) for huge projections', async () => {
    const p = {W1: tf.tensor2d([[100, -100]]), W2: tf.tensor2d([[0, 0]]), v: tf.tensor1d([2, 3])};
    // tanh(±100) = ±1: r = 2·1 + 3·(-1) = -1 for q = 1, and +1 for q = -1
    await expectAllClose(additiveScores(tf.tensor3d([[[1], [-1]]]), tf.tensor3d([[[7]]]), p), [-1, 1], 1e-5);
  });
  it('gradients reach W1, W2 and v', async () => {
    const q = tf.tensor3d([[[1, 0.5]]]), k = tf.tensor3d([[[0.2, -1], [1, 1]]]);
    const W1 = tf.tensor2d([[0.1, 0.2], [0.3, 0.4]]), W2 = tf.tensor2d([[0.5, -0.2], [0.1, 0.3]]), v = tf.tensor1d([1, -1]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => additiveScores(q, k, {W1: a as tf.Tensor2D, W2: b as tf.Tensor2D, v: c as tf.Tensor1D}).sum())([W1, W2, v]);
    for (const g of grads) {
      const d = await g.abs().sum().data();
      expect(d[0]).toBeGreaterThan(0);
      expect(Number.isFinite(d[0])).toBe(true);
    }
  });
  it('does not leak tensors', () => {
    const p = {W1: tf.ones([2, 3]) as tf.Tensor2D, W2: tf.ones([2, 3]) as tf.Tensor2D, v: tf.ones([3]) as tf.Tensor1D};
    const q = tf.ones([1, 2, 2]), k = tf.ones([1, 3, 2]);
    expectNoLeak(() => additiveScores(q, k, p));
    tf.dispose([q, k, p.W1, p.W2, p.v]);
  });
});
