/**
 * "Why a ViT needs data", measured: a CNN and the course ViT trained on 10/25/50/100 %
 * of CIFAR-10 with the SAME number of training images seen (a smaller fraction gets more epochs),
 * several seeds, accuracy on the full test set. The pure parts live here (tested); the training
 * loop is `npm run data-fraction` (scripts/data-fraction.ts).
 */
import {Rng} from '../core/rng';

/**
 * The study's CNN: a ResNet-8 of lib/cnn/resnet.ts (one basic block per stage) with stage widths
 * 16, 32, 64 — 78 k parameters, a tenth of the course ViT's, and about twice as fast on one core as
 * the default widths 32, 64, 128. `npm run data-fraction --cnn-widths` overrides it.
 */
export const DATA_FRACTION_CNN_WIDTHS: readonly number[] = [16, 32, 64];

/**
 * A class-balanced subset: per class, the first ⌊fraction · n_c⌉ indices of a seeded shuffle of that
 * class's images (the same seed gives nested subsets: 10 % ⊂ 25 % ⊂ 50 % ⊂ 100 %). Indices sorted.
 */
export function balancedSubset(labels: ArrayLike<number>, fraction: number, seed: number, numClasses = 10): Int32Array {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`balancedSubset: fraction must be in (0, 1] (got ${fraction})`);
  const byClass: number[][] = Array.from({length: numClasses}, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!(c >= 0 && c < numClasses)) throw new Error(`balancedSubset: label ${c} at ${i} is not a class 0..${numClasses - 1}`);
    byClass[c]!.push(i);
  }
  const out: number[] = [];
  byClass.forEach((idx, c) => {
    const rng = new Rng(seed * 1009 + c);
    for (let i = idx.length - 1; i > 0; i--) { const j = rng.int(i + 1); [idx[i], idx[j]] = [idx[j]!, idx[i]!]; }
    out.push(...idx.slice(0, Math.round(fraction * idx.length)));
  });
  return Int32Array.from(out.sort((a, b) => a - b));
}

/** Epochs that see about `imagesSeen` images from `count` (at least 1), and the warm-up: 5 % of them, rounded. */
export function epochsForBudget(imagesSeen: number, count: number): {epochs: number; warmupEpochs: number} {
  if (!(imagesSeen > 0 && count > 0)) throw new Error(`epochsForBudget: need imagesSeen > 0 and count > 0 (got ${imagesSeen}, ${count})`);
  const epochs = Math.max(1, Math.round(imagesSeen / count));
  return {epochs, warmupEpochs: Math.min(epochs - 1, Math.round(epochs / 20))};
}

export interface FractionRun { model: string; fraction: number; seed: number; testAcc: number }
export interface FractionSummary { model: string; fraction: number; seeds: number; mean: number; sd: number }

/**
 * Mean and sample standard deviation (n − 1; 0 for one run) of test accuracy per group of runs with
 * equal `keys`, in input order: each group's key fields, its number of seeds, mean and sd.
 */
export function meanSdBy<R extends {testAcc: number}, K extends keyof R>(runs: R[], keys: readonly K[]): (Pick<R, K> & {seeds: number; mean: number; sd: number})[] {
  const groups = new Map<string, R[]>();
  for (const r of runs) {
    const k = keys.map((key) => String(r[key])).join('\u0000');
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((g) => {
    const n = g.length, mean = g.reduce((a, r) => a + r.testAcc, 0) / n;
    const sd = n > 1 ? Math.sqrt(g.reduce((a, r) => a + (r.testAcc - mean) ** 2, 0) / (n - 1)) : 0;
    const head = {} as Pick<R, K>;
    for (const key of keys) head[key] = g[0]![key];
    return {...head, seeds: n, mean, sd};
  });
}

/** Mean and sample standard deviation (n − 1) of test accuracy per (model, fraction), in input order. */
export function summarize(runs: FractionRun[]): FractionSummary[] {
  return meanSdBy(runs, ['model', 'fraction'] as const);
}

/** The key of a run: one (model, fraction, seed) is trained once (scripts/data-fraction.ts merges by it). */
export const runKey = (r: {model: string; fraction: number; seed: number}) => `${r.model}/${r.fraction}/${r.seed}`;
