import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {extractPatches, patchEmbedConv, patchify, unpatchify} from '../../lib/vit/patches';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('three patch formulations', () => {
  const img = tf.randomNormal([2, 12, 8, 3], 0, 1, 'float32', 3); // non-square: 3x2 grid of 4x4 patches

  it('extract-patches equals reshape/transpose patchify', async () => {
    const a = patchify(img, 4);                          // [2, 6, 48]
    const b = extractPatches(img, 4);                    // [2, 3, 2, 48]
    expect(b.shape).toEqual([2, 3, 2, 48]);
    await expectAllClose(tf.reshape(b, [2, 6, 48]), a, 0);
    tf.dispose([a, b]);
  });

  it('patch (i, j) holds pixel (iP + r, jP + c, ch) at index (r·P + c)·C + ch', async () => {
    const p = await extractPatches(img, 4).array() as number[][][][];
    const x = await img.array() as number[][][][];
    expect(p[1]![2]![1]![(3 * 4 + 1) * 3 + 2]).toBe(x[1]![2 * 4 + 3]![1 * 4 + 1]![2]);
  });

  it('strided convolution with the reshaped dense kernel equals patchify + dense', async () => {
    const w = tf.randomNormal([48, 5], 0, 1, 'float32', 4), b = tf.randomNormal([5], 0, 1, 'float32', 5);
    const viaDense = tf.add(tf.matMul(tf.reshape(patchify(img, 4), [12, 48]), w), b); // [12, 5]
    const viaConv = patchEmbedConv(img, w, b, 4);                                       // [2, 6, 5]
    expect(viaConv.shape).toEqual([2, 6, 5]);
    await expectAllClose(tf.reshape(viaConv, [12, 5]), viaDense, 1e-4);
    tf.dispose([w, b, viaDense, viaConv]);
  });

  it('unpatchify inverts patchify exactly', async () => {
    const back = unpatchify(patchify(img, 4), 4, 3, 2, 3);
    await expectAllClose(back, img, 0);
    back.dispose();
  });

  it('reject an image size not divisible by the patch size with a clear message', () => {
    const bad = tf.zeros([1, 10, 8, 3]);
    expect(() => patchify(bad, 4)).toThrow(/image size 10x8 is not divisible by the patch size 4/);
    expect(() => extractPatches(bad, 4)).toThrow(/10x8 is not divisible by the patch size 4/);
    expect(() => patchEmbedConv(bad, tf.zeros([48, 2]), tf.zeros([2]), 4)).toThrow(/not divisible/);
    expect(() => patchEmbedConv(img, tf.zeros([47, 2]), tf.zeros([2]), 4)).toThrow(/weight must be \[P·P·C, D\] = \[48, D\], got \[47,2\]/);
    expect(() => unpatchify(tf.zeros([1, 5, 48]), 4, 3, 2, 3)).toThrow(/patches must be \[B, 6, 48\]/);
    bad.dispose();
  });

  it('do not leak tensors', () => {
    const w = tf.ones([48, 2]), b = tf.zeros([2]);
    expectNoLeak(() => {
      const p = patchify(img, 4);
      const out = [extractPatches(img, 4), patchEmbedConv(img, w, b, 4), unpatchify(p, 4, 3, 2, 3)];
      p.dispose();
      return out;
    });
    tf.dispose([w, b]);
  });
});
