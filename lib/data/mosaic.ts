/**
 * A real multi-label task from CIFAR-10 (Chapter 4, multi-label section): 2×2 mosaics of four
 * random CIFAR-10 images. The label of a mosaic is the SET of classes it shows, as a multi-hot
 * vector [numClasses] — a mosaic of a cat, a cat, a ship and a frog has labels {cat, frog, ship}.
 * That is why softmax is wrong here: 1, 2, 3 or 4 classes are present at once, and each needs its
 * own yes/no probability (sigmoid + binary cross-entropy, lib/optim/multilabel.ts).
 *
 * Pure JS on uint8 NHWC images like lib/data/augment.ts, seeded with Rng: the same seed gives the
 * same mosaics. With `downsample` (default) each S×S source is averaged over 2×2 pixel blocks to
 * S/2 × S/2 so the mosaic keeps the source size S (a CIFAR ViT runs on it unchanged); without it
 * the mosaic is 2S × 2S with the sources copied exactly.
 */
import {Rng} from '../core/rng';

export interface MosaicSet {
  /** NHWC uint8, count × side × side × 3 */
  images: Uint8Array;
  /** multi-hot, count × numClasses (1 = the class appears in at least one tile) */
  targets: Float32Array;
  count: number;
  side: number;
  numClasses: number;
  /** indices of the 4 source images per mosaic, in tile order top-left, top-right, bottom-left, bottom-right */
  sources: Int32Array;
}

export interface MosaicOptions {
  seed: number;
  numClasses?: number;
  /** average 2×2 blocks so the mosaic has the sources' side (default true) */
  downsample?: boolean;
}

/** `count` mosaics of 4 images drawn uniformly (with replacement) from `src`. */
export function makeMosaics(src: {images: Uint8Array; labels: ArrayLike<number>; count: number}, count: number, opts: MosaicOptions): MosaicSet {
  const C = opts.numClasses ?? 10, down = opts.downsample ?? true;
  if (!Number.isInteger(count) || count < 0) throw new Error(`makeMosaics: count must be a non-negative integer (got ${count})`);
  if (!Number.isInteger(src.count) || src.count <= 0) throw new Error(`makeMosaics: the source set is empty (count ${src.count})`);
  if (src.labels.length !== src.count) throw new Error(`makeMosaics: ${src.labels.length} labels for ${src.count} images`);
  const hw = src.images.length / (src.count * 3), S = Math.round(Math.sqrt(hw));
  if (S * S !== hw) throw new Error(`makeMosaics: images has ${src.images.length} bytes, not count (${src.count}) × S × S × 3`);
  if (down && S % 2 !== 0) throw new Error(`makeMosaics: downsample needs an even image side (got ${S})`);
  for (let i = 0; i < src.count; i++) {
    const y = src.labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new Error(`makeMosaics: label ${y} of image ${i} is not a class in [0, ${C})`);
  }
  const tile = down ? S / 2 : S, side = 2 * tile;
  const images = new Uint8Array(count * side * side * 3), targets = new Float32Array(count * C), sources = new Int32Array(count * 4);
  const rng = new Rng(opts.seed);
  for (let m = 0; m < count; m++) {
    const out = m * side * side * 3;
    for (let q = 0; q < 4; q++) {
      const s = rng.int(src.count);
      sources[m * 4 + q] = s;
      targets[m * C + src.labels[s]!] = 1;
      const oy = (q >> 1) * tile, ox = (q & 1) * tile, base = s * S * S * 3;
      for (let y = 0; y < tile; y++) {
        for (let x = 0; x < tile; x++) {
          const d = out + ((oy + y) * side + ox + x) * 3;
          for (let c = 0; c < 3; c++) {
            if (!down) { images[d + c] = src.images[base + (y * S + x) * 3 + c]!; continue; }
            const p = base + (2 * y * S + 2 * x) * 3 + c, r = S * 3;
            images[d + c] = (src.images[p]! + src.images[p + 3]! + src.images[p + r]! + src.images[p + r + 3]! + 2) >> 2; // rounded mean
          }
        }
      }
    }
  }
  return {images, targets, count, side, numClasses: C, sources};
}

/** Class names present in mosaic i, e.g. ['cat', 'frog', 'ship']. */
export function mosaicLabelNames(set: MosaicSet, i: number, classNames: string[]): string[] {
  if (!(i >= 0 && i < set.count)) throw new Error(`mosaicLabelNames: mosaic ${i} is not in [0, ${set.count})`);
  const out: string[] = [];
  for (let c = 0; c < set.numClasses; c++) if (set.targets[i * set.numClasses + c] === 1) out.push(classNames[c] ?? String(c));
  return out;
}
