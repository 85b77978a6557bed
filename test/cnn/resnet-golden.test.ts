/**
 * lib/cnn/resnet.ts with BatchNorm against PyTorch (test/golden/cnn.json, scripts/golden/cnn.py):
 * training-mode logits, loss and the gradient of every parameter; the evaluation moments of
 * estimateBnMoments ("precise BN") and the evaluation-mode logits they give.
 */
import * as tf from '@tensorflow/tfjs';
import {readFileSync} from 'node:fs';
import {beforeAll, describe, expect, it} from 'vitest';
import {cnnConfig, cnnForward, disposeMoments, estimateBnMoments} from '../../lib/cnn/resnet';
import {disposeParams, Params} from '../../lib/core/params';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);
const golden = JSON.parse(readFileSync('test/golden/cnn.json', 'utf8'));

describe('ResNet with BatchNorm = PyTorch (nn.Conv2d + nn.BatchNorm2d)', () => {
  const cfg = cnnConfig(golden.config);
  const load = (): Params => Object.fromEntries(Object.entries(golden.params as Record<string, {shape: number[]; values: number[]}>)
    .map(([n, v]) => [n, tf.variable(tf.tensor(v.values, v.shape), true, `golden-cnn/${n}`)]));

  it('training mode: logits, cross-entropy and the gradient of every parameter', async () => {
    const p = load(), x = tf.tensor4d(golden.x, golden.xShape), y = tf.oneHot(golden.labels, 3);
    const logits = cnnForward(p, cfg, x, {training: true});
    await expectAllClose(logits, golden.train.logits, 2e-5);
    const {value, grads} = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, cnnForward(p, cfg, x, {training: true})) as tf.Scalar,
      Object.values(p) as tf.Variable[]);
    expect(value.dataSync()[0]).toBeCloseTo(golden.train.loss, 5);
    expect(Object.keys(golden.train.grads).sort()).toEqual(Object.keys(p).sort());
    for (const [n, v] of Object.entries(p)) {
      const want: number[] = golden.train.grads[n], scale = Math.max(...want.map(Math.abs));
      await expectAllClose(grads[v.name]!, want, 1e-4 * Math.max(1, scale));
    }
    tf.dispose([x, y, logits, value, ...Object.values(grads)]);
    disposeParams(p);
  });

  it('evaluation mode: the moments measured on an estimation batch and the logits they give', async () => {
    const p = load(), x = tf.tensor4d(golden.x, golden.xShape), xe = tf.tensor4d(golden.estimation, golden.estimationShape);
    const moments = estimateBnMoments(p, cfg, xe, 6);
    expect(Object.keys(moments).sort()).toEqual(Object.keys(golden.moments).sort());
    for (const [n, m] of Object.entries(moments)) {
      await expectAllClose(m.mean, golden.moments[n].mean, 2e-5);
      await expectAllClose(m.variance, golden.moments[n].variance, 2e-5);
    }
    const logits = cnnForward(p, cfg, x, {moments});
    await expectAllClose(logits, golden.eval.logits, 2e-5);
    tf.dispose([x, xe, logits]);
    disposeMoments(moments);
    disposeParams(p);
  });
});
