import {describe, expect, it} from 'vitest';
import {digitTarget, makeDigitDataset} from '../../lib/data/digits';

describe('digit-sequence tasks', () => {
  it('copy, reverse and sort give the documented outputs', () => {
    expect(digitTarget('copy', '40718')).toBe('40718');
    expect(digitTarget('reverse', '40718')).toBe('81704');
    expect(digitTarget('sort', '40718')).toBe('01478');
  });

  it('names bad input', () => {
    expect(() => digitTarget('copy', '12a')).toThrow(/digits only \(got "12a"\)/);
    expect(() => digitTarget('rot13' as never, '12')).toThrow(/copy, reverse, sort/);
    expect(() => makeDigitDataset({task: 'copy', numTrain: 1, numTestPerLength: 1, minLen: 5, maxLen: 4}))
      .toThrow(/1 ≤ minLen ≤ maxLen/);
    expect(() => makeDigitDataset({task: 'copy', numTrain: 1, numTestPerLength: 60, minLen: 2, maxLen: 4}))
      .toThrow(/too few of the 100 strings/);
  });

  it('has numTestPerLength distinct test strings of every length, none of them in training', () => {
    const ds = makeDigitDataset({task: 'reverse', seed: 3, numTrain: 3000, numTestPerLength: 40, minLen: 3, maxLen: 9});
    expect(ds.test).toHaveLength(40 * 7);
    for (let n = 3; n <= 9; n++) expect(ds.test.filter(e => e.length === n)).toHaveLength(40);
    expect(new Set(ds.test.map(e => e.input)).size).toBe(ds.test.length);
    const testSet = new Set(ds.test.map(e => e.input));
    expect(ds.train.filter(e => testSet.has(e.input))).toEqual([]);
    expect(ds.train).toHaveLength(3000);
    for (const e of [...ds.train.slice(0, 50), ...ds.test.slice(0, 50)]) {
      expect(e.input).toMatch(/^\d{3,9}$/);
      expect(e.target).toBe([...e.input].reverse().join(''));
      expect(e.length).toBe(e.input.length);
    }
  });

  it('draws training lengths uniformly and is reproducible from the seed', () => {
    const a = makeDigitDataset({task: 'copy', seed: 1, numTrain: 6000, numTestPerLength: 10, minLen: 3, maxLen: 8});
    const b = makeDigitDataset({task: 'copy', seed: 1, numTrain: 6000, numTestPerLength: 10, minLen: 3, maxLen: 8});
    expect(b).toEqual(a);
    for (let n = 3; n <= 8; n++) {
      const share = a.train.filter(e => e.length === n).length / a.train.length;
      expect(share).toBeGreaterThan(1 / 6 - 0.03);
      expect(share).toBeLessThan(1 / 6 + 0.03);
    }
    const c = makeDigitDataset({task: 'copy', seed: 2, numTrain: 10, numTestPerLength: 10, minLen: 3, maxLen: 8});
    expect(c.test.map(e => e.input)).not.toEqual(a.test.map(e => e.input));
  });
});
