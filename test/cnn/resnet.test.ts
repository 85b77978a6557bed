/** lib/cnn/resnet.ts: parameter count by hand, shapes, the forward pass against the same network written with tfjs ops (LayerNorm and BatchNorm), BatchNorm's evaluation moments, gradients, errors. */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {cnnBlocks, cnnConfig, cnnForward, disposeMoments, estimateBnMoments, initCnn} from '../../lib/cnn/resnet';
import {countParams, disposeParams, Params} from '../../lib/core/params';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('ResNet-style CNN baseline', () => {
  const cfg = cnnConfig({imageSize: 16, widths: [8, 16], blocksPerStage: 1, numClasses: 3, norm: 'layer'});
  const bnCfg = cnnConfig({...cfg, norm: 'batch'});
  /** The network of the config, written with tf.conv2d and a norm function. */
  const reference = (p: Record<string, tf.Tensor>, x: tf.Tensor, normOf: (h: tf.Tensor, n: string) => tf.Tensor) => tf.tidy(() => {
    const conv = (h: tf.Tensor, n: string, s = 1, pad: number | 'valid' = 1) => tf.conv2d(h as tf.Tensor4D, p[n] as unknown as tf.Tensor4D, s, pad);
    let h = tf.relu(normOf(conv(x, 'stem.conv.weight'), 'stem.norm'));
    const b1 = normOf(conv(tf.relu(normOf(conv(h, 'stages.0.0.conv1.weight'), 'stages.0.0.norm1')), 'stages.0.0.conv2.weight'), 'stages.0.0.norm2');
    h = tf.relu(tf.add(b1, h));
    const b2 = normOf(conv(tf.relu(normOf(conv(h, 'stages.1.0.conv1.weight', 2), 'stages.1.0.norm1')), 'stages.1.0.conv2.weight'), 'stages.1.0.norm2');
    const sc = tf.conv2d(h as tf.Tensor4D, tf.reshape(p['stages.1.0.shortcut.weight']!, [1, 1, 8, 16]) as tf.Tensor4D, 2, 'valid');
    h = tf.relu(tf.add(b2, sc));
    return tf.add(tf.matMul(tf.mean(h, [1, 2]), p['head.weight']!), p['head.bias']!);
  });
  /** The norm with tf.moments over `axes` (-1: LayerNorm over channels; [0, 1, 2]: BatchNorm). */
  const momentsNorm = (p: Record<string, tf.Tensor>, axes: number | number[]) => (h: tf.Tensor, n: string) => {
    const m = tf.moments(h, axes, true);
    return tf.add(tf.mul(tf.div(tf.sub(h, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), p[`${n}.weight`]!), p[`${n}.bias`]!);
  };
  /** Cross-entropy gradients reach every parameter, and computing them leaks no tensor. */
  const expectGradsEverywhere = (p: Params, classes: number[], forward: () => tf.Tensor) => {
    const before = tf.memory().numTensors;
    const lbl = tf.oneHot(classes, 3);
    const {value, grads} = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(lbl, forward()) as tf.Scalar, Object.values(p));
    for (const [n, v] of Object.entries(p)) expect(tf.tidy(() => tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]), n).toBeGreaterThan(0);
    tf.dispose([value, lbl, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  };
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
    const ref = reference(p, x, momentsNorm(p, -1));
    const y = cnnForward(p, cfg, x);
    expect(y.shape).toEqual([2, 3]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0])).toBeLessThan(1e-5);
    expectGradsEverywhere(p, [0, 2], () => cnnForward(p, cfg, x));
    tf.dispose([x, y, ref]);
    disposeParams(p);
  });
  it('BatchNorm: training mode equals the network with tf.moments over batch and pixels; gradients reach every parameter', () => {
    const p = initCnn(bnCfg, 2);
    const x = tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 4);
    const ref = reference(p, x, momentsNorm(p, [0, 1, 2]));
    const y = cnnForward(p, bnCfg, x, {training: true});
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0])).toBeLessThan(1e-4);
    expectGradsEverywhere(p, [0, 2, 1], () => cnnForward(p, bnCfg, x, {training: true}));
    tf.dispose([x, y, ref]);
    disposeParams(p);
  });

  it('BatchNorm: evaluation with the moments of a batch reproduces training mode on it, and is per image', () => {
    const p = initCnn(bnCfg, 3);
    const x = tf.randomNormal([6, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    // one estimation batch holding all six images: every layer sees exactly its training-mode moments
    const moments = estimateBnMoments(p, bnCfg, x, 6);
    expect(Object.keys(moments).sort()).toEqual(['stages.0.0.norm1', 'stages.0.0.norm2', 'stages.1.0.norm1', 'stages.1.0.norm2', 'stem.norm']);
    expect(moments['stages.1.0.norm1']!.mean.shape).toEqual([16]);
    const train = cnnForward(p, bnCfg, x, {training: true}), evalAll = cnnForward(p, bnCfg, x, {moments});
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(train, evalAll))).dataSync()[0])).toBeLessThan(1e-4);
    // evaluation is per image; training mode is not (its moments come from the batch)
    const x2 = tf.slice(x, [0, 0, 0, 0], [2, -1, -1, -1]);
    const eval2 = cnnForward(p, bnCfg, x2, {moments}), train2 = cnnForward(p, bnCfg, x2, {training: true});
    const head = tf.slice(evalAll, [0, 0], [2, -1]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(eval2, head))).dataSync()[0])).toBeLessThan(1e-5);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(train2, head))).dataSync()[0])).toBeGreaterThan(1e-3);
    // smaller estimation batches pool their sums: the first layer's moments are those of all six images
    const pooled = estimateBnMoments(p, bnCfg, x, 4);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(pooled['stem.norm']!.variance, moments['stem.norm']!.variance))).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([train, evalAll, x2, eval2, train2, head]);
    disposeMoments(moments); disposeMoments(pooled);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeParams(p);
  });

  it('rejects bad configs and inputs with a clear message', () => {
    expect(() => cnnConfig({norm: 'group' as never})).toThrow(/norm must be 'batch' or 'layer' \(got "group"\)/);
    const pb = initCnn(bnCfg, 0), xb = tf.zeros([2, 16, 16, 3]);
    expect(() => cnnForward(pb, bnCfg, xb)).toThrow(/CNN with BatchNorm: evaluation needs the training set's moments — pass \{moments: estimateBnMoments/);
    expect(() => cnnForward(pb, bnCfg, xb, {moments: {}})).toThrow(/the moments have no entry for stem.norm/);
    expect(() => estimateBnMoments(pb, cfg, xb as tf.Tensor4D)).toThrow(/normalises with 'layer', which has no moments/);
    tf.dispose(xb); disposeParams(pb);
    expect(() => cnnConfig({widths: []})).toThrow(/widths must be a non-empty list of positive integers/);
    expect(() => cnnConfig({blocksPerStage: 0})).toThrow(/blocksPerStage must be a positive integer \(got 0\)/);
    const p = initCnn(cfg, 0);
    expect(() => cnnForward(p, cfg, tf.zeros([1, 32, 32, 3]))).toThrow(/CNN: images must be \[B, 16, 16, 3\], got \[1,32,32,3\]/);
    disposeParams(p);
  });
});
