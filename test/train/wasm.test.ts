import {readFileSync} from 'fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../lib/backend';
import {AdamW} from '../../lib/optim/adamw';
import {clipByGlobalNorm} from '../../lib/optim/clip';
import {crossEntropy, sequenceCrossEntropy} from '../../lib/optim/losses';
import {expectAllClose} from '../helpers';

// the training code runs on wasm in the CLI and the chapters: same PyTorch goldens there
beforeAll(async () => {
  await initBackend('wasm'); // this file runs in its own process (vitest pool 'forks')
});
const g = JSON.parse(readFileSync('test/golden/optim.json', 'utf8'));
const gl = JSON.parse(readFileSync('test/golden/optim-losses.json', 'utf8'));

describe('training API on the wasm backend', () => {
  it('runs on wasm', () => expect(tf.getBackend()).toBe('wasm'));

  it('AdamW matches torch.optim.AdamW without leaking', async () => {
    const c = g.adamw[0];
    const p: Record<string, tf.Variable> = {};
    for (const n of Object.keys(c.shapes)) p[n] = tf.tidy(() => tf.variable(tf.tensor(c.init[n], c.shapes[n])));
    const opt = new AdamW(p, {lr: 1, weightDecay: c.weightDecay, beta1: c.beta1, beta2: c.beta2, eps: c.eps});
    const before = tf.memory().numTensors;
    for (const s of c.steps) {
      const gr: Record<string, tf.Tensor> = {};
      for (const n of Object.keys(c.shapes)) gr[n] = tf.tensor(s.grads[n], c.shapes[n]);
      opt.step(gr, s.lr);
      tf.dispose(gr);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const n of Object.keys(c.shapes)) await expectAllClose(p[n]!, c.steps[c.steps.length - 1].params[n], 2e-6);
    opt.dispose();
    tf.dispose(Object.values(p));
  });

  it('crossEntropy and sequenceCrossEntropy: values and gradients match torch', async () => {
    const c = gl.classification[1];
    const f = (y: tf.Tensor1D | tf.Tensor2D) => tf.valueAndGrad((x: tf.Tensor) => crossEntropy(x as tf.Tensor2D, y, c.labelSmoothing))(tf.tensor2d(c.logits));
    const hard = f(tf.tensor1d(c.labels, 'int32')), soft = f(tf.tensor2d(c.soft));
    await expectAllClose(hard.value, [c.loss], 1e-5);
    await expectAllClose(hard.grad, c.grad, 1e-6);
    await expectAllClose(soft.value, [c.softLoss], 1e-5);
    await expectAllClose(soft.grad, c.softGrad, 1e-6);
    const s = gl.sequence[1];
    const t = tf.tensor2d(s.targets, undefined, 'int32');
    const r = tf.valueAndGrad((x: tf.Tensor) => sequenceCrossEntropy(x as tf.Tensor3D, t, {labelSmoothing: s.labelSmoothing, padId: s.padId}))(tf.tensor3d(s.logits));
    await expectAllClose(r.value, [s.loss], 1e-5);
    await expectAllClose(r.grad, s.grad, 1e-6);
  });

  it('clipByGlobalNorm matches torch', async () => {
    const c = g.clip[0];
    const gr: Record<string, tf.Tensor> = {};
    for (const n of Object.keys(c.grads)) gr[n] = tf.tensor(c.grads[n], c.shapes[n]);
    const r = clipByGlobalNorm(gr, c.maxNorm);
    expect(Math.abs(r.norm - c.norm)).toBeLessThan(1e-5);
    for (const n of Object.keys(c.grads)) await expectAllClose(r.grads[n]!, c.clipped[n], 1e-6);
  });
});
