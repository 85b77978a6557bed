/**
 * Classification metrics — Chapter 4 §4.5: confusion matrix, per-class accuracy, one-vs-rest ROC
 * curves and their AUC (as in the Keras source's per-class ROC/AUC).
 */

/** counts[t][p] = number of examples of true class t predicted as p. */
export function confusionMatrix(predictions: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[][] {
  if (predictions.length !== labels.length) {
    throw new Error(`confusionMatrix: ${predictions.length} predictions but ${labels.length} labels`);
  }
  // BEGIN SOLUTION confusion-matrix
  const m = Array.from({length: numClasses}, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!, p = predictions[i]!;
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) throw new Error(`confusionMatrix: class index out of range at ${i} (true ${t}, predicted ${p}, numClasses ${numClasses})`);
    m[t]![p]!++;
  }
  return m;
  // END SOLUTION
}

/** Recall per class: diagonal / row sum (NaN for a class with no examples). */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, c) => row[c]! / row.reduce((a, b) => a + b, 0));
}

export function accuracyFromConfusion(confusion: number[][]): number {
  let diag = 0, total = 0;
  confusion.forEach((row, c) => { diag += row[c]!; total += row.reduce((a, b) => a + b, 0); });
  return diag / total;
}

export interface RocCurve {
  fpr: number[];   // false-positive rate at each threshold, from 0 to 1
  tpr: number[];   // true-positive rate
  auc: number;     // area under the curve (trapezoids); = P(score of a positive > score of a negative), ties count 1/2
}

/** ROC of scores for a binary problem (positive[i] true/false); tied scores form one step. */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): RocCurve {
  const n = scores.length;
  if (positive.length !== n) throw new Error(`rocCurve: ${n} scores but ${positive.length} labels`);
  let P = 0;
  for (let i = 0; i < n; i++) if (positive[i]) P++;
  const N = n - P;
  if (P === 0 || N === 0) throw new Error(`rocCurve: need both positive and negative examples (got ${P} positive, ${N} negative)`);
  const order = Array.from({length: n}, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const fpr = [0], tpr = [0];
  let tp = 0, fp = 0, auc = 0;
  for (let i = 0; i < n;) {
    const s = scores[order[i]!]!;
    let dtp = 0, dfp = 0;
    for (; i < n && scores[order[i]!] === s; i++) positive[order[i]!] ? dtp++ : dfp++;
    auc += dfp * (tp + dtp / 2);   // each new negative is beaten by the positives above it (ties 1/2)
    tp += dtp; fp += dfp;
    fpr.push(fp / N); tpr.push(tp / P);
  }
  return {fpr, tpr, auc: auc / (P * N)};
}

/** One-vs-rest ROC per class from probabilities [count, C] (row-major). */
export function oneVsRestRoc(probs: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): RocCurve[] {
  const n = labels.length;
  if (probs.length !== n * numClasses) throw new Error(`oneVsRestRoc: probabilities have ${probs.length} values, expected ${n} x ${numClasses}`);
  return Array.from({length: numClasses}, (_, c) => {
    const s = new Float64Array(n), pos = new Array<boolean>(n);
    for (let i = 0; i < n; i++) { s[i] = probs[i * numClasses + c]!; pos[i] = labels[i] === c; }
    return rocCurve(s, pos);
  });
}
