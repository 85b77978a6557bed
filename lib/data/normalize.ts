/**
 * Per-channel normalisation — Chapter 4 §4.1: x̂ = (x / 255 − mean_c) / std_c.
 * Statistics are on the [0, 1] scale, per channel (R, G, B) over all pixels of all images.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Mean and standard deviation of the train split of the CIFAR-10 copy in `../shared/datasets`
 * (JPEG-reconstructed; commonly quoted for the official data: 0.4914, 0.4822, 0.4465 / 0.2470, 0.2435, 0.2616 —
 * JPEG smooths the pixels, so the std here is a little smaller).
 * test/data/normalize.test.ts recomputes them from the data.
 */
export const CIFAR10_MEAN: number[] = [0.49127, 0.48210, 0.44652];
export const CIFAR10_STD: number[] = [0.24542, 0.24286, 0.26072];

function checkImages(images: Uint8Array, count: number, what: string): number {
  if (!Number.isInteger(count) || count <= 0) throw new Error(`${what}: count must be a positive integer (got ${count})`);
  if (images.length % (count * 3) !== 0) throw new Error(`${what}: images has ${images.length} bytes, not count (${count}) × H × W × 3`);
  const hw = images.length / (count * 3), side = Math.round(Math.sqrt(hw));
  if (side * side !== hw) throw new Error(`${what}: ${hw} pixels per image is not a square image`);
  return side;
}

/** Per-channel mean and std (population, on the [0, 1] scale) of NHWC uint8 images. */
export function channelStats(images: Uint8Array, count: number): {mean: number[]; std: number[]} {
  checkImages(images, count, 'channelStats');
  const hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  const h0 = hist[0]!, h1 = hist[1]!, h2 = hist[2]!;
  for (let i = 0; i < images.length; i += 3) { h0[images[i]!]++; h1[images[i + 1]!]++; h2[images[i + 2]!]++; }
  const n = images.length / 3;
  const mean: number[] = [], std: number[] = [];
  for (const h of hist) {
    let s = 0, s2 = 0;
    for (let v = 0; v < 256; v++) { const x = v / 255; s += h[v]! * x; s2 += h[v]! * x * x; }
    const m = s / n;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, s2 / n - m * m)));
  }
  return {mean, std};
}

/** Normalises NHWC uint8 images into a float32 `[count, H, W, 3]` tensor (caller disposes it). */
export function toNormalizedTensor(images: Uint8Array, count: number, mean: number[] = CIFAR10_MEAN, std: number[] = CIFAR10_STD): tf.Tensor4D {
  const side = checkImages(images, count, 'toNormalizedTensor');
  if (mean.length !== 3 || std.length !== 3) throw new Error(`toNormalizedTensor: mean and std need 3 values (got ${mean.length} and ${std.length})`);
  if (std.some((s) => !(s > 0))) throw new Error(`toNormalizedTensor: std must be positive (got ${std.join(', ')})`);
  const lut = new Float32Array(768); // lut[c * 256 + v] = (v / 255 - mean_c) / std_c
  for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - mean[c]!) / std[c]!;
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i += 3) {
    out[i] = lut[images[i]!]!;
    out[i + 1] = lut[256 + images[i + 1]!]!;
    out[i + 2] = lut[512 + images[i + 2]!]!;
  }
  return tf.tensor4d(out, [count, side, side, 3]); // [B, H, W, C]
}

/** The inverse, for display: a normalised `[B, H, W, 3]` tensor back to uint8 NHWC bytes. */
export async function fromNormalizedTensor(x: tf.Tensor4D, mean: number[] = CIFAR10_MEAN, std: number[] = CIFAR10_STD): Promise<Uint8Array> {
  const v = await x.data();
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = i % 3;
    out[i] = Math.max(0, Math.min(255, Math.round((v[i]! * std[c]! + mean[c]!) * 255)));
  }
  return out;
}
