import {describe, expect, it} from 'vitest';
import {accuracyFromConfusion, confusionMatrix, oneVsRestRoc, perClassAccuracy, rocCurve} from '../../lib/eval/metrics';

describe('confusion matrix', () => {
  it('counts true x predicted pairs', () => {
    const m = confusionMatrix([0, 1, 1, 2, 2, 0], [0, 1, 2, 2, 2, 1], 3);
    expect(m).toEqual([[1, 0, 0], [1, 1, 0], [0, 1, 2]]);
    expect(perClassAccuracy(m)).toEqual([1, 0.5, 2 / 3]);
    expect(accuracyFromConfusion(m)).toBeCloseTo(4 / 6, 12);
  });
  it('rejects mismatched lengths and out-of-range classes', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 predictions but 1 labels/);
    expect(() => confusionMatrix([0, 3], [0, 1], 2)).toThrow(/out of range at 1/);
  });
});

describe('ROC / AUC', () => {
  it('hand-computed AUC: scores [0.9, 0.8, 0.7, 0.6] with labels [+, -, +, -] = 3/4', () => {
    const r = rocCurve([0.9, 0.8, 0.7, 0.6], [true, false, true, false]);
    expect(r.auc).toBeCloseTo(0.75, 12);
    expect(r.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(r.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
  });
  it('ties count one half and perfect separation gives 1', () => {
    expect(rocCurve([0.5, 0.5], [true, false]).auc).toBeCloseTo(0.5, 12);
    expect(rocCurve([3, 2, 1, 0], [true, true, false, false]).auc).toBe(1);
  });
  it('equals the pairwise (Mann-Whitney) probability on random data', () => {
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const scores = Array.from({length: 200}, () => Math.round(rnd() * 20) / 20), pos = scores.map(x => rnd() < 0.3 + 0.4 * x);
    let wins = 0, pairs = 0;
    for (let i = 0; i < 200; i++) for (let j = 0; j < 200; j++) if (pos[i] && !pos[j]) { pairs++; wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0; }
    expect(rocCurve(scores, pos).auc).toBeCloseTo(wins / pairs, 10);
  });
  it('one-vs-rest uses each class column', () => {
    const probs = [0.8, 0.2, 0.3, 0.7, 0.6, 0.4];
    const rocs = oneVsRestRoc(probs, [0, 1, 1], 2);
    expect(rocs[0]!.auc).toBe(1);
    expect(rocs[1]!.auc).toBe(1);
    expect(() => rocCurve([1, 2], [true, true])).toThrow(/need both positive and negative/);
  });
});
