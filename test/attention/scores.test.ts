import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {additiveScores, dotScores, generalScores, scaledDotScores, scores} from '../../lib/attention/scores';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

// one query q = (1, 0) against keys k1 = (1, 0), k2 = (0, 1), k3 = (1, 1)
const Q = [[[1, 0]]];
const K = [[[1, 0], [0, 1], [1, 1]]];

describe('score functions on a hand-checkable example', () => {
  it('dot: q·k = [1, 0, 1]', async () => {
    await expectAllClose(dotScores(tf.tensor3d(Q), tf.tensor3d(K)), [1, 0, 1], 1e-6);
  });
  it('scaled dot: q·k / √2 = [0.7071, 0, 0.7071]', async () => {
    await expectAllClose(scaledDotScores(tf.tensor3d(Q), tf.tensor3d(K)), [Math.SQRT1_2, 0, Math.SQRT1_2], 1e-6);
  });
  it('general: q W k with W = [[1, 2], [0, 1]] gives qW = (1, 2) and scores [1, 2, 3]', async () => {
    await expectAllClose(generalScores(tf.tensor3d(Q), tf.tensor3d(K), tf.tensor2d([[1, 2], [0, 1]])), [1, 2, 3], 1e-6);
  });
  it('additive: vᵀ tanh(q W1 + k W2) with identities and v = (1, 1)', async () => {
    const I = tf.tensor2d([[1, 0], [0, 1]]);
    const r = additiveScores(tf.tensor3d(Q), tf.tensor3d(K), {W1: I, W2: I, v: tf.tensor1d([1, 1])});
    // k1: tanh(2) + tanh(0); k2: tanh(1) + tanh(1); k3: tanh(2) + tanh(1)
    await expectAllClose(r, [Math.tanh(2), 2 * Math.tanh(1), Math.tanh(2) + Math.tanh(1)], 1e-6);
  });
  it('additive with a non-square attention width A = 3 has shape [B, Tq, Tk]', () => {
    const q = tf.randomNormal([2, 4, 5]), k = tf.randomNormal([2, 7, 6]);
    const r = additiveScores(q, k, {W1: tf.randomNormal([5, 3]), W2: tf.randomNormal([6, 3]), v: tf.randomNormal([3])});
    expect(r.shape).toEqual([2, 4, 7]);
  });
  it('batched scores treat each batch item separately', async () => {
    const q = tf.tensor3d([[[1, 0]], [[0, 2]]]), k = tf.tensor3d([[[3, 4]], [[3, 4]]]);
    await expectAllClose(dotScores(q, k), [3, 8], 1e-6);
  });
});

describe('score shape errors name the shapes', () => {
  it('dot rejects different key and query widths', () => {
    expect(() => dotScores(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6]))).toThrow(/queries \[2, 3, 4\] vs keys \[2, 5, 6\]/);
  });
  it('rejects a batch mismatch', () => {
    expect(() => scaledDotScores(tf.zeros([2, 3, 4]), tf.zeros([3, 5, 4]))).toThrow(/batch sizes differ.*\[2, 3, 4\].*\[3, 5, 4\]/);
  });
  it('rejects rank-2 queries', () => {
    expect(() => dotScores(tf.zeros([3, 4]), tf.zeros([2, 5, 4]))).toThrow(/queries must be \[B, Tq, D\], got shape \[3, 4\]/);
  });
  it('general rejects a W that does not fit', () => {
    expect(() => generalScores(tf.zeros([1, 2, 4]), tf.zeros([1, 3, 5]), tf.zeros([5, 4]))).toThrow(/W must be \[Dq, Dk\] = \[4, 5\].*got \[5, 4\]/);
  });
  it('additive rejects W1 and W2 with different widths', () => {
    expect(() => additiveScores(tf.zeros([1, 2, 4]), tf.zeros([1, 3, 4]), {W1: tf.zeros([4, 3]), W2: tf.zeros([4, 2]), v: tf.zeros([3])}))
      .toThrow(/same number of columns/);
  });
  it('the dispatcher asks for missing parameters and unknown names', () => {
    expect(() => scores('general', tf.zeros([1, 1, 2]), tf.zeros([1, 1, 2]))).toThrow(/params.W/);
    expect(() => scores('cosine' as never, tf.zeros([1, 1, 2]), tf.zeros([1, 1, 2]))).toThrow(/unknown score function "cosine"/);
  });
});

describe('scores do not leak', () => {
  it('no tensor is left behind by any score function', () => {
    const q = tf.randomNormal([2, 3, 4]), k = tf.randomNormal([2, 5, 4]), W = tf.randomNormal([4, 4]);
    const W1 = tf.randomNormal([4, 6]), W2 = tf.randomNormal([4, 6]), v = tf.randomNormal([6]) as tf.Tensor1D;
    expectNoLeak(() => [dotScores(q, k), scaledDotScores(q, k), generalScores(q, k, W), additiveScores(q, k, {W1: W1 as tf.Tensor2D, W2: W2 as tf.Tensor2D, v})]);
    tf.dispose([q, k, W, W1, W2, v]);
  });
});
