import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {gelu} from '../../lib/core/activations';
import {bmm} from '../../lib/core/bmm';
import {layerNorm} from '../../lib/core/layernorm';
import {dense} from '../../lib/core/linear';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

/** Gradients of sum(f(...) * r) w.r.t. every input, r a fixed random weighting. */
function grads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], r: tf.Tensor): tf.Tensor[] {
  return tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs);
}

async function expectSameGrads(fast: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], tol = 1e-5) {
  const out = ref(...xs);
  const r = tf.randomNormal(out.shape, 0, 1, 'float32', 7);
  await expectAllClose(fast(...xs), out, tol);
  const gf = grads(fast, xs, r), gr = grads(ref, xs, r);
  for (let i = 0; i < xs.length; i++) await expectAllClose(gf[i]!, gr[i]!, tol);
}

describe('dense (custom gradient)', () => {
  it('equals x·W + b and its autograd gradients on a 3-D input', async () => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1), w = tf.randomNormal([4, 5], 0, 1, 'float32', 2), b = tf.randomNormal([5], 0, 1, 'float32', 3);
    await expectSameGrads(dense, (x, w, b) => tf.add(tf.matMul(tf.reshape(x, [6, 4]), w), b!).reshape([2, 3, 5]), [x, w, b]);
  });
  it('hand-computed: [1, 2]·[[1, 0, 1], [0, 1, 1]] + [0.5, 0, 0] = [1.5, 2, 3]', async () => {
    await expectAllClose(dense(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 0, 1], [0, 1, 1]]), tf.tensor1d([0.5, 0, 0])), [1.5, 2, 3]);
  });
  it('names both shapes when they do not fit', () => {
    expect(() => dense(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(/input \[2,3\] does not match weight \[4,5\]/);
  });
  it('does not leak tensors', () => {
    const x = tf.ones([2, 3, 4]), w = tf.ones([4, 2]), b = tf.zeros([2]);
    expectNoLeak(() => dense(x, w, b));
  });
});

describe('layerNorm (analytic gradient)', () => {
  const ref = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const {mean, variance} = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  it('matches the composed formula and its autograd gradients', async () => {
    const x = tf.randomNormal([3, 4, 6], 1, 2, 'float32', 4), g = tf.randomNormal([6], 1, 0.3, 'float32', 5), b = tf.randomNormal([6], 0, 1, 'float32', 6);
    await expectSameGrads((x, g, b) => layerNorm(x, g!, b!), ref, [x, g, b], 2e-5);
  });
  it('hand-computed: [1, 2, 3] → [-1.2247, 0, 1.2247]', async () => {
    await expectAllClose(layerNorm(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3])), [-1.2247357, 0, 1.2247357], 1e-5);
  });
});

describe('gelu (exact, custom gradient)', () => {
  it('matches x·Φ(x) at hand-computed points', async () => {
    // Φ(1) = 0.8413447, Φ(-1) = 0.1586553, Φ(2) = 0.9772499
    await expectAllClose(gelu(tf.tensor1d([0, 1, -1, 2])), [0, 0.8413447, -0.1586553, 1.9544997], 1e-5);
  });
  it('has the gradient Φ(x) + x·φ(x)', async () => {
    const x = tf.tensor1d([-2, -0.5, 0, 0.7, 3]);
    const g = await tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(x).data();
    const Phi = (v: number) => 0.5 * (1 + erf(v / Math.SQRT2));
    const expected = [-2, -0.5, 0, 0.7, 3].map(v => Phi(v) + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI));
    await expectAllClose(Array.from(g), expected, 1e-5);
  });
});

describe('bmm (explicit-transpose gradient)', () => {
  it('equals tf.matMul and its autograd gradients', async () => {
    const a = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 8), b = tf.randomNormal([3, 5, 2], 0, 1, 'float32', 9);
    await expectSameGrads(bmm, (a, b) => tf.matMul(a, b!), [a, b]);
  });
  it('names the shapes that cannot be multiplied', () => {
    expect(() => bmm(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6]))).toThrow(/cannot multiply \[2,3,4\] by \[2,5,6\]/);
  });
});

// Abramowitz-Stegun 7.1.26 is too coarse for 1e-5; use a series/continued-fraction-free high-precision erf
function erf(x: number): number {
  // Taylor series, converges fast for |x| <= 3
  let sum = 0, term = x, n = 0;
  while (Math.abs(term) > 1e-16 && n < 200) {
    sum += term / (2 * n + 1);
    n++;
    term = -term * x * x / n;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
