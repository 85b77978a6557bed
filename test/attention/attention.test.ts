import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {attention} from '../../lib/attention/attention';
import {SCORE_NAMES} from '../../lib/attention/scores';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

const Q = tf.tensor3d([[[1, 0]]]);
const K = tf.tensor3d([[[1, 0], [0, 1], [1, 1]]]);
const V = tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]);

function randomParams(D: number) {
  return {W: tf.randomNormal([D, D], 0, 1, 'float32', 1) as tf.Tensor2D, W1: tf.randomNormal([D, 3], 0, 1, 'float32', 2) as tf.Tensor2D,
    W2: tf.randomNormal([D, 3], 0, 1, 'float32', 3) as tf.Tensor2D, v: tf.randomNormal([3], 0, 1, 'float32', 4) as tf.Tensor1D};
}

describe('attention: scores → weights → context', () => {
  it('dot attention on the hand example: weights (e, 1, e)/(2e + 1), context (3, 4)', async () => {
    const {weights, context} = attention(Q, K, V, {score: 'dot'});
    const e = Math.E, s = 2 * e + 1;
    await expectAllClose(weights, [e / s, 1 / s, e / s], 1e-6);
    // c = α1 (1,2) + α2 (3,4) + α3 (5,6) = ((e + 3 + 5e)/s, (2e + 4 + 6e)/s) = (3, 4)
    await expectAllClose(context, [3, 4], 1e-5);
  });
  it('weights in every row sum to 1 for every score function', async () => {
    const q = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 7), k = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 8);
    const p = randomParams(4);
    for (const score of SCORE_NAMES) {
      const {weights, context} = attention(q, k, k, {score, params: p});
      expect(weights.shape).toEqual([2, 3, 5]);
      expect(context.shape).toEqual([2, 3, 4]);
      await expectAllClose(weights.sum(-1), new Array(6).fill(1), 1e-5);
    }
  });
  it('masked keys get weight exactly 0 and the rest renormalise', async () => {
    const mask = tf.tensor2d([[1, 0, 1]]); // padding mask [B, Tk]
    const {weights, context} = attention(Q, K, V, {score: 'dot', mask});
    await expectAllClose(weights, [0.5, 0, 0.5], 1e-6); // scores 1 and 1 remain
    await expectAllClose(context, [3, 4], 1e-5);
    expect((await weights.data())[1]).toBe(0);
  });
  it('a [B, Tq, Tk] mask works per query (causal-style)', async () => {
    const q = tf.ones([1, 2, 2]), k = tf.ones([1, 2, 2]);
    const mask = tf.tensor3d([[[1, 0], [1, 1]]]);
    const {weights} = attention(q, k, k, {mask});
    await expectAllClose(weights, [1, 0, 0.5, 0.5], 1e-6);
  });
  it('a fully masked row gives zero weights and a zero context, no NaN', async () => {
    const mask = tf.tensor2d([[1, 1, 1], [0, 0, 0]]);
    const q = tf.concat([Q, Q]), k = tf.concat([K, K]), v = tf.concat([V, V]);
    const {weights, context} = attention(q, k, v, {score: 'additive', mask, params: randomParams(2)});
    const w = await weights.data(), c = await context.data();
    expect([...w, ...c].every(Number.isFinite)).toBe(true);
    await expectAllClose(weights.slice([1, 0, 0], [1, 1, 3]), [0, 0, 0]);
    await expectAllClose(context.slice([1, 0, 0], [1, 1, 2]), [0, 0]);
    await expectAllClose(weights.slice([0, 0, 0], [1, 1, 3]).sum(), 1, 1e-6);
  });
  it('gradients flow to queries, keys, values and score weights, and masked keys get none', async () => {
    const p = randomParams(2);
    const mask = tf.tensor2d([[1, 1, 0]]);
    const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, W1: tf.Tensor) =>
      attention(q, k, v, {score: 'additive', mask, params: {...p, W1: W1 as tf.Tensor2D}}).context.square().sum();
    const [gq, gk, gv, gW1] = tf.grads(f)([tf.tensor3d([[[0.3, -0.2]]]), K, V, p.W1]);
    for (const g of [gq!, gk!, gv!, gW1!]) expect((await g.abs().sum().data())[0]).toBeGreaterThan(0);
    await expectAllClose(gv!.slice([0, 2, 0], [1, 1, 2]), [0, 0]); // the masked value does not influence c
  });
});

describe('attention errors', () => {
  it('names the shapes when values do not match the keys', () => {
    expect(() => attention(Q, K, tf.zeros([1, 4, 2]))).toThrow(/values must be \[B, Tk, Dv\] matching keys \[1, 3, 2\], got \[1, 4, 2\]/);
  });
  it('names the shapes when a mask does not fit', () => {
    expect(() => attention(Q, K, V, {mask: tf.ones([1, 4])})).toThrow(/padding mask \[B, Tk\] = \[1, 3\], got \[1, 4\]/);
    expect(() => attention(Q, K, V, {mask: tf.ones([1, 2, 3])})).toThrow(/mask of shape \[1, 2, 3\] does not broadcast to the scores \[B, Tq, Tk\] = \[1, 1, 3\]/);
  });
  it('does not leak tensors (with and without a mask)', () => {
    const mask = tf.tensor2d([[1, 0, 1]]);
    expectNoLeak(() => {
      const a = attention(Q, K, V, {score: 'dot'}), b = attention(Q, K, V, {mask});
      return [a.context, a.weights, a.scores, b.context, b.weights, b.scores];
    });
    mask.dispose();
  });
});
