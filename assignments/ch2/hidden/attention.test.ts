import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {scaledDotProductAttention} from '../../../lib/transformer/attention';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

const t3 = (n: number[], f: (i: number) => number) => tf.tensor3d([...Array(n[0]! * n[1]! * n[2]!).keys()].map(f), n as [number, number, number]);

describe('scaledDotProductAttention (hidden)', () => {
  it('a [B, 1, 1, Tk] padding mask applies to every head of its batch entry', async () => {
    // batch 2, 2 heads: BH = 4; batch entry 1 masks its last key
    const q = t3([4, 2, 3], (i) => Math.sin(i)), k = t3([4, 3, 3], (i) => Math.cos(i)), v = t3([4, 3, 3], (i) => i % 5);
    const mask = tf.tensor4d([1, 1, 1, 1, 1, 0], [2, 1, 1, 3]);
    const {weights} = scaledDotProductAttention(q, k, v, 2, {mask});
    const w = await weights.array();
    for (const h of [2, 3]) for (const row of w[h]!) expect(row[2]).toBe(0);
    for (const h of [0, 1]) for (const row of w[h]!) expect(row[2]).toBeGreaterThan(0);
  });
  it('every row of the weights sums to 1 and the output has shape [BH, Tq, Dh]', async () => {
    const {output, weights} = scaledDotProductAttention(t3([3, 4, 2], (i) => Math.sin(3 * i)), t3([3, 5, 2], (i) => Math.cos(i)), t3([3, 5, 2], (i) => i), 3);
    expect(output.shape).toEqual([3, 4, 2]);
    await expectAllClose(weights.sum(-1), new Array(12).fill(1), 1e-5);
  });
  it('the output is the weights times v', async () => {
    const q = t3([2, 3, 4], (i) => Math.sin(i)), k = t3([2, 3, 4], (i) => Math.cos(2 * i)), v = t3([2, 3, 4], (i) => (i % 7) - 3);
    const {output, weights} = scaledDotProductAttention(q, k, v, 1);
    await expectAllClose(output, tf.matMul(weights, v), 1e-5);
  });
});
