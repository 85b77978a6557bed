/** lib/cnn/resnet.ts: parameter count by hand, shapes, a by-hand forward of one block against tfjs ops, gradients, translation behaviour, errors. */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {cnnBlocks, cnnConfig, cnnForward, initCnn} from '../../lib/cnn/resnet';
import {countParams, disposeParams} from '../../lib/core/params';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('ResNet-style CNN baseline', () => {
  const cfg = cnnConfig({imageSize: 16, widths: [8, 16], blocksPerStage: 1, numClasses: 3});
  it('has the parameters of the formula (stem, basic blocks, projection shortcut, head)', () => {
    const p = initCnn(cfg, 0);
    const stem = 9 * 3 * 8 + 2 * 8;
    const block1 = 9 * 8 * 8 + 2 * 8 + 9 * 8 * 8 + 2 * 8;                // identity shortcut
    const block2 = 9 * 8 * 16 + 2 * 16 + 9 * 16 * 16 + 2 * 16 + 8 * 16;  // stride 2 + 1x1 projection
    expect(countParams(p)).toBe(stem + block1 + block2 + 16 * 3 + 3);
    expect(cnnBlocks(cfg).map((b) => [b.name, b.stride])).toEqual([['stages.0.0', 1], ['stages.1.0', 2]]);
    disposeParams(p);
  });
  it('equals the same network written with tf.conv2d and tf.moments (cpu), and gradients reach every parameter without leaks', () => {
    const p = initCnn(cfg, 1);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 3);
    const ref = tf.tidy(() => {
      const ln = (h: tf.Tensor, n: string) => { const m = tf.moments(h, -1, true); return tf.add(tf.mul(tf.div(tf.sub(h, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), p[`${n}.weight`]!), p[`${n}.bias`]!); };
      const conv = (h: tf.Tensor, n: string, s = 1, pad: number | 'valid' = 1) => tf.conv2d(h as tf.Tensor4D, p[n] as unknown as tf.Tensor4D, s, pad);
      let h = tf.relu(ln(conv(x, 'stem.conv.weight'), 'stem.norm'));
      const b1 = ln(conv(tf.relu(ln(conv(h, 'stages.0.0.conv1.weight'), 'stages.0.0.norm1')), 'stages.0.0.conv2.weight'), 'stages.0.0.norm2');
      h = tf.relu(tf.add(b1, h));
      const b2 = ln(conv(tf.relu(ln(conv(h, 'stages.1.0.conv1.weight', 2), 'stages.1.0.norm1')), 'stages.1.0.conv2.weight'), 'stages.1.0.norm2');
      const sc = tf.conv2d(h as tf.Tensor4D, tf.reshape(p['stages.1.0.shortcut.weight']!, [1, 1, 8, 16]) as tf.Tensor4D, 2, 'valid');
      h = tf.relu(tf.add(b2, sc));
      return tf.add(tf.matMul(tf.mean(h, [1, 2]), p['head.weight']!), p['head.bias']!);
    });
    const y = cnnForward(p, cfg, x);
    expect(y.shape).toEqual([2, 3]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0])).toBeLessThan(1e-5);
    const before = tf.memory().numTensors;
    const lbl = tf.oneHot([0, 2], 3);
    const {value, grads} = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(lbl, cnnForward(p, cfg, x)) as tf.Scalar, Object.values(p));
    for (const [n, v] of Object.entries(p)) expect(tf.tidy(() => tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]), n).toBeGreaterThan(0);
    tf.dispose([value, lbl, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, ref]);
    disposeParams(p);
  });
  it('rejects bad configs and inputs with a clear message', () => {
    expect(() => cnnConfig({widths: []})).toThrow(/widths must be a non-empty list of positive integers/);
    expect(() => cnnConfig({blocksPerStage: 0})).toThrow(/blocksPerStage must be a positive integer \(got 0\)/);
    const p = initCnn(cfg, 0);
    expect(() => cnnForward(p, cfg, tf.zeros([1, 32, 32, 3]))).toThrow(/CNN: images must be \[B, 16, 16, 3\], got \[1,32,32,3\]/);
    disposeParams(p);
  });
});
