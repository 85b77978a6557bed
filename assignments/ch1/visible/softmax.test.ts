// Intentional student copy of the first cases of test/attention/softmax.test.ts: the visible tests a student's starter ships with.
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, it} from 'vitest';
import {maskedSoftmax} from '../../../lib/attention/softmax';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('maskedSoftmax', () => {
  it('matches the hand-computed softmax of [2, 1, 0.1]', async () => {
    // e^2 = 7.389056, e^1 = 2.718282, e^0.1 = 1.105171; sum 11.212509
    const w = maskedSoftmax(tf.tensor1d([2, 1, 0.1]));
    await expectAllClose(w, [0.659001, 0.242433, 0.098566], 1e-5);
  });
  it('gives masked keys zero weight and renormalises the rest', async () => {
    const w = maskedSoftmax(tf.tensor2d([[1, 2, 3]]), tf.tensor2d([[1, 1, 0]]));
    const e1 = Math.exp(1), e2 = Math.exp(2);
    await expectAllClose(w, [e1 / (e1 + e2), e2 / (e1 + e2), 0], 1e-6);
  });
  it('a fully masked row stays finite and becomes uniform', async () => {
    const w = maskedSoftmax(tf.tensor2d([[5, -3, 1, 0]]), tf.zeros([1, 4]));
    await expectAllClose(w, [0.25, 0.25, 0.25, 0.25], 1e-6);
  });
});
