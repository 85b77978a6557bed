/**
 * lib/core/conv.ts trains on wasm (no Conv2DBackpropFilter there): conv2d's value and gradients and
 * maxPool2d's against tfjs's cpu tf.conv2d / tf.maxPool, with the native OpenBLAS kernels (the
 * default when built) and without them (COURSE_NATIVE=0's path).
 */
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../lib/backend';
import {nativeKernelsActive} from '../../lib/core/kernel-path';
import {disableNativeKernels, enableNativeKernels, nativeAddonAvailable} from '../../lib/core/native-kernels';
import {checkConvAgainst, checkPoolAgainst, CONV_CASES, convReference, POOL_CASES, poolReference, Ref} from './conv.shared';

let convRefs: Ref[] = [];
let poolRefs: ReturnType<typeof poolReference>[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  convRefs = CONV_CASES.map((c, i) => convReference(c, 100 + 10 * i));
  poolRefs = POOL_CASES.map((c, i) => poolReference(c, 300 + 10 * i));
  await initBackend('wasm');
});
afterAll(() => { if (process.env.COURSE_NATIVE !== '0') enableNativeKernels(); });

describe('tf.conv2d has no filter gradient on wasm (why lib/core/conv.ts exists)', () => {
  it('tf.grad of tf.conv2d w.r.t. the filter throws on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 0)))(tf.ones([3, 3, 1, 1]))).toThrow(/Conv2DBackpropFilter/);
    x.dispose();
  });
});

for (const native of [true, false]) {
  describe(`conv2d and maxPool2d on wasm, native kernels ${native ? 'on' : 'off'} = tf.conv2d / tf.maxPool on cpu`, () => {
    beforeAll(() => {
      if (native) enableNativeKernels(); else disableNativeKernels();
    });
    it('uses the path asked for', () => {
      expect(tf.getBackend()).toBe('wasm');
      expect(nativeKernelsActive()).toBe(native && nativeAddonAvailable() && process.env.COURSE_NATIVE !== '0');
    });
    CONV_CASES.forEach((c, i) => it(`conv2d ${c.name}`, () => checkConvAgainst(c, convRefs[i]!)));
    POOL_CASES.forEach((c, i) => it(`maxPool2d ${c.name}`, () => checkPoolAgainst(c, poolRefs[i]!)));
  });
}

describe('tf.maxPool\'s gradient on wasm is wrong (why maxPool2d is a running maximum of window views)', () => {
  it('2x2 stride 2: wasm MaxPoolGrad differs from cpu; maxPool2d matches cpu (above)', () => {
    const c = POOL_CASES[1]!, ref = poolRefs[1]!;
    const dx = tf.tidy(() => {
      const x = tf.tensor4d(ref.xs, c.x as [number, number, number, number]), r = tf.tensor(ref.rs, ref.yShape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.k, c.s, c.p), r)))(x).dataSync();
    });
    let d = 0;
    for (let i = 0; i < dx.length; i++) d = Math.max(d, Math.abs(dx[i]! - ref.dx[i]!));
    expect(d).toBeGreaterThan(0.1); // if tfjs fixes it, maxPool2d may go back to tf.maxPool
  });
});
