import {describe, expect, it} from 'vitest';
import {makeMosaics, mosaicLabelNames} from '../../lib/data/mosaic';

/** n images of side S whose pixel (y, x, c) is (17·i + 5·y + 3·x + 80·c) mod 256, labels i mod 10. */
function source(n: number, S: number) {
  const images = new Uint8Array(n * S * S * 3);
  for (let i = 0; i < n; i++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) {
    images[((i * S + y) * S + x) * 3 + c] = (17 * i + 5 * y + 3 * x + 80 * c) % 256;
  }
  return {images, labels: Uint8Array.from({length: n}, (_, i) => i % 10), count: n};
}
const px = (img: Uint8Array, side: number, m: number, y: number, x: number, c: number) => img[((m * side + y) * side + x) * 3 + c]!;

describe('makeMosaics', () => {
  it('copies the four sources into the four tiles (no downsampling) and labels the set of their classes', () => {
    const src = source(12, 4);
    const set = makeMosaics(src, 5, {seed: 1, downsample: false});
    expect(set.side).toBe(8);
    for (let m = 0; m < 5; m++) {
      for (let q = 0; q < 4; q++) {
        const s = set.sources[m * 4 + q]!, oy = (q >> 1) * 4, ox = (q & 1) * 4;
        for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) {
          expect(px(set.images, 8, m, oy + y, ox + x, c)).toBe((17 * s + 5 * y + 3 * x + 80 * c) % 256);
        }
      }
      const want = new Set(Array.from(set.sources.subarray(m * 4, m * 4 + 4), s => src.labels[s]!));
      const got = Array.from(set.targets.subarray(m * 10, m * 10 + 10)).flatMap((v, c) => (v === 1 ? [c] : []));
      expect(got).toEqual([...want].sort((a, b) => a - b));
      expect(set.targets.subarray(m * 10, m * 10 + 10).every(v => v === 0 || v === 1)).toBe(true);
    }
  });
  it('downsamples each tile by rounded 2×2 means, keeping the source side (hand value)', () => {
    const src = source(3, 4);
    const set = makeMosaics(src, 2, {seed: 5});
    expect(set.side).toBe(4);
    expect(set.images.length).toBe(2 * 4 * 4 * 3);
    // top-right tile, pixel (0, 1) of the mosaic ← source block rows 0–1, cols 0–1, channel 2
    const s = set.sources[1]!, v = (y: number, x: number) => (17 * s + 5 * y + 3 * x + 160) % 256;
    expect(px(set.images, 4, 0, 0, 2, 2)).toBe((v(0, 0) + v(0, 1) + v(1, 0) + v(1, 1) + 2) >> 2);
  });
  it('is deterministic in the seed, and draws every source image', () => {
    const src = source(20, 4);
    const a = makeMosaics(src, 200, {seed: 3}), b = makeMosaics(src, 200, {seed: 3}), c = makeMosaics(src, 200, {seed: 4});
    expect(a.images).toEqual(b.images);
    expect(a.targets).toEqual(b.targets);
    expect(a.sources).not.toEqual(c.sources);
    expect(new Set(a.sources).size).toBe(20);
    // 4 draws from 10 equally likely classes: E[#classes] = 10·(1 − 0.9⁴) = 3.439
    const mean = a.targets.reduce((s, t) => s + t, 0) / a.count;
    expect(mean).toBeGreaterThan(3.2);
    expect(mean).toBeLessThan(3.7);
  });
  it('names the classes of a mosaic and rejects bad input by name', () => {
    const src = source(4, 4);
    const set = makeMosaics(src, 1, {seed: 0});
    const names = 'airplane automobile bird cat deer dog frog horse ship truck'.split(' ');
    expect(mosaicLabelNames(set, 0, names)).toEqual([...new Set(Array.from(set.sources, s => names[s % 10]!))].sort((x, y) => names.indexOf(x) - names.indexOf(y)));
    expect(() => makeMosaics({...src, labels: [0, 1, 2, 12]}, 1, {seed: 0})).toThrow(/label 12 of image 3 is not a class in \[0, 10\)/);
    expect(() => makeMosaics(source(2, 3), 1, {seed: 0})).toThrow(/even image side/);
    expect(() => makeMosaics({images: new Uint8Array(10), labels: [0], count: 1}, 1, {seed: 0})).toThrow(/not count \(1\) × S × S × 3/);
  });
});
