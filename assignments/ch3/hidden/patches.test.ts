import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {patchify} from '../../../lib/vit/patches';
import {setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('patchify (hidden)', () => {
  it('flattens each patch as (row, column, channel) with 2 channels', async () => {
    // pixel (r, c) has channels [10r + c, -(10r + c)]
    const vals: number[] = [];
    for (let r = 0; r < 2; r++) for (let c = 0; c < 4; c++) vals.push(10 * r + c, -(10 * r + c));
    const p = await patchify(tf.tensor4d(vals, [1, 2, 4, 2]), 2).array();
    expect(p[0]![1]).toEqual([2, -2, 3, -3, 12, -12, 13, -13]);
  });
  it('patch n of a non-square grid comes from grid cell (n / gw, n % gw)', async () => {
    const img = tf.tensor4d([...Array(4 * 6).keys()], [1, 4, 6, 1]); // gh = 2, gw = 3 for P = 2
    const p = await patchify(img, 2).array();
    expect(p[0]![4]).toEqual([14, 15, 20, 21]); // cell (1, 1): rows 2-3, columns 2-3
  });
  it('keeps batch entries apart', async () => {
    const img = tf.concat([tf.zeros([1, 2, 2, 1]), tf.ones([1, 2, 2, 1])]);
    expect(await patchify(img, 2).array()).toEqual([[[0, 0, 0, 0]], [[1, 1, 1, 1]]]);
  });
});
