import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {Rng} from '../../lib/core/rng';
import {cyclicShift, deitHeads, deitTokens, gatherVisible, randomMasking, shiftedWindowMask, windowPartition, windowReverse} from '../../lib/vit/variants';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('DeiT distillation token', () => {
  it('puts CLS then DIST before the patches and averages the two heads at inference', async () => {
    const patches = tf.ones([2, 4, 3]), cls = tf.fill([1, 1, 3], 5), dist = tf.fill([1, 1, 3], 7), pos = tf.zeros([1, 6, 3]);
    const x = deitTokens(patches, cls, dist, pos);
    expect(x.shape).toEqual([2, 6, 3]);
    const a = await x.array();
    expect(a[1]![0]).toEqual([5, 5, 5]);
    expect(a[1]![1]).toEqual([7, 7, 7]);
    const w = tf.eye(3, 2), b = tf.zeros([2]), w2 = tf.mul(tf.eye(3, 2), 3), b2 = tf.ones([2]);
    const h = deitHeads(x, {w, b}, {w: w2, b: b2});
    await expectAllClose(h.clsLogits, [[5, 5], [5, 5]], 0);
    await expectAllClose(h.distLogits, [[22, 22], [22, 22]], 0);
    await expectAllClose(h.inference, [[13.5, 13.5], [13.5, 13.5]], 0);
    expect(() => deitTokens(patches, cls, dist, tf.zeros([1, 5, 3]))).toThrow(/pos_embed must be \[1,6,3\], got \[1,5,3\]/);
    tf.dispose([patches, cls, dist, pos, x, w, b, w2, b2, h.clsLogits, h.distLogits, h.inference]);
  });
});

describe('Swin windows', () => {
  const x = tf.tensor4d(Array.from({length: 2 * 4 * 6 * 2}, (_, i) => i), [2, 4, 6, 2]);

  it('window partition gives [B·nW, M·M, C] and window 1 is rows 0-1, columns 2-3', async () => {
    const w = windowPartition(x, 2);
    expect(w.shape).toEqual([12, 4, 2]);
    const a = await w.array(), img = await x.array();
    expect(a[1]).toEqual([img[0]![0]![2], img[0]![0]![3], img[0]![1]![2], img[0]![1]![3]]);
    const back = windowReverse(w, 2, 4, 6);
    await expectAllClose(back, x, 0);
    tf.dispose([w, back]);
  });

  it('cyclic shift is torch.roll and shifting back restores the map', async () => {
    const s = cyclicShift(x, -1, -1);
    const a = await s.array(), img = await x.array();
    expect(a[0]![0]![0]).toEqual(img[0]![1]![1]);   // roll by −1: out[y][x] = in[y+1][x+1]
    expect(a[0]![3]![5]).toEqual(img[0]![0]![0]);
    const back = cyclicShift(s, 1, 1);
    await expectAllClose(back, x, 0);
    tf.dispose([s, back]);
  });

  it('shifted-window mask matches the 3x3 region rule (H = W = 4, M = 2, shift 1)', () => {
    const {regions, mask, numWindows} = shiftedWindowMask(4, 4, 2, 1);
    expect(numWindows).toBe(4);
    expect(Array.from(regions)).toEqual([0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8]);
    const win = (w: number) => Array.from(mask.slice(w * 16, w * 16 + 16));
    expect(win(0)).toEqual(new Array(16).fill(1));
    expect(win(1)).toEqual([1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1]);
    expect(win(3)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(Array.from(shiftedWindowMask(4, 4, 2, 0).mask).every(v => v === 1)).toBe(true);
    expect(() => shiftedWindowMask(5, 4, 2, 1)).toThrow(/5x4 is not divisible by the window size 2/);
    expect(() => shiftedWindowMask(4, 4, 2, 2)).toThrow(/shift must be an integer in \[0, 2\)/);
  });

  it('does not leak', () => expectNoLeak(() => [windowPartition(x, 2), cyclicShift(x, 2, 3)]));
});

describe('MAE random masking', () => {
  it('keeps ⌊N·(1 − ratio)⌋ patches; kept and removed partition 0..N-1; mask marks removed', async () => {
    const {keep, removed, mask} = randomMasking(64, 0.75, new Rng(0));
    expect(keep.length).toBe(16);
    expect(removed.length).toBe(48);
    expect([...keep, ...removed].sort((a, b) => a - b)).toEqual(Array.from({length: 64}, (_, i) => i));
    expect(mask.reduce((a, b) => a + b, 0)).toBe(48);
    for (const k of keep) expect(mask[k]).toBe(0);
    const tokens = tf.tensor3d(Array.from({length: 64}, (_, i) => i), [1, 64, 1]);
    const vis = gatherVisible(tokens, keep);
    expect(Array.from(await vis.data())).toEqual(Array.from(keep));
    tf.dispose([tokens, vis]);
    expect(() => randomMasking(8, 1, new Rng(0))).toThrow(/maskRatio must be in \[0, 1\)/);
  });

  it('is reproducible for a seed and different for another', () => {
    expect(Array.from(randomMasking(16, 0.5, new Rng(3)).keep)).toEqual(Array.from(randomMasking(16, 0.5, new Rng(3)).keep));
    expect(Array.from(randomMasking(16, 0.5, new Rng(3)).keep)).not.toEqual(Array.from(randomMasking(16, 0.5, new Rng(4)).keep));
  });
});
