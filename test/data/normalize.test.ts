import * as tf from '@tensorflow/tfjs';
import {existsSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {Rng} from '../../lib/core/rng';
import {cutmix, randomCropFlip} from '../../lib/data/augment';
import {epochOrder, gatherBatch} from '../../lib/data/batches';
import {loadCifar10, sharedCopyDir} from '../../lib/data/cifar';
import {CIFAR10_MEAN, CIFAR10_STD, channelStats, fromNormalizedTensor, toNormalizedTensor} from '../../lib/data/normalize';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('channelStats', () => {
  it('matches hand-computed per-channel mean and std on [0, 1]', () => {
    // 2 images of 1×1 pixel: R = 0, 255 → mean 0.5, std 0.5; G = 51, 51 → 0.2, 0; B = 0, 102 → 0.2, 0.2
    const s = channelStats(new Uint8Array([0, 51, 0, 255, 51, 102]), 2);
    expect(s.mean.map((v) => +v.toFixed(10))).toEqual([0.5, 0.2, 0.2]);
    expect(s.std.map((v) => +v.toFixed(10))).toEqual([0.5, 0, 0.2]);
  });
  it('rejects arrays that are not count × S × S × 3', () => {
    expect(() => channelStats(new Uint8Array(10), 2)).toThrow(/10 bytes, not count \(2\)/);
    expect(() => channelStats(new Uint8Array(0), 0)).toThrow(/positive integer/);
  });
});

describe('toNormalizedTensor', () => {
  it('gives (x/255 − mean)/std per channel, shape [N, S, S, 3], float32', async () => {
    const img = new Uint8Array(2 * 4 * 4 * 3).map((_, i) => (i * 37) % 256);
    const mean = [0.1, 0.5, 0.9], std = [0.2, 0.25, 0.5];
    const t = toNormalizedTensor(img, 2, mean, std);
    expect(t.shape).toEqual([2, 4, 4, 3]);
    expect(t.dtype).toBe('float32');
    await expectAllClose(t, Array.from(img, (v, i) => (v / 255 - mean[i % 3]!) / std[i % 3]!), 1e-6);
    expect(Array.from(await fromNormalizedTensor(t, mean, std))).toEqual(Array.from(img));
    t.dispose();
  });
  it('does not leak tensors', () => {
    expectNoLeak(() => toNormalizedTensor(new Uint8Array(3 * 32 * 32 * 3), 3));
  });
  it('a whole augmented batch (gather, crop/flip, cutmix, normalise) leaves only the tensors it returns', () => {
    const n = 20, set = {images: new Uint8Array(n * 3072).map((_, i) => i % 256), labels: Uint8Array.from({length: n}, (_, i) => i % 10), count: n};
    const rng = new Rng(1);
    expectNoLeak(() => {
      const b = gatherBatch(set, epochOrder(n, rng).subarray(0, 8));
      const m = cutmix(randomCropFlip(b.images, b.count, rng), b.labels, b.count, rng);
      const x = toNormalizedTensor(m.images, b.count), y = tf.tensor2d(m.labels, [b.count, 10]);
      expect(x.shape).toEqual([8, 32, 32, 3]);
      return [x, y];
    });
  });
  it('rejects bad statistics', () => {
    expect(() => toNormalizedTensor(new Uint8Array(12), 1, [0, 0], [1, 1])).toThrow(/need 3 values/);
    expect(() => toNormalizedTensor(new Uint8Array(12), 1, [0, 0, 0], [1, 0, 1])).toThrow(/std must be positive/);
  });
});

const dir = process.env.CIFAR10_DIR || sharedCopyDir();
const present = existsSync(join(dir, 'test_batch.bin')) || dir.endsWith('.tar.gz');
describe.skipIf(!present)(present ? 'CIFAR10_MEAN / CIFAR10_STD' : `CIFAR10_MEAN / CIFAR10_STD (SKIPPED: no data at ${dir})`, () => {
  it('equal the statistics recomputed from the train split (to 5 decimals)', async () => {
    const d = await loadCifar10({dir, cacheDir: mkdtempSync(join(tmpdir(), 'norm-')), download: false});
    const s = channelStats(d.train.images, d.train.count);
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(s.mean[c]! - CIFAR10_MEAN[c]!), `mean[${c}] = ${s.mean[c]}`).toBeLessThan(1e-5);
      expect(Math.abs(s.std[c]! - CIFAR10_STD[c]!), `std[${c}] = ${s.std[c]}`).toBeLessThan(1e-5);
    }
    // the normalised train set has mean ≈ 0 and std ≈ 1 per channel (checked on the first 500 images)
    const x = toNormalizedTensor(d.train.images.subarray(0, 500 * 3072), 500);
    const {mean, variance} = tf.moments(x, [0, 1, 2]);
    const m = await mean.data(), v = await variance.data();
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(m[c]!)).toBeLessThan(0.05);
      expect(Math.abs(Math.sqrt(v[c]!) - 1)).toBeLessThan(0.05);
    }
    tf.dispose([x, mean, variance]);
  });
});
