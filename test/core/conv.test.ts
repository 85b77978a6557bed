/** lib/core/conv.ts on the cpu backend: im2col by hand, conv2d and maxPool2d against tf.conv2d / tf.maxPool and their gradients, errors. */
import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {conv2d, im2col, maxPool2d} from '../../lib/core/conv';
import {checkConvAgainst, checkPoolAgainst, CONV_CASES, convReference, POOL_CASES, poolReference} from './conv.shared';

describe('im2col (cpu)', () => {
  it('lays out every 2x2 window of a 3x3 image as a row, columns (row, column, channel)', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const {cols, outH, outW} = im2col(x, 2);
    expect([outH, outW]).toEqual([2, 2]);
    expect(cols.arraySync()).toEqual([[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]);
    tf.dispose([x, cols]);
  });
  it('pads with zeros and takes strides: 3x3 image, k 3, stride 2, pad 1 → 2x2 windows', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const {cols, outH, outW} = im2col(x, 3, 2, 1);
    expect([outH, outW]).toEqual([2, 2]);
    expect(cols.arraySync()).toEqual([
      [0, 0, 0, 0, 1, 2, 0, 4, 5], [0, 0, 0, 2, 3, 0, 5, 6, 0],
      [0, 4, 5, 0, 7, 8, 0, 0, 0], [5, 6, 0, 8, 9, 0, 0, 0, 0]]);
    tf.dispose([x, cols]);
  });
  it('keeps channels innermost: 2 channels, 1x1 kernel is a reshape', () => {
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const {cols} = im2col(x, 1);
    expect(cols.arraySync()).toEqual([[1, 10], [2, 20], [3, 30], [4, 40]]);
    tf.dispose([x, cols]);
  });
});

describe('conv2d by im2col + matMul = tf.conv2d on cpu (value and the gradients for x, filter and bias, 1e-5 relative)', () => {
  CONV_CASES.forEach((c, i) => it(c.name, () => checkConvAgainst(c, convReference(c, 100 + 10 * i))));
  it('hand-computed: a 2x2 all-ones filter sums each window, plus the bias', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = conv2d(x, tf.ones([2, 2, 1, 1]), tf.tensor1d([0.5]));
    expect(Array.from(y.dataSync())).toEqual([12.5, 16.5, 24.5, 28.5]);
    tf.dispose([x, y]);
  });
});

describe('maxPool2d = tf.maxPool on cpu (PyTorch output size; padded cells never win)', () => {
  POOL_CASES.forEach((c, i) => it(c.name, () => checkPoolAgainst(c, poolReference(c, 300 + 10 * i))));
  it('all-negative input with padding 1: the maximum is a real value, not the zero padding', () => {
    const x = tf.neg(tf.add(tf.range(0, 16), 1).reshape([1, 4, 4, 1]));
    const y = maxPool2d(x, 3, 2, 1);
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.dataSync())).toEqual([-1, -2, -5, -6]);
    tf.dispose([x, y]);
  });
});

describe('conv errors name the problem', () => {
  it('bad shapes and arguments', () => {
    const x = tf.zeros([1, 4, 4, 3]);
    expect(() => conv2d(tf.zeros([4, 4, 3]), tf.zeros([3, 3, 3, 2]))).toThrow(/conv2d: input must be \[B, H, W, C\], got \[4,4,3\]/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 2]))).toThrow(/expects 2 input channels, the input \[1,4,4,3\] has 3/);
    expect(() => conv2d(x, tf.zeros([3, 2, 3, 2]))).toThrow(/square kernel/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 2]), tf.zeros([3]))).toThrow(/bias must be \[2\], got \[3\]/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 2]), undefined, {stride: 0})).toThrow(/stride must be an integer >= 1 \(got 0\)/);
    expect(() => conv2d(x, tf.zeros([5, 5, 3, 2]))).toThrow(/a 5x5 window does not fit a 4x4 input padded by 0/);
    expect(() => maxPool2d(x, 2, 2, 2)).toThrow(/padding \(2\) must be at most half the kernel size \(2\)/);
    tf.dispose(x);
  });
});
