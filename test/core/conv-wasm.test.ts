/**
 * lib/core/conv.ts trains on wasm (no Conv2DBackpropFilter there): conv2d's value and gradients and
 * maxPool2d's against tfjs's cpu tf.conv2d / tf.maxPool, with the native OpenBLAS kernels (the
 * default when built) and without them (COURSE_NATIVE=0's path).
 */
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../lib/backend';
import {conv2d, im2col, maxPool2d, stockForward} from '../../lib/core/conv';
import {ConvAddon, CONV_ADDON_VERSION} from '../../lib/core/conv-kernels';
import {nativeKernelsActive} from '../../lib/core/kernel-path';
import {disableNativeKernels, enableNativeKernels, nativeAddonAvailable, NATIVE_ADDON_PATH, nativeThreads, setThreads} from '../../lib/core/native-kernels';
import {checkConvAgainst, checkPoolAgainst, CONV_CASES, convReference, maxRelErr, POOL_CASES, poolReference, Ref} from './conv.shared';

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
      expect(nativeKernelsActive()).toBe(native && nativeAddonAvailable()); // both paths even under COURSE_NATIVE=0 (enabled explicitly here)
    });
    CONV_CASES.forEach((c, i) => it(`conv2d ${c.name}`, () => checkConvAgainst(c, convRefs[i]!)));
    POOL_CASES.forEach((c, i) => it(`maxPool2d ${c.name}`, () => checkPoolAgainst(c, poolRefs[i]!)));
  });
}

describe('plain wasm (no native kernels): inference runs tfjs\'s Conv2D / MaxPool, a recorded forward the composed views', () => {
  beforeAll(() => disableNativeKernels());
  afterAll(() => { if (process.env.COURSE_NATIVE !== '0') enableNativeKernels(); });
  // the conv tokenizer's stage (conv 3x3 pad 1 + bias → ReLU → max-pool 3/2/1), odd sizes
  const stage = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => maxPool2d(tf.relu(conv2d(x, f, b, {stride: 1, pad: 1})), 3, 2, 1);
  it('the same values within 1e-5 both ways; the kernels that ran say which path served; no leaks', async () => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([3, 13, 11, 4], 0, 1, 'float32', 21), f = tf.randomNormal([3, 3, 4, 6], 0, 0.5, 'float32', 22), b = tf.randomNormal([6], 0, 1, 'float32', 23);
    expect(stockForward()).toBe(true);
    const inference = await tf.profile(() => tf.tidy(() => stage(x, f, b)));
    const names = inference.kernels.map((k) => k.name);
    expect(names).toEqual(expect.arrayContaining(['Conv2D', 'MaxPool']));
    expect(names).not.toContain('Slice');
    let recorded: Float32Array | undefined;
    const dx = tf.grad((a: tf.Tensor) => {
      expect(stockForward()).toBe(false);                 // the tape is on: the formulation wasm can differentiate
      const y = stage(a, f, b);
      recorded = y.dataSync() as Float32Array;
      return tf.sum(y);
    })(x);
    const y = tf.tidy(() => stage(x, f, b));
    expect(y.shape).toEqual([3, 7, 6, 6]);
    expect(maxRelErr(y.dataSync() as Float32Array, recorded!)).toBeLessThan(1e-5);
    [y, dx, inference.result as tf.Tensor].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before + 3);
    // the kernels a training step runs (tf.profile of a gradient keeps a tensor of its own: no leak check here)
    const prof = await tf.profile(() => tf.grad((a: tf.Tensor) => tf.sum(stage(a, f, b)))(x));
    const kernels = prof.kernels.map((k) => k.name);
    expect(kernels).toContain('Slice');
    expect(kernels).not.toContain('Conv2D');
    [x, f, b, prof.result as tf.Tensor].forEach((t) => t.dispose());
  });
  it('the native kernels, when on, serve both (stockForward is false)', () => {
    enableNativeKernels();
    expect(stockForward()).toBe(!nativeAddonAvailable());
    disableNativeKernels();
  });
});

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

describe.skipIf(!nativeAddonAvailable() && process.env.CI !== 'true')('the native conv kernels (course_conv.c) = the composed path they replace', () => {
  afterAll(() => { if (process.env.COURSE_NATIVE !== '0') enableNativeKernels(); else disableNativeKernels(); });
  // a CCT tokenizer at a small size: (conv 3x3 pad 1 → ReLU → max-pool 3/2/1) × 2, odd image side
  const tokenizer = (x: tf.Tensor, f1: tf.Tensor, f2: tf.Tensor) => {
    const a = maxPool2d(tf.relu(conv2d(x, f1, undefined, {stride: 1, pad: 1})), 3, 2, 1);
    return maxPool2d(tf.relu(conv2d(a, f2, undefined, {stride: 1, pad: 1})), 3, 2, 1);
  };
  const run = (native: boolean) => {
    if (native) expect(enableNativeKernels().active).toBe(true); else disableNativeKernels();
    return tf.tidy(() => {
      const x = tf.randomNormal([3, 17, 15, 3], 0, 1, 'float32', 1), f1 = tf.randomNormal([3, 3, 3, 16], 0, 0.5, 'float32', 2);
      const f2 = tf.randomNormal([3, 3, 16, 24], 0, 0.3, 'float32', 3), w = tf.randomNormal([3, 5, 4, 24], 0, 1, 'float32', 4);
      const y = tokenizer(x, f1, f2);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tokenizer(a, b, c), w)))([x, f1, f2]);
      const cols = im2col(x, 3, 2, 1).cols;
      return [y, ...grads, cols].map((t) => t.dataSync() as Float32Array);
    });
  };
  it('a two-stage conv tokenizer: value and the gradients for the image and both filters within 1e-5, im2col bit for bit, no leaks', () => {
    const before = tf.memory().numTensors;
    const composed = run(false), native = run(true);
    ['output', 'd/dimage', 'd/dfilter1', 'd/dfilter2'].forEach((what, i) => expect(maxRelErr(native[i]!, composed[i]!), what).toBeLessThan(1e-5));
    expect(Array.from(native[4]!)).toEqual(Array.from(composed[4]!));
    expect(tf.memory().numTensors).toBe(before);
  });
  it('the same numbers bit for bit on 1, 2 and 3 threads (the kernels split the batch by image, by size only)', () => {
    expect(enableNativeKernels().active).toBe(true);
    const before = nativeThreads();
    const outs = [1, 2, 3].map((t) => {
      setThreads(t);
      return tf.tidy(() => {
        const x = tf.randomNormal([40, 12, 11, 64], 0, 1, 'float32', 7), dy = tf.randomNormal([40, 6, 6, 64], 0, 1, 'float32', 8); // 5 chunks of 8 images
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPool2d(tf.relu(a), 3, 2, 1), dy)))(x);
        const cols = im2col(x, 3, 1, 1).cols;
        const dcols = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(im2col(a, 3, 2, 1).cols, 1.5)))(x);
        return [maxPool2d(x, 3, 2, 1), dx, cols, dcols, tf.relu(tf.reshape(x, [-1]))].map((t) => Array.from(t.dataSync()));
      });
    });
    setThreads(before);
    for (const o of outs.slice(1)) o.forEach((a, i) => expect(a, `output ${i}`).toEqual(outs[0]![i]));
  });
  it('ReLU and its gradient (native) = the stock wasm kernels bit for bit: negatives, zeros, NaN, ±inf; int32 stays stock', () => {
    const before = tf.memory().numTensors;
    const vals = [-2, -0, 0, 1e-30, 3.5, NaN, Infinity, -Infinity, ...Array.from({length: 37}, (_, i) => Math.sin(i) * 3)];
    const dys = vals.map((_, i) => (i % 3) - 0.5);
    const run = (native: boolean) => {
      if (native) expect(enableNativeKernels().active).toBe(true); else disableNativeKernels();
      return tf.tidy(() => {
        const x = tf.tensor1d(vals), dy = tf.tensor1d(dys);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x);
        return [tf.relu(x), dx, tf.relu(tf.tensor1d([-3, 0, 4], 'int32'))].map((t) => Array.from(t.dataSync()));
      });
    };
    const stock = run(false), native = run(true);
    expect(native).toEqual(stock);
    expect(native[0]!.slice(0, 8)).toEqual([0, 0, 0, 1e-30, 3.5, NaN, Infinity, 0].map((v) => Math.fround(v)));
    expect(native[2]).toEqual([0, 0, 4]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('runs as the native kernels when they are on (one kernel per direction), and as slices/maximum when off', async () => {
    const x = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 5), f = tf.randomNormal([3, 3, 4, 6], 0, 1, 'float32', 6);
    const kernels = async () => (await tf.profile(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(maxPool2d(tf.relu(conv2d(a, b, undefined, {pad: 1})), 3, 2, 1)))([x, f]);
      tf.dispose(g);
    })).kernels.map((k) => k.name);
    expect(enableNativeKernels().active).toBe(true);
    const on = await kernels();
    for (const k of ['CourseIm2Col', 'CourseCol2Im', 'CourseMaxPool', 'CourseMaxPoolGrad', 'CourseReluGrad']) expect(on, k).toContain(k);
    expect(on).not.toContain('Maximum');
    expect(on).not.toContain('Step');
    disableNativeKernels();
    const off = await kernels();
    expect(off).toContain('Maximum');
    expect(off).toContain('Step');
    expect(off.filter((k) => k.startsWith('Course'))).toEqual([]);
    tf.dispose([x, f]);
  });
  it('the addon\'s conv() names a bad op, a wrong argument list and operands outside the heap', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(NATIVE_ADDON_PATH) as Required<ConvAddon>;
    expect(addon.convVersion).toBe(CONV_ADDON_VERSION);
    const heap = new ArrayBuffer(1024), g = [1, 4, 4, 2, 3, 1, 1, 4, 4];
    expect(() => addon.conv(heap, 7, [0, 128], g)).toThrow('course_conv.conv: op must be 0..5');
    expect(() => addon.conv(heap, 4, [0, 128], g)).toThrow('wrong number of offsets or sizes');        // ReLU takes [n]
    expect(() => addon.conv(heap, 4, [0, 900], [64])).toThrow('operands outside the heap');
    expect(() => addon.conv(heap, 4, [0, 256], [64])).not.toThrow();
    expect(() => (addon.conv as (...a: unknown[]) => void)(heap, 0)).toThrow('course_conv.conv: expected (heap, op, offsets, sizes)');
    expect(() => addon.conv(new Uint8Array(8) as unknown as ArrayBuffer, 0, [0, 128], g)).toThrow('heap must be an ArrayBuffer');
    expect(() => addon.conv(heap, 0, [0], g)).toThrow('wrong number of offsets or sizes');
    expect(() => addon.conv(heap, 0, [0, 128], g)).toThrow('operands outside the heap');   // cols: 16 rows x 18 floats
    expect(() => addon.conv(heap, 2, [0, 128, 256], g)).not.toThrow();                    // max-pool: 32 floats in, 32 out, 32 int32
  });
});
