import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {additiveScores} from '../../../lib/attention/scores';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('additiveScores', () => {
  it('computes vᵀ tanh(W1 q + W2 k) on a hand-computed example', async () => {
    // q W1 = [1, 0]; k W2 = [0, -1] and [1, -1]; tanh sums: [1, -1] and [2, -1]; v = [1, 2]
    const q = tf.tensor3d([[[1, 0]]]);
    const k = tf.tensor3d([[[0, 1], [1, 1]]]);
    const p = {W1: tf.tensor2d([[1, 0], [0, 1]]), W2: tf.tensor2d([[1, 0], [0, -1]]), v: tf.tensor1d([1, 2])};
    const t1 = Math.tanh(1), t2 = Math.tanh(2);
    await expectAllClose(additiveScores(q, k, p), [t1 - 2 * t1, t2 - 2 * t1], 1e-5);
  });
  it('returns scores of shape [B, Tq, Tk] when A differs from D', () => {
    const p = {W1: tf.ones([3, 7]) as tf.Tensor2D, W2: tf.ones([5, 7]) as tf.Tensor2D, v: tf.ones([7]) as tf.Tensor1D};
    expect(additiveScores(tf.ones([2, 4, 3]), tf.ones([2, 6, 5]), p).shape).toEqual([2, 4, 6]);
  });
});
