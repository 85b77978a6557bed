import {describe, expect, it} from 'vitest';
import {bestF1Threshold, chooseThresholds, f1At, labelRocs, multiLabelScores} from '../../lib/eval/multilabel';
import {Rng} from '../../lib/core/rng';

/** Reference AUC by the Mann–Whitney U statistic with average ranks (ties share their mean rank). */
function mannWhitneyAuc(scores: number[], positive: boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    for (let k = i; k < j; k++) rank[order[k]![1]] = (i + 1 + j) / 2; // mean of ranks i+1..j
    i = j;
  }
  const P = positive.filter(Boolean).length, N = positive.length - P;
  const R = rank.reduce((a, r, i) => a + (positive[i] ? r : 0), 0);
  return (R - P * (P + 1) / 2) / (P * N);
}

describe('labelRocs', () => {
  it('gives one ROC per label (hand case with a tie)', () => {
    // 4 examples × 2 labels. Label 0: scores .9 .8 .8 .1 for pos, neg, pos, neg → pairs (pos>neg):
    // .9>.8 ✓, .9>.1 ✓, .8=.8 ½, .8>.1 ✓ → AUC = 3.5/4. Label 1: perfectly reversed → AUC 0.
    const probs = [0.9, 0.1, 0.8, 0.9, 0.8, 0.2, 0.1, 0.8];
    const targets = [1, 1, 0, 0, 1, 1, 0, 0];
    const [r0, r1] = labelRocs(probs, targets, 2);
    expect(r0!.auc).toBeCloseTo(3.5 / 4, 12);
    expect(r0!.fpr).toEqual([0, 0, 0.5, 1]);
    expect(r0!.tpr).toEqual([0, 0.5, 1, 1]);
    expect(r1!.auc).toBe(0);
  });
  it('agrees with the Mann–Whitney U formula on random scores with many ties', () => {
    const rng = new Rng(7), n = 300, C = 3;
    const probs: number[] = [], targets: number[] = [];
    for (let i = 0; i < n * C; i++) {
      const y = rng.next() < 0.3 ? 1 : 0;
      targets.push(y);
      probs.push(Math.round((rng.next() + 0.4 * y) * 10) / 10); // rounded: many ties
    }
    const rocs = labelRocs(probs, targets, C);
    for (let c = 0; c < C; c++) {
      const s = probs.filter((_, i) => i % C === c), p = targets.filter((_, i) => i % C === c).map(t => t === 1);
      expect(rocs[c]!.auc).toBeCloseTo(mannWhitneyAuc(s, p), 12);
      expect(rocs[c]!.auc).toBeGreaterThan(0.6); // the signal is there
    }
  });
  it('names a label without positives', () => {
    expect(() => labelRocs([0.1, 0.2, 0.3, 0.4], [1, 0, 0, 0], 2, ['cat', 'dog'])).toThrow(/label dog: .*0 positive/);
    expect(() => labelRocs([0.1, 0.2, 0.3], [1, 0, 0], 2)).toThrow(/not N × 2/);
  });
});

describe('threshold choice', () => {
  it('f1At counts p ≥ threshold as positive (hand values)', () => {
    // scores .9 .6 .4 .2, positives T F T F; at .4: tp 2, fp 1, fn 0 → P 2/3, R 1, F1 0.8
    const r = f1At([0.9, 0.6, 0.4, 0.2], [true, false, true, false], 0.4);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBe(1);
    expect(r.f1).toBeCloseTo(0.8, 12);
    expect(r.fpr).toBe(0.5);
  });
  it('bestF1Threshold finds the F1-maximising cut (checked against trying every threshold)', () => {
    const scores = [0.9, 0.6, 0.4, 0.2], pos = [true, false, true, false];
    // cuts: .9 → F1 2/3; .6 → 1/2; .4 → 0.8; .2 → 2/3
    const b = bestF1Threshold(scores, pos);
    expect(b.threshold).toBe(0.4);
    expect(b.f1).toBeCloseTo(0.8, 12);
    const rng = new Rng(3);
    const s = Array.from({length: 200}, () => Math.round(rng.next() * 20) / 20), p = s.map(v => rng.next() < v);
    const best = bestF1Threshold(s, p);
    const brute = Math.max(...[...new Set(s)].map(t => f1At(s, p, t).f1));
    expect(best.f1).toBeCloseTo(brute, 12);
    expect(f1At(s, p, best.threshold)).toEqual(best);
  });
  it('chooseThresholds + multiLabelScores: per-label thresholds, exact match, Hamming loss (hand values)', () => {
    const probs = [0.9, 0.3, 0.2, 0.35, 0.7, 0.1];   // 3 examples × 2 labels
    const targets = [1, 0, 0, 1, 1, 0];
    const th = chooseThresholds(probs, targets, 2);
    expect(th.map(t => t.threshold)).toEqual([0.7, 0.35]);
    expect(th.every(t => t.f1 === 1)).toBe(true);
    const at05 = multiLabelScores(probs, targets, 2, 0.5);
    // at 0.5 label 1 is never predicted: rows 0 and 2 exact, row 1 misses label 1 → exact 2/3, Hamming 1/6
    expect(at05.exactMatch).toBeCloseTo(2 / 3, 12);
    expect(at05.hammingLoss).toBeCloseTo(1 / 6, 12);
    expect(at05.macroF1).toBeCloseTo(0.5, 12);
    const tuned = multiLabelScores(probs, targets, 2, th.map(t => t.threshold));
    expect(tuned.exactMatch).toBe(1);
    expect(tuned.hammingLoss).toBe(0);
    expect(() => multiLabelScores(probs, targets, 2, [0.5])).toThrow(/1 thresholds for 2 labels/);
  });
});
