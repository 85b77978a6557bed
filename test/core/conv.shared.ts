/**
 * lib/core/conv.ts (im2col + matMul convolution, max-pooling) against tfjs's cpu `tf.conv2d` /
 * `tf.maxPool` and their gradients: the references are computed on the cpu backend (the only tfjs
 * backend here with Conv2DBackpropFilter), then the course formulation runs on the backend under
 * test (cpu in conv.test.ts; wasm with and without the native kernels in conv-wasm.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {expect} from 'vitest';
import {conv2d, maxPool2d} from '../../lib/core/conv';

export interface Case { name: string; x: number[]; f: number[]; stride: number; pad: number }

export const CONV_CASES: Case[] = [
  {name: '3x3, stride 1, pad 1 (same size)', x: [2, 7, 6, 3], f: [3, 3, 3, 5], stride: 1, pad: 1},
  {name: '3x3, stride 2, pad 1 (odd input)', x: [2, 9, 7, 4], f: [3, 3, 4, 6], stride: 2, pad: 1},
  {name: '1x1, stride 1, pad 0', x: [3, 5, 5, 4], f: [1, 1, 4, 2], stride: 1, pad: 0},
  {name: '4x4, stride 4, pad 0 (a patch embedding)', x: [2, 8, 8, 3], f: [4, 4, 3, 7], stride: 4, pad: 0},
  {name: '5x5, stride 3, pad 2', x: [1, 11, 10, 2], f: [5, 5, 2, 3], stride: 3, pad: 2},
  {name: '2x2, stride 2, pad 0 (input not a multiple of the stride)', x: [2, 5, 5, 3], f: [2, 2, 3, 4], stride: 2, pad: 0},
  {name: '3x3, stride 1, pad 1, 16 channels, batch 3 (a CCT stage)', x: [3, 9, 10, 16], f: [3, 3, 16, 8], stride: 1, pad: 1},
  {name: '3x3, stride 2, pad 0, 7 channels, odd sizes', x: [2, 11, 9, 7], f: [3, 3, 7, 5], stride: 2, pad: 0},
  {name: '3x3, stride 1, pad 2 (output larger than the input)', x: [2, 4, 5, 3], f: [3, 3, 3, 2], stride: 1, pad: 2},
];

const rnd = (shape: number[], seed: number) => Array.from(tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync()));

export interface Ref { y: Float32Array; yShape: number[]; dx: Float32Array; df: Float32Array; db: Float32Array; xs: number[]; fs: number[]; bs: number[]; rs: number[] }

/** tf.conv2d + bias on the current backend (call with cpu active): value and the gradients of sum(y · r). */
export function convReference(c: Case, seed: number): Ref {
  const xs = rnd(c.x, seed), fs = rnd(c.f, seed + 1), bs = rnd([c.f[3]!], seed + 2);
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x as [number, number, number, number]), f = tf.tensor4d(fs, c.f as [number, number, number, number]), b = tf.tensor1d(bs);
    const y = tf.add(tf.conv2d(x, f, c.stride, c.pad), b);
    const rs = rnd(y.shape, seed + 3), r = tf.tensor(rs, y.shape);
    const [dx, df, db] = tf.grads((a: tf.Tensor, w: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), bb), r)))([x, f, b]);
    return {y: y.dataSync() as Float32Array, yShape: y.shape, dx: dx!.dataSync() as Float32Array, df: df!.dataSync() as Float32Array, db: db!.dataSync() as Float32Array, xs, fs, bs, rs};
  });
}

export function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(a.length).toBe(ref.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - ref[i]!)); m = Math.max(m, Math.abs(ref[i]!)); }
  return m === 0 ? d : d / m;
}

/** The course conv2d on the current backend: value and gradients of sum(y · r), compared with `ref` at 1e-5 relative; no leaks. */
export function checkConvAgainst(c: Case, ref: Ref): void {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.tensor4d(ref.xs, c.x as [number, number, number, number]), f = tf.tensor4d(ref.fs, c.f as [number, number, number, number]), b = tf.tensor1d(ref.bs);
    const y = conv2d(x, f, b, {stride: c.stride, pad: c.pad});
    expect(y.shape).toEqual(ref.yShape);
    const r = tf.tensor(ref.rs, y.shape);
    const [dx, df, db] = tf.grads((a: tf.Tensor, w: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(conv2d(a, w, bb, {stride: c.stride, pad: c.pad}), r)))([x, f, b]);
    expect(maxRelErr(y.dataSync(), ref.y), `${c.name}: output`).toBeLessThan(1e-5);
    expect(maxRelErr(dx!.dataSync(), ref.dx), `${c.name}: d/dx`).toBeLessThan(1e-5);
    expect(maxRelErr(df!.dataSync(), ref.df), `${c.name}: d/dfilter`).toBeLessThan(1e-5);
    expect(maxRelErr(db!.dataSync(), ref.db), `${c.name}: d/dbias`).toBeLessThan(1e-5);
  });
  expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
}

export const POOL_CASES: {name: string; x: number[]; k: number; s: number; p: number; ties?: boolean}[] = [
  {name: '3x3 stride 2 pad 1 (CCT)', x: [2, 8, 8, 3], k: 3, s: 2, p: 1},
  {name: '2x2 stride 2 pad 0', x: [2, 6, 6, 4], k: 2, s: 2, p: 0},
  {name: '3x3 stride 2 pad 1, odd input', x: [1, 7, 5, 2], k: 3, s: 2, p: 1},
  {name: '3x3 stride 2 pad 1, 16 channels, batch 3, odd sizes', x: [3, 9, 11, 16], k: 3, s: 2, p: 1},
  {name: '3x3 stride 1 pad 1 (overlapping windows)', x: [2, 5, 6, 5], k: 3, s: 1, p: 1},
  {name: '3x3 stride 2 pad 1 on ReLU-like input with ties (the first maximum in window order gets dy)', x: [2, 7, 8, 9], k: 3, s: 2, p: 1, ties: true},
];

export function poolReference(c: typeof POOL_CASES[number], seed: number) {
  // ties: max(0, round(x)) — many equal values per window, as after a ReLU
  const xs = c.ties ? rnd(c.x, seed).map((v) => Math.max(0, Math.round(v))) : rnd(c.x, seed);
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x as [number, number, number, number]);
    const y = tf.maxPool(x, c.k, c.s, c.p);
    const rs = rnd(y.shape, seed + 1), r = tf.tensor(rs, y.shape);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.k, c.s, c.p), r)))(x);
    return {xs, rs, y: y.dataSync() as Float32Array, yShape: y.shape, dx: dx.dataSync() as Float32Array};
  });
}

export function checkPoolAgainst(c: typeof POOL_CASES[number], ref: ReturnType<typeof poolReference>): void {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.tensor4d(ref.xs, c.x as [number, number, number, number]);
    const y = maxPool2d(x, c.k, c.s, c.p);
    expect(y.shape).toEqual(ref.yShape);
    const r = tf.tensor(ref.rs, y.shape);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPool2d(a, c.k, c.s, c.p), r)))(x);
    expect(maxRelErr(y.dataSync(), ref.y), `${c.name}: output`).toBeLessThan(1e-6);
    expect(maxRelErr(dx.dataSync(), ref.dx), `${c.name}: d/dx`).toBeLessThan(1e-6);
  });
  expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
}
