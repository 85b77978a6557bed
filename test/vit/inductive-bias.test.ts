import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {conv2d} from '../../lib/core/conv';
import {Rng} from '../../lib/core/rng';
import {equivarianceError, firstComponentShare, markedPatchTask, relativeChange, translate} from '../../lib/vit/inductive-bias';
import {patchEmbedConv} from '../../lib/vit/patches';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('translate', () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  it('moves pixels right/down and fills the uncovered ones with 0', async () => {
    await expectAllClose(translate(x, 0, 1), [0, 1, 2, 0, 4, 5, 0, 7, 8]);
    await expectAllClose(translate(x, 1, 0), [0, 0, 0, 1, 2, 3, 4, 5, 6]);
  });
  it('negative shifts move left/up; 0 is the identity', async () => {
    await expectAllClose(translate(x, -1, -1), [5, 6, 0, 8, 9, 0, 0, 0, 0]);
    await expectAllClose(translate(x, 0, 0), x);
  });
  it('fills uncovered pixels with a given colour per channel', async () => {
    const rgb = tf.ones([1, 1, 3, 2]);
    await expectAllClose(translate(rgb, 0, 2, tf.tensor1d([-1, 5])), [-1, 5, -1, 5, 1, 1]);
  });
  it('refuses fractional shifts and shifts as large as the image', () => {
    expect(() => translate(x, 0, 1.5)).toThrow(/whole pixels smaller than the image \(3x3\)/);
    expect(() => translate(x, 3, 0)).toThrow(/whole pixels/);
  });
  it('does not leak tensors', () => expectNoLeak(() => translate(x, 1, -1)));
});

describe('equivarianceError', () => {
  const imgs = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  it('a 3x3 convolution with zero padding is translation-equivariant at every shift (away from the border)', async () => {
    const w = tf.randomNormal([3, 3, 3, 5], 0, 0.3, 'float32', 2);
    const f = (x: tf.Tensor4D) => conv2d(x, w, undefined, {pad: 1});
    for (const s of [1, 2, 3, 5]) {
      const e = equivarianceError(f, imgs, s, {stride: 1, margin: 1});
      expect((await e.data())[0]).toBeLessThan(1e-5);
      e.dispose();
    }
  });
  it('a patch embedding is equivariant only at shifts that are multiples of the patch size', async () => {
    const E = tf.randomNormal([4 * 4 * 3, 8], 0, 0.2, 'float32', 3), b = tf.zeros([8]);
    const f = (x: tf.Tensor4D) => tf.reshape(patchEmbedConv(x, E, b, 4), [x.shape[0], 4, 4, 8]) as tf.Tensor4D;
    const err = async (s: number) => { const e = equivarianceError(f, imgs, s, {stride: 4}); const v = (await e.data())[0]!; e.dispose(); return v; };
    expect(await err(4)).toBeLessThan(1e-5);
    expect(await err(8)).toBeLessThan(1e-5);
    expect(await err(1)).toBeGreaterThan(0.3);
    expect(await err(2)).toBeGreaterThan(0.3);
  });
  it('names a shift that leaves nothing to compare', () => {
    const f = (x: tf.Tensor4D) => x;
    expect(() => equivarianceError(f, imgs, 15, {stride: 1, margin: 1})).toThrow(/leaves no columns of a 16-wide map/);
  });
});

describe('relativeChange', () => {
  it('is ‖a − b‖ / ‖b‖ per row', async () => {
    const ref = tf.tensor2d([[3, 4], [1, 0]]), moved = tf.tensor2d([[3, 4], [1, 1]]);
    await expectAllClose(relativeChange(moved, ref), [0, 1], 1e-7);
    await expectAllClose(relativeChange(tf.tensor2d([[0, 0], [2, 0]]), ref), [1, 1], 1e-7);
  });
  it('centred: ‖a − b‖ / ‖b − mean row‖, blind to a part every row shares', async () => {
    // rows sit 1 from their mean [10, 2]; the shared 10 makes the plain change look small
    const ref = tf.tensor2d([[10, 1], [10, 3]]), moved = tf.tensor2d([[10, 2], [10, 3]]);
    await expectAllClose(relativeChange(moved, ref, {centred: true}), [1, 0], 1e-6);
    await expectAllClose(relativeChange(moved, ref), [1 / Math.sqrt(101), 0], 1e-6);
    const shift = tf.tensor2d([[100, -50]]);   // a constant vector added to every row changes nothing
    await expectAllClose(relativeChange(tf.add(moved, shift) as tf.Tensor2D, tf.add(ref, shift) as tf.Tensor2D, {centred: true}), [1, 0], 1e-5);
  });
  it('names mismatched shapes and a centre of one row', () => {
    expect(() => relativeChange(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 2]) as tf.Tensor2D)).toThrow(/both be \[B, K\], got \[2,3\] and \[2,2\]/);
    expect(() => relativeChange(tf.zeros([1, 3]) as tf.Tensor2D, tf.zeros([1, 3]) as tf.Tensor2D, {centred: true})).toThrow(/centred needs at least 2 rows/);
  });
});

describe('firstComponentShare', () => {
  it('is 1 for rows on one straight line t·w + b (the blog\'s Linear(1 → D) positions)', () => {
    const w = [0.3, -1, 2, 0.5], b = [1, 1, -2, 0];
    const rows = Array.from({length: 16}, (_, t) => w.map((v, k) => t * v + b[k]!));
    expect(firstComponentShare(rows)).toBeCloseTo(1, 10);
  });
  it('is 1/2 for the centres of a square grid and 1/3 for three orthogonal equal directions', () => {
    const grid = Array.from({length: 16}, (_, t) => [Math.floor(t / 4), t % 4, 0]);
    expect(firstComponentShare(grid)).toBeCloseTo(0.5, 8);
    expect(firstComponentShare([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])).toBeCloseTo(1 / 3, 8);
  });
  it('needs at least two rows', () => {
    expect(() => firstComponentShare([[1, 2]])).toThrow(/at least 2 rows/);
  });
});

describe('markedPatchTask', () => {
  it('brightens exactly the labelled patch, reproducibly', () => {
    const a = markedPatchTask(20, 16, 4, new Rng(5), {noise: 0});
    const b = markedPatchTask(20, 16, 4, new Rng(5), {noise: 0});
    expect(Array.from(a.cols)).toEqual(Array.from(b.cols));
    for (let n = 0; n < 20; n++) {
      for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) {
        const on = Math.floor(i / 4) === a.rows[n] && Math.floor(j / 4) === a.cols[n];
        expect(a.images[(n * 16 + i) * 16 + j]).toBe(on ? 2 : 0);
      }
    }
    expect(a.grid).toBe(4);
  });
  it('covers every grid cell given enough images', () => {
    const s = markedPatchTask(400, 8, 4, new Rng(1));
    const cells = new Set(Array.from(s.rows, (r, i) => r * 2 + s.cols[i]!));
    expect(cells.size).toBe(4);
  });
  it('names a size that is not a multiple of the patch size', () => {
    expect(() => markedPatchTask(1, 10, 4, new Rng(0))).toThrow(/size 10 is not a multiple of the patch size 4/);
  });
});
