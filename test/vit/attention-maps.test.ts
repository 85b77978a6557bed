import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {attentionRollout, clsAttention, clsAttentionEntropy, clsRollout, meanAttentionDistance, patchDistances} from '../../lib/vit/attention-maps';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('attention rollout (Abnar & Zuidema 2020)', () => {
  // two layers, two heads, T = 2; head means: A1 = [[1, 0], [.5, .5]], A2 = [[.5, .5], [0, 1]]
  const A1 = tf.tensor4d([[[[1, 0], [1, 0]], [[1, 0], [0, 1]]]]);
  const A2 = tf.tensor4d([[[[1, 0], [0, 1]], [[0, 1], [0, 1]]]]);

  it('equals the hand-computed product (0.5·I + 0.5·Ā2)(0.5·I + 0.5·Ā1)', async () => {
    // Ā1 = [[1, 0], [.25, .75]], Ā2 = [[.75, .25], [0, 1]]  →  Ā2·Ā1 = [[.8125, .1875], [.25, .75]]
    const R = attentionRollout([A1, A2]);
    await expectAllClose(R, [[[0.8125, 0.1875], [0.25, 0.75]]], 1e-6);
    R.dispose();
  });

  it('with residual 0 is the plain product of the head-averaged maps; one layer is Ā itself', async () => {
    const R0 = attentionRollout([A1, A2], {residual: 0});
    await expectAllClose(R0, [[[0.75, 0.25], [0.5, 0.5]]], 1e-6); // [[.5,.5],[0,1]]·[[1,0],[.5,.5]]
    const R1 = attentionRollout([A1]);
    await expectAllClose(R1, [[[1, 0], [0.25, 0.75]]], 1e-6);
    tf.dispose([R0, R1]);
  });

  it('max head fusion is re-normalised so rows still sum to 1', async () => {
    const R = attentionRollout([A2], {headFusion: 'max'}); // max = [[1, 1], [0, 1]] → 0.5I + 0.5·max = [[1, .5], [0, 1]] → rows [2/3, 1/3], [0, 1]
    await expectAllClose(R, [[[2 / 3, 1 / 3], [0, 1]]], 1e-6);
    R.dispose();
  });

  it('clsRollout takes row 0 without the CLS column, on the grid, summing to 1', async () => {
    const R = tf.tensor3d([[[0.2, 0.1, 0.3, 0.2, 0.2], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]]);
    const m = clsRollout(R, [2, 2]);
    await expectAllClose(m, [[[0.125, 0.375], [0.25, 0.25]]], 1e-6);
    tf.dispose([R, m]);
  });

  it('rejects stacks of different shapes with a clear error', () => {
    const bad = tf.zeros([1, 2, 3, 3]);
    expect(() => attentionRollout([A1, bad])).toThrow(/layer 1 weights must be \[B, H, T, T\] like layer 0 \[1,2,2,2\], got \[1,2,3,3\]/);
    expect(() => attentionRollout([])).toThrow(/at least one layer/);
    expect(() => clsAttention([A1], [2, 2])).toThrow(/2 tokens is not CLS \+ a 2x2 grid/);
    bad.dispose();
  });

  it('does not leak', () => expectNoLeak(() => [attentionRollout([A1, A2]), attentionRollout([A1, A2], {headFusion: 'min'})]));
});

describe('CLS attention and mean attention distance', () => {
  it('clsAttention lays row 0 (patch columns) of every layer on the grid', async () => {
    const a = tf.tensor4d(Array.from({length: 25}, (_, i) => i), [1, 1, 5, 5]);
    const c = clsAttention([a, a], [2, 2]);
    expect(c.shape).toEqual([2, 1, 1, 2, 2]);
    await expectAllClose(tf.slice(c, [1], [1]), [1, 2, 3, 4], 0);
    c.dispose(); a.dispose();
  });

  it('patch distances are P·Euclidean distances of grid cells', async () => {
    const d = patchDistances(2, 2, 4);
    await expectAllClose(d, [[0, 4, 4, 4 * Math.SQRT2], [4, 0, 4 * Math.SQRT2, 4], [4, 4 * Math.SQRT2, 0, 4], [4 * Math.SQRT2, 4, 4, 0]], 1e-5);
    d.dispose();
  });

  it('equals the hand-computed value (CLS dropped, rows re-normalised)', async () => {
    // grid 1x2, P = 4. Head 0: patch 0 → [cls .5, p0 .25, p1 .25] → [.5, .5] → 2 px; patch 1 → p1 only → 0. Mean 1.
    // Head 1: patch 0 → p1 (4 px), patch 1 → p0 (4 px). Mean 4.
    const attn = tf.tensor4d([[[[1, 0, 0], [0.5, 0.25, 0.25], [0, 0, 1]], [[1, 0, 0], [0, 0, 1], [0, 1, 0]]]]);
    const d = meanAttentionDistance(attn, [1, 2], 4);
    await expectAllClose(d, [1, 4], 1e-6);
    tf.dispose([attn, d]);
  });
});

describe('CLS attention entropy', () => {
  it('is ln N for uniform attention, 0 for one patch, and the hand value in between', async () => {
    // B = 2 images, H = 2 heads, T = 5 (CLS + 4 patches); only row 0 matters
    const rows = [
      [[0.2, 0.2, 0.2, 0.2, 0.2], [0.6, 0.4, 0, 0, 0]],        // image 1: head 1 uniform, head 2 one patch
      [[0, 0.5, 0.5, 0, 0], [0.5, 0.125, 0.125, 0.125, 0.125]], // image 2: two patches; uniform after re-normalising
    ];
    const a = tf.tensor4d(rows.map(img => img.map(r => [r, ...Array.from({length: 4}, () => [1, 0, 0, 0, 0])])));
    const h = clsAttentionEntropy(a);
    // head 1: (ln 4 + ln 2) / 2, head 2: (0 + ln 4) / 2
    await expectAllClose(h, [(Math.log(4) + Math.log(2)) / 2, Math.log(4) / 2], 1e-6);
    tf.dispose([a, h]);
  });

  it('rejects a stack without patches and does not leak', () => {
    const a = tf.fill([1, 1, 3, 3], 1 / 3);
    expect(() => clsAttentionEntropy(a, 3)).toThrow(/needs a CLS token and patches \(3 tokens, 3 prefix\)/);
    expectNoLeak(() => [clsAttentionEntropy(a)]);
    a.dispose();
  });
});
