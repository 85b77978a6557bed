/**
 * Seeded shuffling and batching — Chapter 4 §4.1. Pure JS on uint8 NHWC sets; tensors are made
 * by the caller (toNormalizedTensor) one batch at a time, so nothing is left on the backend.
 */
import type {Rng} from '../core/rng';
import type {ImageSet} from './cifar';

/** A seeded permutation of 0..count-1 (one epoch's order). Same rng state → same order. */
export function epochOrder(count: number, rng: Rng): Int32Array {
  if (!Number.isInteger(count) || count < 0) throw new Error(`epochOrder: count must be a non-negative integer (got ${count})`);
  return rng.permutation(count);
}

/** Copies the images and labels at `indices` into a new batch (any order, repeats allowed). */
export function gatherBatch(set: ImageSet, indices: ArrayLike<number>): {images: Uint8Array; labels: Uint8Array; count: number} {
  const per = set.images.length / set.count;
  if (!Number.isInteger(per)) throw new Error(`gatherBatch: images has ${set.images.length} bytes, not a multiple of count ${set.count}`);
  const n = indices.length;
  const images = new Uint8Array(n * per), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= set.count) throw new Error(`gatherBatch: index ${j} at position ${i} is outside 0..${set.count - 1}`);
    images.set(set.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = set.labels[j]!;
  }
  return {images, labels, count: n};
}

/** Number of batches in an epoch. */
export function numBatches(count: number, batchSize: number, dropLast = false): number {
  if (!(batchSize > 0)) throw new Error(`batchSize must be positive (got ${batchSize})`);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** The index slices of an epoch order, batch by batch (the last one shorter unless dropLast). */
export function* batchIndices(order: Int32Array, batchSize: number, dropLast = false): Generator<Int32Array> {
  const nb = numBatches(order.length, batchSize, dropLast);
  for (let b = 0; b < nb; b++) yield order.subarray(b * batchSize, Math.min(order.length, (b + 1) * batchSize));
}

/** A contiguous slice [start, end) of a set, as views (no copy). */
export function sliceSet(set: ImageSet, start: number, end: number): ImageSet {
  const per = set.images.length / set.count;
  const s = Math.max(0, start), e = Math.min(set.count, end);
  return {images: set.images.subarray(s * per, e * per), labels: set.labels.subarray(s, e), count: Math.max(0, e - s)};
}

/** A class-balanced subset: the first `perClass` images of each class, in original order. */
export function balancedSubset(set: ImageSet, perClass: number, numClasses = 10): ImageSet {
  const seen = new Array<number>(numClasses).fill(0), idx: number[] = [];
  for (let i = 0; i < set.count; i++) {
    const c = set.labels[i]!;
    if (seen[c]! < perClass) { seen[c]!++; idx.push(i); }
  }
  return gatherBatch(set, idx);
}
