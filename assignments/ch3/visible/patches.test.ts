import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {patchify} from '../../../lib/vit/patches';
import {setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('patchify', () => {
  it('cuts a 4x4 image into four 2x2 patches in row-major grid order', async () => {
    const img = tf.tensor4d([...Array(16).keys()], [1, 4, 4, 1]);
    expect(await patchify(img, 2).array()).toEqual([[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]]);
  });
  it('returns [B, N, P·P·C] for a batch of 32x32 RGB images and P = 4', () => {
    expect(patchify(tf.zeros([2, 32, 32, 3]), 4).shape).toEqual([2, 64, 48]);
  });
});
