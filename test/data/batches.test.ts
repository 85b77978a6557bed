import {describe, expect, it} from 'vitest';
import {Rng} from '../../lib/core/rng';
import {balancedSubset, batchIndices, epochOrder, gatherBatch, numBatches, sliceSet} from '../../lib/data/batches';
import type {ImageSet} from '../../lib/data/cifar';

/** n images of 2×2×3 bytes whose bytes all equal the image index; label = index % 10. */
function set(n: number): ImageSet {
  const images = new Uint8Array(n * 12);
  for (let i = 0; i < n; i++) images.fill(i, i * 12, (i + 1) * 12);
  return {images, labels: Uint8Array.from({length: n}, (_, i) => i % 10), count: n};
}

describe('epochOrder', () => {
  it('is a permutation of 0..n-1', () => {
    const o = epochOrder(100, new Rng(1));
    expect(Array.from(o).sort((a, b) => a - b)).toEqual(Array.from({length: 100}, (_, i) => i));
  });
  it('is reproducible from the rng state (resume gives the same order) and differs between epochs', () => {
    const r = new Rng(3);
    const e1 = epochOrder(50, r), state = r.getState(), e2 = epochOrder(50, r);
    const resumed = new Rng(0);
    resumed.setState(state);
    expect(Array.from(epochOrder(50, resumed))).toEqual(Array.from(e2));
    expect(Array.from(e1)).not.toEqual(Array.from(e2));
    expect(Array.from(epochOrder(50, new Rng(3)))).toEqual(Array.from(e1));
  });
});

describe('gatherBatch', () => {
  it('copies the images and labels at the indices, in that order', () => {
    const s = set(20), b = gatherBatch(s, [7, 3, 19, 3]);
    expect(b.count).toBe(4);
    expect(Array.from(b.labels)).toEqual([7, 3, 9, 3]);
    expect(Array.from(b.images.filter((_, i) => i % 12 === 0))).toEqual([7, 3, 19, 3]);
    expect(b.images.length).toBe(48);
    b.images[0] = 99;
    expect(s.images[7 * 12]).toBe(7); // a copy, not a view
  });
  it('names an index out of range', () => {
    expect(() => gatherBatch(set(5), [0, 5])).toThrow(/index 5 at position 1 is outside 0\.\.4/);
  });
});

describe('batching an epoch', () => {
  it('covers every image once; the last batch is short unless dropLast', () => {
    const order = epochOrder(10, new Rng(0));
    const batches = [...batchIndices(order, 4)].map((b) => Array.from(b));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flat()).toEqual(Array.from(order));
    expect([...batchIndices(order, 4, true)].length).toBe(2);
    expect(numBatches(50000, 128)).toBe(391);
    expect(numBatches(50000, 128, true)).toBe(390);
    expect(() => numBatches(10, 0)).toThrow(/batchSize must be positive/);
  });
  it('sliceSet and balancedSubset pick the right images', () => {
    const s = set(40);
    const sl = sliceSet(s, 5, 8);
    expect([sl.count, sl.images[0], sl.labels[2]]).toEqual([3, 5, 7]);
    const b = balancedSubset(s, 2);
    expect(b.count).toBe(20);
    expect(Array.from(b.labels).filter((l) => l === 4).length).toBe(2);
  });
});
