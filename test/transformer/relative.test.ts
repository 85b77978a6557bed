import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {Params} from '../../lib/core/params';
import {Rng} from '../../lib/core/rng';
import {applyRope, initRelativeBias, relativeAttention, relativeIndex, relativePositionBias} from '../../lib/transformer/relative';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('RoPE', () => {
  it('rotates a 2-D vector by position × 1 rad (hand values, θ_0 = 1)', async () => {
    // rows at positions 0, 1, 2: [1, 0] → [1, 0]; [1, 0] → [cos 1, sin 1]; [0, 1] → [−sin 2, cos 2]
    const y = applyRope(tf.tensor2d([[1, 0], [1, 0], [0, 1]]));
    await expectAllClose(y, [[1, 0], [Math.cos(1), Math.sin(1)], [-Math.sin(2), Math.cos(2)]], 1e-6);
    // offset shifts the positions: the single row [1, 0] at position 3
    await expectAllClose(applyRope(tf.tensor2d([[1, 0]]), {offset: 3}), [[Math.cos(3), Math.sin(3)]], 1e-6);
  });
  it('uses θ_i = base^(−2i/D) for pair i (hand value, D = 4, base 100)', async () => {
    // pair 1 has θ = 100^(−2/4) = 0.1; at position 2 the angle is 0.2
    const y = applyRope(tf.tensor2d([[0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0]]), {base: 100});
    await expectAllClose(y.slice([2, 0], [1, 4]), [[0, 0, Math.cos(0.2), Math.sin(0.2)]], 1e-6);
  });
  it('preserves the norm of every vector', () => {
    const x = tf.randomNormal([2, 3, 7, 8], 0, 1, 'float32', 1);
    const before = tf.norm(x, 'euclidean', -1).arraySync() as number[][][];
    const after = tf.norm(applyRope(x), 'euclidean', -1).arraySync() as number[][][];
    const flatA = before.flat(2), flatB = after.flat(2);
    flatA.forEach((n, i) => expect(flatB[i]).toBeCloseTo(n, 5));
    // and it changes the vectors (not the identity) away from position 0
    expect(Math.abs((applyRope(x).sub(x).abs().max().arraySync() as number))).toBeGreaterThan(0.1);
  });
  it('makes q·k depend only on the offset n − m', () => {
    const D = 8, T = 12;
    const q = tf.randomNormal([1, D], 0, 1, 'float32', 2), k = tf.randomNormal([1, D], 0, 1, 'float32', 3);
    // the same q at every position and the same k at every position
    const Q = applyRope(tf.tile(q, [T, 1])), K = applyRope(tf.tile(k, [T, 1]));
    const S = tf.matMul(Q, K, false, true).arraySync() as number[][];
    for (let m = 0; m < T; m++) for (let n = 0; n < T; n++) {
      // S[m][n] equals S[0][n − m] (offsets ≥ 0) or S[m − n][0]
      const ref = n >= m ? S[0]![n - m]! : S[m - n]![0]!;
      expect(S[m]![n]!).toBeCloseTo(ref, 4);
    }
    // without RoPE the scores are all equal; with it they vary with the offset
    expect(Math.abs(S[0]![1]! - S[0]![5]!)).toBeGreaterThan(1e-3);
  });
  it('keeps gradients and leaks no tensor; rejects an odd feature size by name', () => {
    const x = tf.randomNormal([2, 4, 6]);
    const g = tf.grad((t: tf.Tensor) => applyRope(t).square().sum())(x);
    // the rotation is orthogonal: d/dx ‖R x‖² = 2x
    expect((g.sub(x.mul(2)).abs().max().arraySync() as number)).toBeLessThan(1e-4);
    expectNoLeak(() => applyRope(x));
    expect(() => applyRope(tf.zeros([3, 5]))).toThrow(/last dimension must be even/);
  });
});

describe('learned relative position bias', () => {
  it('indexes the table by the clipped offset (hand values)', () => {
    // Tq = Tk = 4, maxDistance 2: offsets n − m clipped to [−2, 2], shifted by 2
    expect(Array.from(relativeIndex(4, 4, 2))).toEqual([2, 3, 4, 4, 1, 2, 3, 4, 0, 1, 2, 3, 0, 0, 1, 2]);
    // a query at position 3 of 4 keys (incremental decoding)
    expect(Array.from(relativeIndex(1, 4, 2, 3))).toEqual([0, 0, 1, 2]);
  });
  it('gives a Toeplitz bias matrix per head, with the table’s values', () => {
    const params: Params = {};
    initRelativeBias(params, 'rel', 3, 2, new Rng(0));
    const table = params['rel.weight']!.arraySync() as number[][];
    const b = relativePositionBias(params, 'rel', 6, 6);
    expect(b.shape).toEqual([3, 6, 6]);
    const B = b.arraySync() as number[][][];
    for (let h = 0; h < 3; h++) for (let m = 0; m < 6; m++) for (let n = 0; n < 6; n++) {
      if (m > 0 && n > 0) expect(B[h]![m]![n]).toBe(B[h]![m - 1]![n - 1]);   // constant along diagonals
      expect(B[h]![m]![n]).toBe(table[Math.max(-2, Math.min(2, n - m)) + 2]![h]);
    }
    for (const k in params) params[k]!.dispose();
  });
  it('passes gradients to the table: each entry gets the sum of the score gradients on its diagonals', async () => {
    const params: Params = {};
    initRelativeBias(params, 'rel', 1, 1, new Rng(0));
    // loss = Σ bias ⊙ W with W[m][n] = 1 + 3m + n over a 3×3 matrix
    const W = tf.tensor3d([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]);
    const {grads} = tf.variableGrads(() => relativePositionBias(params, 'rel', 3, 3).mul(W).sum() as tf.Scalar);
    // offset −1 (clipped): (1,0),(2,0),(2,1) → 4 + 7 + 8; 0: 1 + 5 + 9; +1: (0,1),(0,2),(1,2) → 2 + 3 + 6
    await expectAllClose(grads[params['rel.weight']!.name]!, [[19], [15], [11]], 1e-6);
    tf.dispose(grads);
    for (const k in params) params[k]!.dispose();
  });
  it('relativeAttention adds the bias to the scores (hand case: zero queries → softmax of the bias) and leaks nothing', async () => {
    const params: Params = {};
    initRelativeBias(params, 'rel', 1, 1, new Rng(0));
    params['rel.weight']!.assign(tf.tensor2d([[0], [0], [Math.log(3)]]));
    const q = tf.zeros([1, 1, 2, 2]) as tf.Tensor4D, k = tf.randomNormal([1, 1, 2, 2]) as tf.Tensor4D;
    const v = tf.tensor4d([[[[1, 0], [0, 1]]]]);
    const bias = relativePositionBias(params, 'rel', 2, 2);
    const {weights, output} = relativeAttention(q, k, v, {bias, rope: true});
    // row 0: bias [0, ln 3] → [1/4, 3/4]; row 1: bias [0, 0] → [1/2, 1/2]
    await expectAllClose(weights, [[[[0.25, 0.75], [0.5, 0.5]]]], 1e-6);
    await expectAllClose(output, [[[[0.25, 0.75], [0.5, 0.5]]]], 1e-6);
    const mask = tf.tensor2d([[1, 0], [1, 1]]);
    expectNoLeak(() => relativeAttention(q, k, v, {bias, rope: true, mask}));
    const masked = relativeAttention(q, k, v, {bias, mask});
    await expectAllClose(masked.weights, [[[[1, 0], [0.5, 0.5]]]], 1e-6);
    for (const kk in params) params[kk]!.dispose();
  });
});
