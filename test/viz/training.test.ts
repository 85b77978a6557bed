import {describe, expect, it} from 'vitest';
import {CURVE_SERIES, epochCurves, smoothedLossFloor} from '../../lib/viz/training';
import {vegaLiteToSvg} from '../../lib/viz/render';

describe('smoothedLossFloor', () => {
  it('is the entropy of the smoothed targets: 0.5003 nats for epsilon 0.1 and 10 classes', () => {
    // targets 0.91 and 9 × 0.01: −(0.91 ln 0.91 + 9 · 0.01 ln 0.01) = 0.085824 + 0.414465
    expect(smoothedLossFloor(0.1, 10)).toBeCloseTo(0.500289, 5);
    expect(smoothedLossFloor(0, 10)).toBe(0);
    expect(smoothedLossFloor(0.9, 10)).toBeCloseTo(-(0.19 * Math.log(0.19) + 9 * 0.09 * Math.log(0.09)), 10); // 2.266 < ln 10
    expect(() => smoothedLossFloor(1, 10)).toThrow(/0 <= epsilon < 1/);
  });
});

describe('epochCurves', () => {
  const recs = [
    {epoch: 1, trainLoss: 2.0, trainAcc: 0.3, testLoss: 1.8, testAcc: 0.35},
    {epoch: 2, trainLoss: 1.5, trainAcc: 0.5, testLoss: 1.3, testAcc: 0.55, trainCleanLoss: 1.2, trainCleanAcc: 0.6},
  ];

  it('labels each curve by what it measures and adds clean training points only where logged', () => {
    const s = epochCurves(recs, 't', {smoothedFloor: 0.5}) as any;
    const loss = s.concat[0].data.values as {epoch: number; split: string; value: number}[];
    expect(loss.filter(p => p.split === CURVE_SERIES.train).map(p => p.value)).toEqual([2.0, 1.5]);
    expect(loss.filter(p => p.split === CURVE_SERIES.test).map(p => p.value)).toEqual([1.8, 1.3]);
    expect(loss.filter(p => p.split === CURVE_SERIES.trainClean)).toEqual([{epoch: 2, split: CURVE_SERIES.trainClean, value: 1.2}]);
    expect(CURVE_SERIES.train).toMatch(/augmented, smoothed/);
    const rule = s.concat[0].layer[1];
    expect(rule.data.values).toEqual([{y: 0.5, label: 'least possible smoothed loss'}]);
    expect(s.concat[1].layer).toHaveLength(1); // no floor on the accuracy chart
  });

  it('puts test points measured on part of the test set in a series of their own', () => {
    const mixed = [{...recs[0], testCount: 10000}, {...recs[1], testCount: 2000}, {epoch: 3, trainLoss: 1.2, trainAcc: 0.6, testLoss: 1.0, testAcc: 0.7, testCount: 10000}];
    const acc = (epochCurves(mixed) as any).concat[1].data.values as {epoch: number; split: string; value: number}[];
    expect(acc.filter(p => p.split === CURVE_SERIES.test).map(p => p.epoch)).toEqual([1, 3]);
    expect(acc.filter(p => p.split === `${CURVE_SERIES.test}, first 2,000 images`).map(p => p.value)).toEqual([0.55]);
    // one count throughout (or none logged): one test series
    const same = (epochCurves(recs.map(r => ({...r, testCount: 2000}))) as any).concat[1].data.values as {split: string}[];
    expect(new Set(same.map(p => p.split))).toEqual(new Set([CURVE_SERIES.train, CURVE_SERIES.trainClean, CURVE_SERIES.test]));
  });

  it('renders to SVG and refuses an empty log', async () => {
    expect(await vegaLiteToSvg(epochCurves(recs))).toMatch(/^<svg/);
    expect(() => epochCurves([])).toThrow(/no epoch records/);
  });
});
