/**
 * Multi-label metrics (Chapter 4, multi-label section; the Keras chest X-ray source's per-label
 * ROC/AUC and threshold choice). Probabilities and targets are row-major [N, C] arrays; targets are
 * multi-hot (1 = the label is present).
 *   - labelRocs: one ROC curve and AUC per label (lib/eval/metrics.ts rocCurve: ties count 1/2).
 *   - bestF1Threshold: the threshold t (predict "present" when p ≥ t) maximising F1 on the data given
 *     — choose it on a held-out part, report on the test set.
 *   - multiLabelScores: per-label precision/recall/F1 at given thresholds, exact-match ratio, Hamming loss.
 */
import {RocCurve, rocCurve} from './metrics';

function checkShape(fn: string, probs: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number): number {
  if (!Number.isInteger(numLabels) || numLabels <= 0) throw new Error(`${fn}: numLabels must be a positive integer (got ${numLabels})`);
  if (probs.length !== targets.length) throw new Error(`${fn}: ${probs.length} probabilities but ${targets.length} targets`);
  if (probs.length % numLabels !== 0) throw new Error(`${fn}: ${probs.length} values are not N × ${numLabels}`);
  return probs.length / numLabels;
}

/** Column c of a row-major [N, C] array. */
function column(a: ArrayLike<number>, n: number, C: number, c: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i * C + c]!;
  return out;
}

/** One ROC curve per label. Throws, naming the label, if a label is never (or always) present. */
export function labelRocs(probs: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number, names?: string[]): RocCurve[] {
  const n = checkShape('labelRocs', probs, targets, numLabels);
  return Array.from({length: numLabels}, (_, c) => {
    const pos = Array.from(column(targets, n, numLabels, c), t => t >= 0.5);
    try { return rocCurve(column(probs, n, numLabels, c), pos); } catch (e) {
      throw new Error(`labelRocs: label ${names?.[c] ?? c}: ${(e as Error).message}`);
    }
  });
}

/** recall is the true-positive rate; fpr the false-positive rate (the point on the ROC curve). */
export interface ThresholdChoice { threshold: number; f1: number; precision: number; recall: number; fpr: number }

/** Precision, recall and F1 of predicting positive when score ≥ threshold (0 where undefined). */
export function f1At(scores: ArrayLike<number>, positive: ArrayLike<boolean>, threshold: number): ThresholdChoice {
  if (scores.length !== positive.length) throw new Error(`f1At: ${scores.length} scores but ${positive.length} labels`);
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]! >= threshold;
    if (p && positive[i]) tp++; else if (p) fp++; else if (positive[i]) fn++; else tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0, recall = tp + fn ? tp / (tp + fn) : 0;
  return {threshold, precision, recall, f1: tp ? 2 * tp / (2 * tp + fp + fn) : 0, fpr: fp + tn ? fp / (fp + tn) : 0};
}

/**
 * The threshold with the highest F1 among the distinct scores (every distinct cut is tried, in
 * O(n log n)); on equal F1 the higher threshold wins (fewer false alarms).
 */
export function bestF1Threshold(scores: ArrayLike<number>, positive: ArrayLike<boolean>): ThresholdChoice {
  const n = scores.length;
  if (positive.length !== n) throw new Error(`bestF1Threshold: ${n} scores but ${positive.length} labels`);
  if (n === 0) throw new Error('bestF1Threshold: no scores');
  let P = 0;
  for (let i = 0; i < n; i++) if (positive[i]) P++;
  if (P === 0) throw new Error('bestF1Threshold: no positive example, F1 is 0 at every threshold');
  const order = Array.from({length: n}, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let tp = 0, fp = 0, best: ThresholdChoice = {threshold: Infinity, f1: -1, precision: 0, recall: 0, fpr: 0};
  for (let i = 0; i < n;) {
    const s = scores[order[i]!]!;
    for (; i < n && scores[order[i]!] === s; i++) positive[order[i]!] ? tp++ : fp++;
    const f1 = 2 * tp / (2 * tp + fp + (P - tp));
    if (f1 > best.f1) best = {threshold: s, f1, precision: tp / (tp + fp), recall: tp / P, fpr: n > P ? fp / (n - P) : 0};
  }
  return best;
}

/** bestF1Threshold per label of [N, C] probabilities. */
export function chooseThresholds(probs: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number): ThresholdChoice[] {
  const n = checkShape('chooseThresholds', probs, targets, numLabels);
  return Array.from({length: numLabels}, (_, c) =>
    bestF1Threshold(column(probs, n, numLabels, c), Array.from(column(targets, n, numLabels, c), t => t >= 0.5)));
}

export interface MultiLabelScores {
  perLabel: ThresholdChoice[];
  /** fraction of examples whose whole predicted label set is right */
  exactMatch: number;
  /** fraction of the N·C yes/no decisions that are wrong */
  hammingLoss: number;
  /** mean F1 over labels */
  macroF1: number;
}

/** Scores of the predictions p ≥ thresholds[c] (one threshold per label, or one for all). */
export function multiLabelScores(probs: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number, thresholds: number | number[]): MultiLabelScores {
  const n = checkShape('multiLabelScores', probs, targets, numLabels);
  const th = typeof thresholds === 'number' ? new Array<number>(numLabels).fill(thresholds) : thresholds;
  if (th.length !== numLabels) throw new Error(`multiLabelScores: ${th.length} thresholds for ${numLabels} labels`);
  let exact = 0, wrong = 0;
  for (let i = 0; i < n; i++) {
    let rowOk = true;
    for (let c = 0; c < numLabels; c++) {
      if ((probs[i * numLabels + c]! >= th[c]!) !== (targets[i * numLabels + c]! >= 0.5)) { wrong++; rowOk = false; }
    }
    if (rowOk) exact++;
  }
  const perLabel = th.map((t, c) => f1At(column(probs, n, numLabels, c), Array.from(column(targets, n, numLabels, c), v => v >= 0.5), t));
  return {perLabel, exactMatch: exact / n, hammingLoss: wrong / (n * numLabels), macroF1: perLabel.reduce((a, p) => a + p.f1, 0) / numLabels};
}
