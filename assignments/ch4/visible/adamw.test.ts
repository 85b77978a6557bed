import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, it} from 'vitest';
import {AdamW} from '../../../lib/optim/adamw';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('AdamW.step', () => {
  it('the first step moves each weight by lr (bias-corrected m/√v = sign g) after decay', async () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const opt = new AdamW({w}, {lr: 0.1, weightDecay: 0.5, eps: 0});
    opt.step({w: tf.tensor2d([[0.3, -4]])});
    // decay: p·(1 − 0.1·0.5) = [0.95, −1.9]; Adam: −0.1·sign(g) = [−0.1, +0.1]
    await expectAllClose(w, [0.85, -1.8], 1e-6);
  });
  it('biases (rank 1) get no weight decay', async () => {
    const b = tf.variable(tf.tensor1d([1, 1]));
    const opt = new AdamW({'fc.bias': b}, {lr: 0.1, weightDecay: 0.5, eps: 0});
    opt.step({'fc.bias': tf.tensor1d([2, -2])});
    await expectAllClose(b, [0.9, 1.1], 1e-6);
  });
});
