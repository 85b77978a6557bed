import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {AdamW} from '../../../lib/optim/adamw';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

/** torch.optim.AdamW on one scalar, in plain numbers. */
function reference(p: number, grads: number[], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number {
  let m = 0, v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= (lr / (1 - b1 ** t)) * m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps);
  });
  return p;
}

describe('AdamW.step (hidden)', () => {
  it('three steps with changing gradients match torch.optim.AdamW', async () => {
    const w = tf.variable(tf.tensor2d([[0.5]]));
    const opt = new AdamW({w}, {lr: 0.01, weightDecay: 0.1});
    const gs = [0.2, -0.1, 0.4];
    for (const g of gs) opt.step({w: tf.tensor2d([[g]])});
    await expectAllClose(w, [reference(0.5, gs, 0.01, 0.1)], 1e-6);
  });
  it('a learning rate passed to step() overrides the configured one', async () => {
    const w = tf.variable(tf.tensor2d([[1]]));
    const opt = new AdamW({w}, {lr: 100, weightDecay: 0});
    opt.step({w: tf.tensor2d([[1]])}, 0.25);
    await expectAllClose(w, [0.75], 1e-5);
  });
  it('counts steps and keeps the moments between them', async () => {
    const w = tf.variable(tf.tensor2d([[0]]));
    const opt = new AdamW({w}, {lr: 0.1, weightDecay: 0, eps: 0});
    opt.step({w: tf.tensor2d([[1]])});
    opt.step({w: tf.tensor2d([[0]])});
    expect(opt.stepCount).toBe(2);
    // step 2: m = 0.09, v = 0.000999; m̂ = 0.09/0.19, v̂ = 0.000999/0.001999
    const m2 = 0.09 / 0.19, v2 = 0.000999 / (1 - 0.999 ** 2);
    await expectAllClose(w, [-0.1 - 0.1 * m2 / Math.sqrt(v2)], 1e-5);
  });
});
