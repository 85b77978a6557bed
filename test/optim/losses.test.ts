import {readFileSync} from 'fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {crossEntropy, sequenceCrossEntropy} from '../../lib/optim/losses';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);
const golden = JSON.parse(readFileSync('test/golden/optim-losses.json', 'utf8'));

describe('crossEntropy', () => {
  it('equals −log p of the true class without smoothing (hand values)', async () => {
    // logits [0, ln 3] → p = [1/4, 3/4]
    const logits = tf.tensor2d([[0, Math.log(3)], [0, Math.log(3)]]);
    await expectAllClose(crossEntropy(logits, tf.tensor1d([1, 0], 'int32')), [(Math.log(4 / 3) + Math.log(4)) / 2], 1e-6);
  });
  it('label smoothing mixes in ε/C of every class (hand values)', async () => {
    // ε = 0.2, C = 2: q = [0.1, 0.9]; loss = −(0.1·ln ¼ + 0.9·ln ¾) = 0.3975432
    const loss = crossEntropy(tf.tensor2d([[0, Math.log(3)]]), tf.tensor1d([1], 'int32'), 0.2);
    await expectAllClose(loss, [0.1 * Math.log(4) + 0.9 * Math.log(4 / 3)], 1e-6);
  });
  it('is stable for huge logits', async () => {
    const loss = crossEntropy(tf.tensor2d([[1000, 0, -1000]]), tf.tensor1d([1], 'int32'));
    await expectAllClose(loss, [1000], 1e-3);
  });
  for (const g of golden.classification) {
    it(`matches torch cross_entropy and its gradient (ε = ${g.labelSmoothing}, class labels and soft targets)`, async () => {
      const logits = tf.tensor2d(g.logits);
      const f = (y: tf.Tensor1D | tf.Tensor2D) => tf.valueAndGrad((x: tf.Tensor) => crossEntropy(x as tf.Tensor2D, y, g.labelSmoothing))(logits);
      const hard = f(tf.tensor1d(g.labels, 'int32'));
      await expectAllClose(hard.value, [g.loss], 1e-5);
      await expectAllClose(hard.grad, g.grad, 1e-6);
      const soft = f(tf.tensor2d(g.soft));
      await expectAllClose(soft.value, [g.softLoss], 1e-5);
      await expectAllClose(soft.grad, g.softGrad, 1e-6);
    });
  }
  it('accepts float labels holding class indices', async () => {
    const x = tf.tensor2d(golden.classification[0].logits);
    await expectAllClose(crossEntropy(x, tf.tensor1d(golden.classification[0].labels)), [golden.classification[0].loss], 1e-5);
  });
  it('names the problem for bad labels or shapes', () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => crossEntropy(x, tf.tensor1d([0, 3], 'int32'))).toThrow(/label 3 at index 1 is not a class index in \[0, 3\)/);
    expect(() => crossEntropy(x, tf.tensor1d([0, 1, 2], 'int32'))).toThrow(/labels must be \[2\] class indices or \[2, 3\] soft targets, got shape \[3\]/);
    expect(() => crossEntropy(x, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/got shape \[2,4\]/);
    expect(() => crossEntropy(x, tf.tensor1d([0, 1], 'int32'), 1.5)).toThrow(/labelSmoothing must be in \[0, 1\]/);
  });
  it('does not leak tensors (forward and gradient)', () => {
    const x = tf.randomNormal([4, 5]) as tf.Tensor2D, y = tf.tensor1d([0, 1, 2, 4], 'int32');
    expectNoLeak(() => crossEntropy(x, y, 0.1));
    expectNoLeak(() => { const r = tf.valueAndGrad((l: tf.Tensor) => crossEntropy(l as tf.Tensor2D, y, 0.1))(x); return [r.value, r.grad]; });
    tf.dispose([x, y]);
  });
});

describe('sequenceCrossEntropy', () => {
  for (const g of golden.sequence) {
    it(`matches torch cross_entropy(ignore_index=pad) and its gradient (ε = ${g.labelSmoothing})`, async () => {
      const logits = tf.tensor3d(g.logits), targets = tf.tensor2d(g.targets, undefined, 'int32');
      const {value, grad} = tf.valueAndGrad((x: tf.Tensor) => sequenceCrossEntropy(x as tf.Tensor3D, targets, {labelSmoothing: g.labelSmoothing, padId: g.padId}))(logits);
      await expectAllClose(value, [g.loss], 1e-5);
      await expectAllClose(grad, g.grad, 1e-6);
    });
  }
  it('ignores padded positions: their logits change nothing and get zero gradient', async () => {
    const targets = tf.tensor2d([[2, 1, 0], [3, 0, 0]], undefined, 'int32');
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
    const padMask = tf.tensor3d([[[0], [0], [1]], [[0], [1], [1]]]); // 1 at pad positions
    const b = tf.add(a, tf.mul(padMask, tf.randomNormal([2, 3, 4], 0, 10, 'float32', 2))) as tf.Tensor3D;
    const la = sequenceCrossEntropy(a, targets, {padId: 0, labelSmoothing: 0.1});
    const lb = sequenceCrossEntropy(b, targets, {padId: 0, labelSmoothing: 0.1});
    await expectAllClose(lb, la, 1e-6);
    // mean over the 3 real tokens: equals crossEntropy on those rows
    const rows = tf.gather(a.reshape([6, 4]), tf.tensor1d([0, 1, 3], 'int32')) as tf.Tensor2D;
    await expectAllClose(la, crossEntropy(rows, tf.tensor1d([2, 1, 3], 'int32'), 0.1), 1e-6);
    const grad = tf.grad((x: tf.Tensor) => sequenceCrossEntropy(x as tf.Tensor3D, targets, {padId: 0}))(a);
    await expectAllClose(tf.mul(grad, padMask), tf.zeros([2, 3, 4]), 0);
  });
  it('without padId every position counts; all-padding gives 0', async () => {
    const x = tf.zeros([1, 2, 4]) as tf.Tensor3D, t = tf.tensor2d([[0, 0]], undefined, 'int32');
    await expectAllClose(sequenceCrossEntropy(x, t), [Math.log(4)], 1e-6);
    await expectAllClose(sequenceCrossEntropy(x, t, {padId: 0}), [0], 0);
  });
  it('names the problem for bad shapes or ids', () => {
    const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    expect(() => sequenceCrossEntropy(x, tf.zeros([2, 2], 'int32') as tf.Tensor2D)).toThrow(/targets must be \[2, 3\] to match logits \[2,3,4\], got shape \[2,2\]/);
    expect(() => sequenceCrossEntropy(x, tf.fill([2, 3], 4, 'int32') as tf.Tensor2D, {padId: 0})).toThrow(/label 4 at index 0 is not a class index in \[0, 4\)/);
  });
  it('does not leak tensors', () => {
    const x = tf.randomNormal([2, 3, 4]) as tf.Tensor3D, t = tf.tensor2d([[1, 2, 0], [3, 0, 0]], undefined, 'int32');
    expectNoLeak(() => sequenceCrossEntropy(x, t, {padId: 0, labelSmoothing: 0.1}));
    expectNoLeak(() => { const r = tf.valueAndGrad((l: tf.Tensor) => sequenceCrossEntropy(l as tf.Tensor3D, t, {padId: 0}))(x); return [r.value, r.grad]; });
    tf.dispose([x, t]);
  });
});
