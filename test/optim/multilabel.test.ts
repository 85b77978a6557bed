import {readFileSync} from 'fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {binaryCrossEntropyWithLogits} from '../../lib/optim/multilabel';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);
const golden = JSON.parse(readFileSync('test/golden/multilabel.json', 'utf8'));

describe('binaryCrossEntropyWithLogits', () => {
  it('is −[y log σ(x) + (1 − y) log(1 − σ(x))] averaged over all entries (hand values)', async () => {
    // x = ln 3 → σ = 3/4; x = 0 → σ = 1/2
    const loss = binaryCrossEntropyWithLogits(tf.tensor2d([[Math.log(3), 0]]), tf.tensor2d([[1, 0]]));
    await expectAllClose(loss, [(Math.log(4 / 3) + Math.log(2)) / 2], 1e-6);
  });
  it('has the slope σ(x) − y at exactly x = 0 (where autodiff through |x| would give −y)', async () => {
    const g = tf.grad((x: tf.Tensor) => binaryCrossEntropyWithLogits(x, tf.tensor2d([[1, 0]])))(tf.tensor2d([[0, 0]]));
    await expectAllClose(g, [[-0.25, 0.25]], 1e-7); // (0.5 − y) / 2
  });
  it('is finite for huge logits: a confident wrong answer costs ≈ |x|', async () => {
    const loss = binaryCrossEntropyWithLogits(tf.tensor2d([[1000, -1000]]), tf.tensor2d([[0, 0]]));
    await expectAllClose(loss, [500], 1e-3);
  });
  for (const g of golden.bce) {
    it(`matches torch.nn.BCEWithLogitsLoss and its gradient (${g.name} targets)`, async () => {
      const x = tf.tensor2d(g.logits), y = tf.tensor2d(g.targets);
      const {value, grad} = tf.valueAndGrad((t: tf.Tensor) => binaryCrossEntropyWithLogits(t, y))(x);
      await expectAllClose(value, [g.loss], 2e-5);
      await expectAllClose(grad, g.grad, 1e-6);
    });
  }
  it('leaks no tensor, forward and backward', () => {
    const x = tf.randomNormal([4, 3]), y = tf.tensor2d([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]]);
    expectNoLeak(() => binaryCrossEntropyWithLogits(x, y));
    expectNoLeak(() => tf.valueAndGrad((t: tf.Tensor) => binaryCrossEntropyWithLogits(t, y))(x) as unknown as tf.TensorContainer);
  });
  it('names bad input', () => {
    expect(() => binaryCrossEntropyWithLogits(tf.zeros([2, 3]), tf.zeros([2, 4]))).toThrow(/targets \[2,4\] must have the logits' shape \[2,3\]/);
    expect(() => binaryCrossEntropyWithLogits(tf.zeros([1, 2]), tf.tensor2d([[0, 2]]))).toThrow(/target 2 at flat index 1 is not in \[0, 1\]/);
    expect(() => binaryCrossEntropyWithLogits(tf.zeros([3]), tf.zeros([3]))).toThrow(/logits must be \[N, C\]/);
  });
});
