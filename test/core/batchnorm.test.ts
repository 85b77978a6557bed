/** lib/core/batchnorm.ts: a hand-computed example, the analytic gradient against autograd through tf.moments, evaluation mode, the moment accumulator, errors. */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {batchNorm, MomentAccumulator} from '../../lib/core/batchnorm';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('batchNorm', () => {
  it('normalises each channel over all other axes (by hand: channel 0 holds 1, 3, 5, 7 → mean 4, variance 5)', () => {
    // x [2, 1, 2, 2]: channel 0 = 1, 3, 5, 7; channel 1 = 2, 2, 2, 2 (variance 0: only eps remains)
    const x = tf.tensor4d([1, 2, 3, 2, 5, 2, 7, 2], [2, 1, 2, 2]);
    const y = batchNorm(x, tf.tensor1d([2, 1]), tf.tensor1d([0.5, -1]), undefined, 1e-5);
    const s = Math.sqrt(5 + 1e-5);
    const want = [1, 3, 5, 7].flatMap((v) => [2 * (v - 4) / s + 0.5, -1]);
    expect(Array.from(y.dataSync()).map((v) => +v.toFixed(5))).toEqual(want.map((v) => +v.toFixed(5)));
    tf.dispose([x, y]);
  });

  it('training mode: value and gradients (dx, dgamma, dbeta) equal autograd through tf.moments, without leaks', () => {
    const x = tf.randomNormal([3, 4, 5, 6], 1, 2, 'float32', 1), g = tf.randomNormal([6], 1, 0.3, 'float32', 2), b = tf.randomNormal([6], 0, 1, 'float32', 3);
    const w = tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 4);   // a loss that weights every output differently
    const ref = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
      const m = tf.moments(xx, [0, 1, 2], true);
      return tf.add(tf.mul(tf.div(tf.sub(xx, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), gg), bb);
    };
    const before = tf.memory().numTensors;
    const ours = tf.grads((xx, gg, bb) => tf.sum(tf.mul(batchNorm(xx, gg, bb), w)));
    const theirs = tf.grads((xx, gg, bb) => tf.sum(tf.mul(ref(xx, gg, bb), w)));
    const go = ours([x, g, b]), gt = theirs([x, g, b]);
    const yo = batchNorm(x, g, b), yt = tf.tidy(() => ref(x, g, b));
    expect(maxAbs(yo, yt)).toBeLessThan(1e-5);
    ['dx', 'dgamma', 'dbeta'].forEach((n, i) => expect(maxAbs(go[i]!, gt[i]!), n).toBeLessThan(2e-4));
    expect(tf.tidy(() => tf.max(tf.abs(go[0]!)).dataSync()[0]!)).toBeGreaterThan(1e-2);   // not a trivial gradient
    tf.dispose([...go, ...gt, yo, yt]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b, w]);
  });

  it('evaluation mode uses the given moments, so an image\'s output does not depend on its batch', () => {
    const x = tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 5), g = tf.tensor1d([1.5, 0.5]), b = tf.tensor1d([0, 1]);
    const moments = {mean: tf.tensor1d([0.2, -0.1]), variance: tf.tensor1d([4, 0.25])};
    const all = batchNorm(x, g, b, moments), one = batchNorm(tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]), g, b, moments);
    expect(maxAbs(tf.slice(all, [1, 0, 0, 0], [1, -1, -1, -1]), one)).toBe(0);
    const v = x.dataSync()[1]!;   // channel 1 of the first pixel: (v + 0.1) / sqrt(0.25 + eps) * 0.5 + 1
    expect(all.dataSync()[1]).toBeCloseTo((v + 0.1) / Math.sqrt(0.25 + 1e-5) * 0.5 + 1, 5);
    tf.dispose([x, g, b, moments.mean, moments.variance, all, one]);
  });

  it('MomentAccumulator: batches of different sizes give the moments of all of them together', () => {
    const x = tf.randomNormal([7, 2, 2, 3], 2, 3, 'float32', 6);
    const acc = new MomentAccumulator();
    acc.add(tf.slice(x, [0, 0, 0, 0], [2, -1, -1, -1]));
    acc.add(tf.slice(x, [2, 0, 0, 0], [5, -1, -1, -1]));
    const m = acc.moments(), want = tf.moments(x, [0, 1, 2]);
    expect(maxAbs(m.mean, want.mean)).toBeLessThan(1e-5);
    expect(maxAbs(m.variance, want.variance)).toBeLessThan(1e-4);
    expect(() => new MomentAccumulator().moments()).toThrow(/no values were added/);
    expect(() => acc.add(tf.zeros([1, 4]))).toThrow(/got 4 channels after 3/);
    tf.dispose([x, m.mean, m.variance, want.mean, want.variance]);
  });

  it('names the problem for mis-shaped parameters and a batch of one value per channel', () => {
    const x = tf.zeros([2, 2, 2, 3]);
    expect(() => batchNorm(x, tf.ones([4]), tf.zeros([3]))).toThrow(/input \[2,2,2,3\] needs gamma and beta of shape \[3\] \(got \[4\] and \[3\]\)/);
    expect(() => batchNorm(x, tf.ones([3]), tf.zeros([3]), {mean: tf.zeros([2]), variance: tf.ones([3])})).toThrow(/needs moments of shape \[3\]/);
    expect(() => batchNorm(tf.zeros([1, 1, 1, 3]), tf.ones([3]), tf.zeros([3]))).toThrow(/training mode needs more than one value per channel/);
    x.dispose();
  });
});
