import {describe, expect, it} from 'vitest';
import {DATE_FORMATS, dateToDay, dayToDate, formatByName, isoDate, makeDateDataset, MAX_YEAR, MIN_YEAR, parseIso} from '../../lib/data/dates';

describe('date formats', () => {
  it('render the documented examples for 2026-11-23 (a Monday)', () => {
    const t = parseIso('2026-11-23');
    const r = (n: string) => formatByName(n).render(t);
    expect(r('d MMM yyyy')).toBe('23 Nov 2026');
    expect(r('MM/dd/yy')).toBe('11/23/26');
    expect(r('EEEE, MMMM d, yyyy')).toBe('Monday, November 23, 2026');
    expect(r('do of MMMM yyyy')).toBe('23rd of November 2026');
    expect(r('EEE, MMM d, yy')).toBe('Mon, Nov 23, 26');
    expect(r('yyyyMMdd')).toBe('20261123');
  });
  it('ordinals: 1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 31st', () => {
    const f = formatByName('do of MMMM yyyy');
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 31].map(d => f.render({y: 2000, m: 1, d}).split(' ')[0]))
      .toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '31st']);
  });
  it('no input string means two different dates (every day × every format in the range)', () => {
    const seen = new Map<string, string>();
    const first = dateToDay({y: MIN_YEAR, m: 1, d: 1}), last = dateToDay({y: MAX_YEAR, m: 12, d: 31});
    expect(last - first + 1).toBe(36525);
    for (let day = first; day <= last; day++) {
      const t = dayToDate(day), iso = isoDate(t);
      for (const f of DATE_FORMATS) {
        const s = f.render(t), prev = seen.get(s);
        if (prev !== undefined && prev !== iso) throw new Error(`"${s}" is both ${prev} and ${iso} (${f.name})`);
        seen.set(s, iso);
      }
    }
  });
  it('parseIso rejects non-dates with a clear message', () => {
    expect(() => parseIso('2026-02-30')).toThrow(/not a calendar date/);
    expect(() => parseIso('23/11/2026')).toThrow(/not yyyy-MM-dd/);
    expect(() => formatByName('nope')).toThrow(/unknown date format "nope"/);
  });
});

describe('makeDateDataset', () => {
  const opts = {seed: 5, numTrain: 3000, numTest: 500};
  it('is deterministic for a seed and differs for another seed', () => {
    const a = makeDateDataset(opts), b = makeDateDataset(opts), c = makeDateDataset({...opts, seed: 6});
    expect(a.train).toEqual(b.train);
    expect(a.test).toEqual(b.test);
    expect(a.train.slice(0, 20)).not.toEqual(c.train.slice(0, 20));
  });
  it('covers every format in train and test', () => {
    const {train, test} = makeDateDataset(opts);
    for (const f of DATE_FORMATS) {
      expect(train.some(e => e.format === f.name), `train has ${f.name}`).toBe(true);
      expect(test.some(e => e.format === f.name), `test has ${f.name}`).toBe(true);
    }
  });
  it('round-trips: rendering the ISO target in the example\'s format gives the input back', () => {
    const {train, test} = makeDateDataset(opts);
    for (const e of [...train, ...test]) {
      expect(formatByName(e.format).render(parseIso(e.target))).toBe(e.input);
      expect(e.target).toMatch(/^(19[5-9]\d|20[0-4]\d)-\d{2}-\d{2}$/);
    }
  });
  it('holds out whole calendar dates: no test date occurs in training', () => {
    const {train, test, testDays} = makeDateDataset(opts);
    expect(testDays.size).toBe(Math.round(36525 * 0.1));
    const trainTargets = new Set(train.map(e => e.target));
    for (const e of test) {
      expect(testDays.has(dateToDay(parseIso(e.target)))).toBe(true);
      expect(trainTargets.has(e.target)).toBe(false);
    }
  });
});
