import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {causalMask} from '../../../lib/transformer/masks';
import {setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('causalMask (hidden)', () => {
  it('causalMask(1) is [[1]] and causalMask(5) has 15 ones', async () => {
    expect(await causalMask(1).array()).toEqual([[1]]);
    expect((await causalMask(5).sum().data())[0]).toBe(15);
  });
  it('row i of causalMask(6) has exactly i + 1 leading ones', async () => {
    const m = await causalMask(6).array();
    m.forEach((row, i) => expect(row).toEqual(row.map((_, j) => (j <= i ? 1 : 0))));
  });
  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    causalMask(4, 2).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
