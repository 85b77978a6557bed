import {readFileSync} from 'fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {clipByGlobalNorm} from '../../lib/optim/clip';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);
const golden = JSON.parse(readFileSync('test/golden/optim.json', 'utf8')).clip;

describe('clipByGlobalNorm', () => {
  it('scales all grads by maxNorm / norm when the global norm is too large (hand values)', async () => {
    const g = {a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]])}; // global norm √(9 + 16) = 5
    const r = clipByGlobalNorm(g, 1);
    expect(r.norm).toBeCloseTo(5, 6);
    const c = 1 / (5 + 1e-6);
    await expectAllClose(r.grads.a!, [3 * c, 0], 1e-7);
    await expectAllClose(r.grads.b!, [0, 4 * c], 1e-7);
    tf.dispose([g, r.grads]);
  });
  it('leaves small grads unchanged and returns new tensors the caller can dispose separately', async () => {
    const g = {a: tf.tensor1d([0.3, 0.4])};
    const r = clipByGlobalNorm(g, 1);
    expect(r.norm).toBeCloseTo(0.5, 6);
    expect(r.grads.a).not.toBe(g.a);
    g.a.dispose();
    await expectAllClose(r.grads.a!, [0.3, 0.4], 1e-7); // float32 values, unscaled
    tf.dispose(r.grads);
  });
  for (const c of golden) {
    it(`matches torch.nn.utils.clip_grad_norm_ (maxNorm ${c.maxNorm})`, async () => {
      const g: Record<string, tf.Tensor> = {};
      for (const n of Object.keys(c.grads)) g[n] = tf.tensor(c.grads[n], c.shapes[n]);
      const r = clipByGlobalNorm(g, c.maxNorm);
      expect(Math.abs(r.norm - c.norm)).toBeLessThan(1e-5);
      for (const n of Object.keys(c.grads)) await expectAllClose(r.grads[n]!, c.clipped[n], 1e-6);
      tf.dispose([g, r.grads]);
    });
  }
  it('rejects maxNorm ≤ 0', () => {
    expect(() => clipByGlobalNorm({}, 0)).toThrow(/maxNorm must be > 0/);
  });
  it('does not leak tensors', () => {
    const g = {a: tf.ones([3, 3]), b: tf.ones([2])};
    expectNoLeak(() => clipByGlobalNorm(g, 1).grads);
    expectNoLeak(() => clipByGlobalNorm(g, 100).grads);
    tf.dispose(g);
  });
});
