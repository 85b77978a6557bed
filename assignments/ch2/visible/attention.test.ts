import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, it} from 'vitest';
import {scaledDotProductAttention} from '../../../lib/transformer/attention';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('scaledDotProductAttention', () => {
  it('weights softmax(q·k/√Dh) and averages v on a hand-computed example', async () => {
    // scores [1/√2, 0]; weights [a, 1 - a] with a = e^{1/√2} / (e^{1/√2} + 1)
    const a = Math.exp(Math.SQRT1_2) / (Math.exp(Math.SQRT1_2) + 1);
    const {output, weights} = scaledDotProductAttention(tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[1, 0], [0, 1]]]), tf.tensor3d([[[1, 2], [3, 4]]]), 1);
    await expectAllClose(weights, [a, 1 - a], 1e-5);
    await expectAllClose(output, [a + 3 * (1 - a), 2 * a + 4 * (1 - a)], 1e-5);
  });
  it('a keep-mask of 0 removes a key: the output is the other value', async () => {
    const {output} = scaledDotProductAttention(tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[1, 0], [0, 1]]]), tf.tensor3d([[[1, 2], [3, 4]]]), 1, {mask: tf.tensor2d([[1, 0]])});
    await expectAllClose(output, [1, 2], 1e-5);
  });
});
