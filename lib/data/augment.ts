/**
 * Data augmentation — Chapter 4 §4.2. Pure JS on uint8 NHWC images (`count` square
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
  const out = new Uint8Array(images), per = side * side * 3, row = side * 3;
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
  const out = new Uint8Array(images), per = side * side * 3;
  for (let i = 0; i < count; i++) {
    if (prob < 1 && rng.next() >= prob) continue;
    const lam = sampleBeta(rng, alpha), j = partner[i]!;
    for (let k = 0; k < per; k++) out[i * per + k] = Math.round(lam * images[i * per + k]! + (1 - lam) * images[j * per + k]!);
    lambdas[i] = lam;
  }
  return {images: out, labels: mixLabels(labels, partner, lambdas, numClasses, smoothing), lambdas, partner};
}

// ---------------------------------------------------------------- RandAugment-lite

/**
 * The ops of RandAugment-lite. Magnitude m in [0, 10], f = m / 10, sign ±1 for signed ops:
 * brightness / contrast / color / sharpness blend with a degenerate image by factor 1 ± 0.9·f
 * (black, the mean grey, the greyscale image, a 3×3 blur); solarize inverts pixels ≥ 256·(1 − f);
 * posterize keeps 8 − round(4·f) bits; rotate ±30°·f; shearX/Y ±0.3·f; translateX/Y ±0.3·f·S px;
 * autoContrast stretches each channel to 0..255; equalize flattens each channel's histogram.
 * Geometric ops use nearest-neighbour sampling with zero fill.
 */
export const RAND_AUGMENT_OPS = ['identity', 'autoContrast', 'equalize', 'brightness', 'contrast', 'color', 'sharpness', 'solarize', 'posterize', 'rotate', 'shearX', 'shearY', 'translateX', 'translateY'] as const;
export type AugOp = (typeof RAND_AUGMENT_OPS)[number];

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** dst[y][x] = src[round(a·x + b·y + c)... ] — inverse map (sx, sy) = (a x + b y + c, d x + e y + f), zero outside. */
export function affineInto(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, side: number, m: [number, number, number, number, number, number]): void {
  const [a, b, c, d, e, f] = m;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sx = Math.round(a * x + b * y + c), sy = Math.round(d * x + e * y + f), o = dstOff + (y * side + x) * 3;
      if (sx < 0 || sx >= side || sy < 0 || sy >= side) { dst[o] = 0; dst[o + 1] = 0; dst[o + 2] = 0; continue; }
      const s = srcOff + (sy * side + sx) * 3;
      dst[o] = src[s]!; dst[o + 1] = src[s + 1]!; dst[o + 2] = src[s + 2]!;
    }
  }
}

function blendInto(src: Uint8Array, so: number, dst: Uint8Array, dOff: number, n: number, factor: number, degenerate: (i: number) => number): void {
  for (let i = 0; i < n; i++) { const deg = degenerate(i); dst[dOff + i] = clamp255(deg + factor * (src[so + i]! - deg)); }
}

function grey(src: Uint8Array, p: number): number {
  return 0.299 * src[p]! + 0.587 * src[p + 1]! + 0.114 * src[p + 2]!;
}

/** Applies one op to the image at src[srcOff..] (S×S×3), writing dst[dstOff..]. */
export function applyOp(op: AugOp, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, side: number, magnitude: number, sign = 1): void {
  const f = Math.max(0, Math.min(10, magnitude)) / 10, n = side * side * 3, c = (side - 1) / 2;
  const factor = 1 + sign * 0.9 * f;
  switch (op) {
    case 'identity':
      dst.set(src.subarray(srcOff, srcOff + n), dstOff);
      return;
    case 'brightness':
      return blendInto(src, srcOff, dst, dstOff, n, factor, () => 0);
    case 'contrast': {
      let s = 0;
      for (let p = 0; p < n; p += 3) s += grey(src, srcOff + p);
      const mean = s / (side * side);
      return blendInto(src, srcOff, dst, dstOff, n, factor, () => mean);
    }
    case 'color':
      return blendInto(src, srcOff, dst, dstOff, n, factor, (i) => grey(src, srcOff + i - (i % 3)));
    case 'sharpness': { // degenerate = PIL SMOOTH kernel [[1,1,1],[1,5,1],[1,1,1]]/13 inside, the image on the border
      const blur = (i: number) => {
        const p = i / 3 | 0, y = p / side | 0, x = p % side, ch = i % 3;
        if (y === 0 || x === 0 || y === side - 1 || x === side - 1) return src[srcOff + i]!;
        let s = 4 * src[srcOff + i]!;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += src[srcOff + ((y + dy) * side + x + dx) * 3 + ch]!;
        return Math.round(s / 13);
      };
      return blendInto(src, srcOff, dst, dstOff, n, factor, blur);
    }
    case 'solarize': {
      const t = 256 * (1 - f);
      for (let i = 0; i < n; i++) { const v = src[srcOff + i]!; dst[dstOff + i] = v >= t ? 255 - v : v; }
      return;
    }
    case 'posterize': {
      const bits = 8 - Math.round(4 * f), mask = (0xff << (8 - bits)) & 0xff;
      for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]! & mask;
      return;
    }
    case 'autoContrast':
    case 'equalize':
      for (let ch = 0; ch < 3; ch++) channelRemap(op, src, srcOff, dst, dstOff, side * side, ch);
      return;
    case 'rotate': {
      const t = (sign * 30 * f * Math.PI) / 180, co = Math.cos(t), si = Math.sin(t); // content turns by +t (counter-clockwise on screen for t > 0)
      return affineInto(src, srcOff, dst, dstOff, side, [co, -si, c - co * c + si * c, si, co, c - si * c - co * c]);
    }
    case 'shearX':
      return affineInto(src, srcOff, dst, dstOff, side, [1, sign * 0.3 * f, -sign * 0.3 * f * c, 0, 1, 0]);
    case 'shearY':
      return affineInto(src, srcOff, dst, dstOff, side, [1, 0, 0, sign * 0.3 * f, 1, -sign * 0.3 * f * c]);
    case 'translateX':
      return affineInto(src, srcOff, dst, dstOff, side, [1, 0, -Math.round(sign * 0.3 * f * side), 0, 1, 0]);
    case 'translateY':
      return affineInto(src, srcOff, dst, dstOff, side, [1, 0, 0, 0, 1, -Math.round(sign * 0.3 * f * side)]);
    default:
      throw new Error(`applyOp: unknown op "${op as string}" (one of ${RAND_AUGMENT_OPS.join(', ')})`);
  }
}

/** autoContrast: (v − min)·255/(max − min); equalize: PIL-style cumulative-histogram lookup. */
function channelRemap(op: 'autoContrast' | 'equalize', src: Uint8Array, so: number, dst: Uint8Array, dOff: number, pixels: number, ch: number): void {
  const lut = new Uint8Array(256);
  const hist = new Int32Array(256);
  for (let p = 0; p < pixels; p++) hist[src[so + p * 3 + ch]!]++;
  if (op === 'autoContrast') {
    let lo = 0, hi = 255;
    while (lo < 255 && hist[lo] === 0) lo++;
    while (hi > 0 && hist[hi] === 0) hi--;
    for (let v = 0; v < 256; v++) lut[v] = hi > lo ? clamp255(((v - lo) * 255) / (hi - lo)) : v;
  } else {
    let last = 255;
    while (last > 0 && hist[last] === 0) last--;
    const step = Math.floor((pixels - hist[last]!) / 255);
    if (step === 0) for (let v = 0; v < 256; v++) lut[v] = v;
    else {
      let acc = Math.floor(step / 2);
      for (let v = 0; v < 256; v++) { lut[v] = Math.min(255, Math.floor(acc / step)); acc += hist[v]!; }
    }
  }
  for (let p = 0; p < pixels; p++) dst[dOff + p * 3 + ch] = lut[src[so + p * 3 + ch]!]!;
}

export interface RandAugmentOptions {
  /** Ops per image (default 2). */
  n?: number;
  /** Magnitude 0..10 (default 9). */
  m?: number;
  /** The op set to pick from (default RAND_AUGMENT_OPS). */
  ops?: readonly AugOp[];
  /** Probability to apply each picked op (default 1). */
  prob?: number;
}

/** RandAugment-lite: each image gets `n` ops drawn uniformly from `ops`, each with a random sign. Rng draws per op: op, sign, [apply?]. */
export function randAugment(images: Uint8Array, count: number, rng: Rng, opts: RandAugmentOptions = {}): Uint8Array {
  const side = sideOf(images, count, 'randAugment'), {n = 2, m = 9, ops = RAND_AUGMENT_OPS, prob = 1} = opts;
  for (const op of ops) if (!(RAND_AUGMENT_OPS as readonly string[]).includes(op)) throw new Error(`randAugment: unknown op "${op}" (one of ${RAND_AUGMENT_OPS.join(', ')})`);
  const per = side * side * 3, out = new Uint8Array(images), tmp = new Uint8Array(per);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < n; k++) {
      const op = ops[rng.int(ops.length)]!, sign = rng.next() < 0.5 ? -1 : 1;
      if (prob < 1 && rng.next() >= prob) continue;
      applyOp(op, out, i * per, tmp, 0, side, m, sign);
      out.set(tmp, i * per);
    }
  }
  return out;
}

/**
 * TrivialAugment (Müller & Hutter 2021, "TrivialAugment: Tuning-free Yet State-of-the-Art Data
 * Augmentation"): each image gets ONE op drawn uniformly from `ops`, at a magnitude drawn uniformly
 * from [0, mMax] (here continuous, on RandAugment's 0..10 scale) with a random sign.
 * Rng draws per image: op, magnitude, sign.
 */
export function trivialAugment(images: Uint8Array, count: number, rng: Rng, opts: {mMax?: number; ops?: readonly AugOp[]} = {}): Uint8Array {
  const side = sideOf(images, count, 'trivialAugment'), {mMax = 10, ops = RAND_AUGMENT_OPS} = opts;
  for (const op of ops) if (!(RAND_AUGMENT_OPS as readonly string[]).includes(op)) throw new Error(`trivialAugment: unknown op "${op}" (one of ${RAND_AUGMENT_OPS.join(', ')})`);
  const per = side * side * 3, out = new Uint8Array(images), tmp = new Uint8Array(per);
  for (let i = 0; i < count; i++) {
    const op = ops[rng.int(ops.length)]!, m = rng.next() * mMax, sign = rng.next() < 0.5 ? -1 : 1;
    applyOp(op, out, i * per, tmp, 0, side, m, sign);
    out.set(tmp, i * per);
  }
  return out;
}

/**
 * Named variants of the same images, for showing augmentations side by side in the chapter:
 * original, crop + flip, cutmix, mixup, randAugment, then every RandAugment op at magnitude `m`.
 */
export function augmentationExamples(images: Uint8Array, labels: ArrayLike<number>, count: number, rng: Rng, m = 9): {name: string; images: Uint8Array; labels?: Float32Array}[] {
  const side = sideOf(images, count, 'augmentationExamples'), per = side * side * 3;
  const out: {name: string; images: Uint8Array; labels?: Float32Array}[] = [{name: 'original', images: new Uint8Array(images)}];
  out.push({name: 'crop + flip', images: randomCropFlip(images, count, rng)});
  const cm = cutmix(images, labels, count, rng);
  out.push({name: 'cutmix', images: cm.images, labels: cm.labels});
  const mu = mixup(images, labels, count, rng, {alpha: 1});
  out.push({name: 'mixup', images: mu.images, labels: mu.labels});
  out.push({name: `randAugment n=2 m=${m}`, images: randAugment(images, count, rng, {n: 2, m})});
  for (const op of RAND_AUGMENT_OPS) {
    if (op === 'identity') continue;
    const dst = new Uint8Array(images.length);
    for (let i = 0; i < count; i++) applyOp(op, images, i * per, dst, i * per, side, m, 1);
    out.push({name: op, images: dst});
  }
  return out;
}
