/**
 * Data augmentation — Chapter 4 §Augmentation. Pure JS on uint8 NHWC images (`count` square
 * images of side S, 3 channels), seeded with `Rng` (lib/core/rng.ts): the same seed and state
 * give the same batch, so a resumed run sees the same augmented data.
 *
 * - randomCropFlip: pad by `pad` zeros, take a random S×S crop, mirror left-right with p = 0.5.
 * - cutmix (Yun et al. 2019): paste a random box from a partner image; the label becomes
 *   λ·onehot(own) + (1−λ)·onehot(partner), λ = 1 − box area / image area (after clipping the box).
 * - mixup (Zhang et al. 2018): x = λ·a + (1−λ)·b (rounded to uint8), same soft label rule.
 * - randAugment (Cubuk et al. 2019, "lite"): N ops per image from RAND_AUGMENT_OPS at magnitude M.
 * Every function returns new arrays and leaves its input untouched.
 */
import type {Rng} from '../core/rng';

function sideOf(images: Uint8Array, count: number, what: string): number {
  if (!Number.isInteger(count) || count < 0) throw new Error(`${what}: count must be a non-negative integer (got ${count})`);
  if (count === 0) return 0;
  const hw = images.length / (count * 3), side = Math.round(Math.sqrt(hw));
  if (!Number.isInteger(hw) || side * side !== hw) throw new Error(`${what}: images has ${images.length} bytes, not count (${count}) × S × S × 3`);
  return side;
}

// ---------------------------------------------------------------- crop + flip

/**
 * Copies one S×S image shifted by (dy, dx) with zero fill, optionally mirrored:
 * dst[y][x] = src[y + dy][x' + dx] with x' = flip ? S−1−x : x, or 0 outside the source.
 */
export function shiftFlipInto(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, side: number, dy: number, dx: number, flip: boolean): void {
  for (let y = 0; y < side; y++) {
    const sy = y + dy, row = dstOff + y * side * 3;
    if (sy < 0 || sy >= side) { dst.fill(0, row, row + side * 3); continue; }
    const srow = srcOff + sy * side * 3;
    for (let x = 0; x < side; x++) {
      const sx = (flip ? side - 1 - x : x) + dx, d = row + x * 3;
      if (sx < 0 || sx >= side) { dst[d] = 0; dst[d + 1] = 0; dst[d + 2] = 0; continue; }
      const s = srow + sx * 3;
      dst[d] = src[s]!; dst[d + 1] = src[s + 1]!; dst[d + 2] = src[s + 2]!;
    }
  }
}

/**
 * Random crop with zero padding + horizontal flip (the standard CIFAR recipe). Per image the rng
 * draws dy = int(2·pad+1) − pad, dx likewise, then (if flip) mirrors when next() < 0.5.
 */
export function randomCropFlip(images: Uint8Array, count: number, rng: Rng, pad = 4, flip = true): Uint8Array {
  const side = sideOf(images, count, 'randomCropFlip');
  if (!Number.isInteger(pad) || pad < 0 || pad >= side) throw new Error(`randomCropFlip: pad must be an integer in 0..${side - 1} (got ${pad})`);
  const out = new Uint8Array(images.length), per = side * side * 3;
  for (let n = 0; n < count; n++) {
    const dy = rng.int(2 * pad + 1) - pad, dx = rng.int(2 * pad + 1) - pad;
    const mirror = flip && rng.next() < 0.5;
    shiftFlipInto(images, n * per, out, n * per, side, dy, dx, mirror);
  }
  return out;
}

// ---------------------------------------------------------------- soft labels

/** One-hot rows `[count, numClasses]`, optionally label-smoothed: (1−ε)·onehot + ε/K. */
export function oneHot(labels: ArrayLike<number>, numClasses = 10, smoothing = 0): Float32Array {
  const out = new Float32Array(labels.length * numClasses).fill(smoothing / numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!(c >= 0 && c < numClasses)) throw new Error(`oneHot: label ${c} at ${i} is outside 0..${numClasses - 1}`);
    out[i * numClasses + c] += 1 - smoothing;
  }
  return out;
}

/** Gamma(a, 1) by Marsaglia–Tsang (a < 1 via the a+1 boost). */
export function sampleGamma(rng: Rng, a: number): number {
  if (a < 1) return sampleGamma(rng, a + 1) * Math.pow(1 - rng.next(), 1 / a);
  const d = a - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do { x = rng.normal(); v = 1 + c * x; } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(α, β) sample; Beta(1, 1) is uniform. */
export function sampleBeta(rng: Rng, alpha: number, beta = alpha): number {
  if (!(alpha > 0 && beta > 0)) throw new Error(`sampleBeta: alpha and beta must be positive (got ${alpha}, ${beta})`);
  const x = sampleGamma(rng, alpha), y = sampleGamma(rng, beta);
  return x / (x + y);
}

export interface MixResult {
  images: Uint8Array;
  /** Soft labels `[count, numClasses]`: λ_i·onehot(labels[i]) + (1−λ_i)·onehot(labels[partner[i]]). */
  labels: Float32Array;
  /** Weight of each image's own label (1 = unchanged). */
  lambdas: Float32Array;
  /** Index of the partner image each one was mixed with. */
  partner: Int32Array;
  /** cutmix only: the pasted box per image, [y0, x0, y1, x1] (end-exclusive; empty when y0 == y1). */
  boxes?: Int32Array;
}

export interface MixOptions {
  /** Beta(α, α) for λ (cutmix default 1 = uniform; mixup default 0.2). */
  alpha?: number;
  numClasses?: number;
  /** Probability to mix each image at all (default 1). */
  prob?: number;
  /** Label smoothing ε applied to both one-hot parts (default 0). */
  smoothing?: number;
}

function mixLabels(labels: ArrayLike<number>, partner: Int32Array, lambdas: Float32Array, numClasses: number, smoothing: number): Float32Array {
  const own = oneHot(labels, numClasses, smoothing), out = new Float32Array(own.length);
  for (let i = 0; i < partner.length; i++) {
    const l = lambdas[i]!, j = partner[i]!;
    for (let c = 0; c < numClasses; c++) out[i * numClasses + c] = l * own[i * numClasses + c]! + (1 - l) * own[j * numClasses + c]!;
  }
  return out;
}

/**
 * CutMix. Per image i: partner j from a random permutation of the batch, λ ~ Beta(α, α),
 * a box of size round(S·√(1−λ)) centred at a uniform pixel, clipped to the image; the box is
 * copied from image j; the label weight is recomputed from the clipped box: λ = 1 − area/S².
 * Rng draws: the permutation, then per image [apply?] λ, cy, cx.
 */
export function cutmix(images: Uint8Array, labels: ArrayLike<number>, count: number, rng: Rng, opts: MixOptions = {}): MixResult {
  const side = sideOf(images, count, 'cutmix'), {alpha = 1, numClasses = 10, prob = 1, smoothing = 0} = opts;
  if (labels.length !== count) throw new Error(`cutmix: ${labels.length} labels for ${count} images`);
  const partner = rng.permutation(count), lambdas = new Float32Array(count).fill(1), boxes = new Int32Array(count * 4);
  const out = images.slice(), per = side * side * 3, row = side * 3;
  for (let i = 0; i < count; i++) {
    if (prob < 1 && rng.next() >= prob) continue;
    const lam = sampleBeta(rng, alpha);
    const cut = Math.round(side * Math.sqrt(1 - lam)), cy = rng.int(side), cx = rng.int(side);
    const y0 = Math.max(0, cy - (cut >> 1)), y1 = Math.min(side, cy - (cut >> 1) + cut);
    const x0 = Math.max(0, cx - (cut >> 1)), x1 = Math.min(side, cx - (cut >> 1) + cut);
    if (y1 <= y0 || x1 <= x0) continue;
    const j = partner[i]!;
    for (let y = y0; y < y1; y++) {
      const a = i * per + y * row + x0 * 3;
      out.set(images.subarray(j * per + y * row + x0 * 3, j * per + y * row + x1 * 3), a);
    }
    boxes.set([y0, x0, y1, x1], i * 4);
    lambdas[i] = 1 - ((y1 - y0) * (x1 - x0)) / (side * side);
  }
  return {images: out, labels: mixLabels(labels, partner, lambdas, numClasses, smoothing), lambdas, partner, boxes};
}

/**
 * Mixup. Per image i: partner j from a random permutation, λ ~ Beta(α, α) (α default 0.2),
 * pixels round(λ·a + (1−λ)·b). Rng draws: the permutation, then per image [apply?] λ.
 */
export function mixup(images: Uint8Array, labels: ArrayLike<number>, count: number, rng: Rng, opts: MixOptions = {}): MixResult {
  const side = sideOf(images, count, 'mixup'), {alpha = 0.2, numClasses = 10, prob = 1, smoothing = 0} = opts;
  if (labels.length !== count) throw new Error(`mixup: ${labels.length} labels for ${count} images`);
  const partner = rng.permutation(count), lambdas = new Float32Array(count).fill(1);
  const out = images.slice(), per = side * side * 3;
  for (let i = 0; i < count; i++) {
    if (prob < 1 && rng.next() >= prob) continue;
    const lam = sampleBeta(rng, alpha), j = partner[i]!;
    for (let k = 0; k < per; k++) out[i * per + k] = Math.round(lam * images[i * per + k]! + (1 - lam) * images[j * per + k]!);
    lambdas[i] = lam;
  }
  return {images: out, labels: mixLabels(labels, partner, lambdas, numClasses, smoothing), lambdas, partner};
}
