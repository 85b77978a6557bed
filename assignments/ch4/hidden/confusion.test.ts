import {describe, expect, it} from 'vitest';
import {confusionMatrix} from '../../../lib/eval/metrics';

describe('confusionMatrix (hidden)', () => {
  it('row sums are the class counts and the total is the number of examples', () => {
    // unbalanced labels (i² mod 10 hits 0, 1, 4, 5, 6, 9 unevenly), balanced predictions
    const labels = [...Array(100).keys()].map((i) => (i * i) % 10), preds = [...Array(100).keys()].map((i) => (i * 3) % 10);
    const m = confusionMatrix(preds, labels, 10);
    m.forEach((row, c) => expect(row.reduce((a, b) => a + b, 0)).toBe(labels.filter((l) => l === c).length));
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(100);
  });
  it('classes that never occur keep rows and columns of zeros', () => {
    expect(confusionMatrix([0, 0], [0, 0], 3)).toEqual([[2, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });
  it('names the example whose class index is out of range', () => {
    expect(() => confusionMatrix([0, 5], [0, 1], 3)).toThrow(/out of range at 1/);
  });
});
