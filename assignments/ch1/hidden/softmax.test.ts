import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {maskedSoftmax} from '../../../lib/attention/softmax';
import {expectAllClose, expectNoLeak, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('maskedSoftmax (hidden)', () => {
  it('large scores do not overflow: softmax([1000, 1001]) = [1/(1+e), e/(1+e)]', async () => {
    const e = Math.E;
    await expectAllClose(maskedSoftmax(tf.tensor1d([1000, 1001])), [1 / (1 + e), e / (1 + e)], 1e-6);
  });
  it('a key mask of shape [Tk] broadcasts over every query row', async () => {
    const w = maskedSoftmax(tf.tensor2d([[0, 0, 0], [1, 5, 1]]), tf.tensor1d([1, 0, 1]));
    await expectAllClose(w, [0.5, 0, 0.5, 0.5, 0, 0.5], 1e-6);
  });
  it('every row of a [2, 3, 5] batch sums to 1 with a causal-style mask', async () => {
    const s = tf.tensor3d([...Array(30).keys()].map((i) => Math.sin(i) * 3), [2, 3, 5]);
    const m = tf.tensor2d([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]]);
    const w = maskedSoftmax(s, m);
    await expectAllClose(w.sum(-1), [1, 1, 1, 1, 1, 1], 1e-5);
    const data = await w.data();
    for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) for (let j = i + 1; j < 5; j++) expect(data[b * 15 + i * 5 + j]).toBe(0);
  });
  it('names both shapes when the mask does not broadcast', () => {
    expect(() => maskedSoftmax(tf.zeros([2, 3]), tf.ones([2, 4]))).toThrow(/\[2,4\].*\[2,3\]|\[2, 4\].*\[2, 3\]/);
  });
  it('does not leak tensors', () => {
    const s = tf.tensor3d([...Array(12).keys()], [1, 3, 4]), m = tf.ones([1, 1, 4]);
    expectNoLeak(() => maskedSoftmax(s, m));
    tf.dispose([s, m]);
  });
});
