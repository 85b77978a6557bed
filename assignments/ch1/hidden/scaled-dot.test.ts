import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, it} from 'vitest';
import {dotScores, scaledDotScores} from '../../../lib/attention/scores';
import {expectAllClose, expectNoLeak, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('scaledDotScores (hidden)', () => {
  it('equals the unscaled dot product divided by √D for D = 9', async () => {
    const q = tf.tensor3d([...Array(2 * 3 * 9).keys()].map((i) => Math.cos(i)), [2, 3, 9]);
    const k = tf.tensor3d([...Array(2 * 4 * 9).keys()].map((i) => Math.sin(i)), [2, 4, 9]);
    await expectAllClose(scaledDotScores(q, k), dotScores(q, k).div(3), 1e-5);
  });
  it('computes each batch entry independently', async () => {
    const q = tf.tensor3d([[[1, 0]], [[0, 2]]]);
    const k = tf.tensor3d([[[3, 4]], [[5, 6]]]);
    await expectAllClose(scaledDotScores(q, k), [3 / Math.SQRT2, 12 / Math.SQRT2], 1e-5);
  });
  it('does not leak tensors', () => {
    const q = tf.ones([1, 2, 4]), k = tf.ones([1, 3, 4]);
    expectNoLeak(() => scaledDotScores(q, k));
    tf.dispose([q, k]);
  });
});
