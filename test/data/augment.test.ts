import {describe, expect, it} from 'vitest';
import {Rng} from '../../lib/core/rng';
import {
  RAND_AUGMENT_OPS, applyOp, augmentationExamples, cutmix, mixup, oneHot, randAugment, randomCropFlip, sampleBeta, sampleGamma, shiftFlipInto,
} from '../../lib/data/augment';

const S = 32, PER = S * S * 3;
/** Images whose every byte is non-zero (1..250), distinct per image, so zero borders are visible. */
function images(count: number, seed = 0): Uint8Array {
  const r = new Rng(seed), a = new Uint8Array(count * PER);
  for (let i = 0; i < a.length; i++) a[i] = 1 + r.int(250);
  return a;
}
const px = (a: Uint8Array, n: number, y: number, x: number, c: number) => a[n * PER + (y * S + x) * 3 + c]!;

/** The reference: what image n looks like shifted by (dy, dx) with zero fill, then maybe mirrored. */
function expected(src: Uint8Array, n: number, dy: number, dx: number, flip: boolean): Uint8Array {
  const out = new Uint8Array(PER);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) {
    const sy = y + dy, sx = (flip ? S - 1 - x : x) + dx;
    out[(y * S + x) * 3 + c] = sy >= 0 && sy < S && sx >= 0 && sx < S ? px(src, n, sy, sx, c) : 0;
  }
  return out;
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('random crop with zero padding + flip', () => {
  it('shiftFlipInto shifts by (dy, dx) with zero borders (hand-checked pixels)', () => {
    const src = images(1), dst = new Uint8Array(PER);
    shiftFlipInto(src, 0, dst, 0, S, 2, -3, false);
    expect(px(dst, 0, 0, 3, 1)).toBe(px(src, 0, 2, 0, 1));
    expect(px(dst, 0, 29, 31, 2)).toBe(px(src, 0, 31, 28, 2));
    expect(px(dst, 0, 30, 10, 0)).toBe(0); // rows 30, 31 come from rows 32, 33: padding
    expect(px(dst, 0, 5, 2, 0)).toBe(0);   // columns 0..2 come from columns -3..-1
    shiftFlipInto(src, 0, dst, 0, S, 0, 0, true);
    expect(px(dst, 0, 7, 0, 0)).toBe(px(src, 0, 7, 31, 0));
  });
  it('every output is its input shifted by at most pad, zero-bordered, maybe mirrored', () => {
    const src = images(40, 1), out = randomCropFlip(src, 40, new Rng(5), 4, true);
    const seen = new Set<string>();
    let flips = 0;
    for (let n = 0; n < 40; n++) {
      const img = out.subarray(n * PER, (n + 1) * PER);
      const hits: string[] = [];
      for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) for (const f of [false, true]) if (same(img, expected(src, n, dy, dx, f))) hits.push(`${dy},${dx},${f}`);
      expect(hits.length, `image ${n} matches exactly one shift/flip`).toBe(1);
      seen.add(hits[0]!.split(',').slice(0, 2).join(','));
      if (hits[0]!.endsWith('true')) flips++;
    }
    expect(seen.size).toBeGreaterThan(20); // offsets vary
    expect(flips).toBeGreaterThan(8);
    expect(flips).toBeLessThan(32);
  });
  it('pad 0 with flip only mirrors (or keeps) each image; mirroring twice is the identity', () => {
    const src = images(20, 2), out = randomCropFlip(src, 20, new Rng(3), 0, true);
    let mirrored = 0;
    for (let n = 0; n < 20; n++) {
      const img = out.subarray(n * PER, (n + 1) * PER);
      if (same(img, expected(src, n, 0, 0, true))) mirrored++;
      else expect(same(img, src.subarray(n * PER, (n + 1) * PER))).toBe(true);
      const back = new Uint8Array(PER);
      shiftFlipInto(expected(src, n, 0, 0, true), 0, back, 0, S, 0, 0, true);
      expect(same(back, src.subarray(n * PER, (n + 1) * PER))).toBe(true);
    }
    expect(mirrored).toBeGreaterThan(3);
    expect(mirrored).toBeLessThan(17);
  });
  it('flip = false never mirrors; pad 0 and no flip is a copy', () => {
    const src = images(5, 4);
    expect(same(randomCropFlip(src, 5, new Rng(1), 0, false), src)).toBe(true);
  });
  it('is deterministic for a seed, differs across seeds, and leaves the input untouched', () => {
    const src = images(8, 6), copy = src.slice();
    const a = randomCropFlip(src, 8, new Rng(42)), b = randomCropFlip(src, 8, new Rng(42)), c = randomCropFlip(src, 8, new Rng(43));
    expect(same(a, b)).toBe(true);
    expect(same(a, c)).toBe(false);
    expect(same(src, copy)).toBe(true);
    const r = new Rng(42), r2 = new Rng(42);
    randomCropFlip(src, 8, r);
    randomCropFlip(src, 8, r2);
    expect(r.getState()).not.toBe(42 >>> 0); // the generator advanced ...
    expect(r2.getState()).toBe(r.getState()); // ... by the same draws (resume-safe)
  });
  it('rejects bad sizes and pads with clear errors', () => {
    expect(() => randomCropFlip(new Uint8Array(100), 1, new Rng(0))).toThrow(/not count \(1\) × S × S × 3/);
    expect(() => randomCropFlip(images(1), 1, new Rng(0), 40)).toThrow(/pad must be an integer in 0\.\.31/);
  });
});

describe('soft labels and Beta sampling', () => {
  it('oneHot with smoothing ε puts 1 − ε + ε/K on the label and ε/K elsewhere', () => {
    const y = oneHot([2, 0], 4, 0.2);
    expect(Array.from(y).map((v) => +v.toFixed(6))).toEqual([0.05, 0.05, 0.85, 0.05, 0.85, 0.05, 0.05, 0.05]);
    expect(() => oneHot([4], 4)).toThrow(/label 4 at 0 is outside 0\.\.3/);
  });
  it('Gamma(a) and Beta(α, β) samples have the right means', () => {
    const r = new Rng(7);
    let g = 0, g2 = 0, b = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) { g += sampleGamma(r, 2.5); g2 += sampleGamma(r, 0.3); b += sampleBeta(r, 2, 5); }
    expect(g / N).toBeCloseTo(2.5, 1);
    expect(Math.abs(g2 / N - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(b / N - 2 / 7)).toBeLessThan(0.01);
  });
});

describe('cutmix', () => {
  const count = 16, src = images(count, 9), labels = Array.from({length: count}, (_, i) => i % 10);
  const r = cutmix(src, labels, count, new Rng(11));
  it('pastes the partner inside the box and keeps the image outside it', () => {
    for (let i = 0; i < count; i++) {
      const [y0, x0, y1, x1] = Array.from(r.boxes!.subarray(i * 4, i * 4 + 4)), j = r.partner[i]!;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) {
        const inside = y >= y0! && y < y1! && x >= x0! && x < x1!;
        expect(px(r.images, i, y, x, c)).toBe(px(src, inside ? j : i, y, x, c));
      }
    }
  });
  it('the label weights equal the box area: λ = 1 − area / S², rows sum to 1', () => {
    let mixed = 0;
    for (let i = 0; i < count; i++) {
      const [y0, x0, y1, x1] = Array.from(r.boxes!.subarray(i * 4, i * 4 + 4));
      const area = (y1! - y0!) * (x1! - x0!), lam = 1 - area / (S * S), j = r.partner[i]!;
      expect(r.lambdas[i]).toBeCloseTo(lam, 6);
      const row = Array.from(r.labels.subarray(i * 10, i * 10 + 10));
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      if (labels[i] !== labels[j]) {
        expect(row[labels[i]!]).toBeCloseTo(lam, 6);
        expect(row[labels[j]!]).toBeCloseTo(1 - lam, 6);
        if (area > 0) mixed++;
      } else expect(row[labels[i]!]).toBeCloseTo(1, 6);
    }
    expect(mixed).toBeGreaterThan(4);
  });
  it('with Beta(1, 1) the mean pasted fraction is about one half', () => {
    const n = 400, big = cutmix(new Uint8Array(n * PER), new Uint8Array(n), n, new Rng(1));
    const mean = big.lambdas.reduce((s, v) => s + v, 0) / n;
    expect(mean).toBeGreaterThan(0.5);  // clipping at the border only shrinks boxes
    expect(mean).toBeLessThan(0.75);
  });
  it('prob 0 changes nothing; same seed same result; input untouched', () => {
    const none = cutmix(src, labels, count, new Rng(1), {prob: 0});
    expect(same(none.images, src)).toBe(true);
    expect(Array.from(none.labels)).toEqual(Array.from(oneHot(labels, 10)));
    const a = cutmix(src, labels, count, new Rng(3)), b = cutmix(src, labels, count, new Rng(3));
    expect(same(a.images, b.images)).toBe(true);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(same(src, images(count, 9))).toBe(true);
  });
  it('label count mismatch is a clear error', () => {
    expect(() => cutmix(src, [1, 2], count, new Rng(0))).toThrow(/2 labels for 16 images/);
  });
});

describe('mixup', () => {
  it('pixels are round(λ·a + (1 − λ)·b) and labels λ / 1 − λ', () => {
    const count = 6, src = images(count, 12), labels = [0, 1, 2, 3, 4, 5];
    const r = mixup(src, labels, count, new Rng(2), {alpha: 1});
    for (let i = 0; i < count; i++) {
      const l = r.lambdas[i]!, j = r.partner[i]!;
      for (const k of [0, 100, 3071]) expect(r.images[i * PER + k]).toBe(Math.round(l * src[i * PER + k]! + (1 - l) * src[j * PER + k]!));
      if (j !== i) {
        expect(r.labels[i * 10 + labels[i]!]).toBeCloseTo(l, 6);
        expect(r.labels[i * 10 + labels[j]!]).toBeCloseTo(1 - l, 6);
      }
    }
  });
});

describe('RandAugment-lite', () => {
  const src = images(1, 20), out = new Uint8Array(PER);
  it('magnitude 0 is the identity for every op except autoContrast and equalize', () => {
    for (const op of RAND_AUGMENT_OPS) {
      if (op === 'autoContrast' || op === 'equalize') continue;
      applyOp(op, src, 0, out, 0, S, 0, 1);
      expect(same(out, src), op).toBe(true);
    }
  });
  it('translateX moves the content right by 0.3·f·S pixels with zero fill', () => {
    applyOp('translateX', src, 0, out, 0, S, 10, 1); // round(0.3 * 32) = 10 px
    expect(same(out, expected(src, 0, 0, -10, false))).toBe(true);
    applyOp('translateY', src, 0, out, 0, S, 5, -1); // 5 px up
    expect(same(out, expected(src, 0, 5, 0, false))).toBe(true);
  });
  it('solarize inverts the pixels at or above the threshold; posterize keeps the top bits', () => {
    applyOp('solarize', src, 0, out, 0, S, 5, 1); // threshold 128
    for (const k of [0, 1, 500, 3071]) expect(out[k]).toBe(src[k]! >= 128 ? 255 - src[k]! : src[k]);
    applyOp('posterize', src, 0, out, 0, S, 10, 1); // 4 bits
    for (const k of [0, 1, 500, 3071]) expect(out[k]).toBe(src[k]! & 0xf0);
  });
  it('brightness scales by 1 ± 0.9·f; color leaves a grey image grey', () => {
    applyOp('brightness', src, 0, out, 0, S, 5, -1); // factor 0.55
    for (const k of [0, 7, 3000]) expect(out[k]).toBe(Math.round(0.55 * src[k]!));
    const g = new Uint8Array(PER);
    for (let p = 0; p < S * S; p++) g.fill(p % 200, p * 3, p * 3 + 3);
    applyOp('color', g, 0, out, 0, S, 10, 1);
    for (let p = 0; p < S * S; p += 37) expect([out[p * 3], out[p * 3 + 1], out[p * 3 + 2]]).toEqual([g[p * 3], g[p * 3], g[p * 3]]);
  });
  it('autoContrast stretches each channel to 0..255', () => {
    const a = new Uint8Array(PER);
    for (let i = 0; i < PER; i++) a[i] = 100 + (i % 7) * 10; // 100..160
    applyOp('autoContrast', a, 0, out, 0, S, 0);
    for (let c = 0; c < 3; c++) {
      const ch = Array.from({length: S * S}, (_, p) => out[p * 3 + c]!);
      expect(Math.min(...ch)).toBe(0);
      expect(Math.max(...ch)).toBe(255);
    }
  });
  it('rotate by ±30° keeps the centre pixel and fills corners with zeros', () => {
    applyOp('rotate', src, 0, out, 0, S, 10, 1);
    expect(px(out, 0, 0, 0, 0)).toBe(0);
    const center = [px(src, 0, 16, 16, 0), px(src, 0, 15, 15, 0), px(src, 0, 15, 16, 0), px(src, 0, 16, 15, 0)];
    expect(center).toContain(px(out, 0, 16, 16, 0));
  });
  it('randAugment is seeded, keeps shapes, and changes images', () => {
    const b = images(10, 21);
    const x = randAugment(b, 10, new Rng(4), {n: 2, m: 9}), y = randAugment(b, 10, new Rng(4), {n: 2, m: 9});
    expect(x.length).toBe(b.length);
    expect(same(x, y)).toBe(true);
    expect(same(x, b)).toBe(false);
    expect(() => randAugment(b, 10, new Rng(0), {ops: ['blur' as never]})).toThrow(/unknown op "blur"/);
  });
});

describe('augmentationExamples', () => {
  it('gives every method on the same images, same shapes, the original first and unchanged', () => {
    const src = images(3, 30), ex = augmentationExamples(src, [0, 1, 2], 3, new Rng(0));
    expect(ex.map((e) => e.name).slice(0, 5)).toEqual(['original', 'crop + flip', 'cutmix', 'mixup', 'randAugment n=2 m=9']);
    expect(ex.length).toBe(5 + RAND_AUGMENT_OPS.length - 1);
    expect(same(ex[0]!.images, src)).toBe(true);
    for (const e of ex) expect(e.images.length, e.name).toBe(src.length);
    expect(ex.filter((e) => !same(e.images, src)).length).toBeGreaterThanOrEqual(ex.length - 2);
  });
});
