import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {scaledDotScores} from '../../../lib/attention/scores';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('scaledDotScores', () => {
  it('divides q·k by √D on a hand-computed example', async () => {
    // q·k rows: [1, 3, 0] and [0, 1, -1]; D = 2
    const q = tf.tensor3d([[[1, 2], [0, 1]]]);
    const k = tf.tensor3d([[[1, 0], [1, 1], [2, -1]]]);
    const r = Math.SQRT1_2;
    await expectAllClose(scaledDotScores(q, k), [r, 3 * r, 0, 0, r, -r], 1e-6);
  });
  it('returns scores of shape [B, Tq, Tk]', () => {
    const s = scaledDotScores(tf.ones([2, 3, 5]), tf.ones([2, 4, 5]));
    expect(s.shape).toEqual([2, 3, 4]);
  });
});
