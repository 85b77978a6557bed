/**
 * Recipe levers, measured (Chapter 4): every lever is one change to a base recipe, trained on
 * the whole training set for a budget of whole epochs, with several seeds, and evaluated on the
 * whole test set. The pure parts live here (tested): the lever list, the budget's schedule, the
 * mean ± sd summary and the rank comparison between two budgets. The training loop is
 * `npm run levers` (scripts/levers.ts).
 */
import {meanSdBy} from './data-fraction';
import {getRecipe, TrainRecipe} from './recipes';

export interface Lever {
  name: string;
  /** One line for tables: what the lever changes relative to the base recipe. */
  what: string;
  /** The base recipe with this lever applied (the base itself for 'baseline'). */
  apply: (base: TrainRecipe) => TrainRecipe;
}

const withModel = (r: TrainRecipe, m: Partial<TrainRecipe['model']>): TrainRecipe => ({...r, model: {...r.model, ...m}});
const withAugment = (r: TrainRecipe, a: Partial<TrainRecipe['augment']>): TrainRecipe => ({...r, augment: {...r.augment, ...a}});

/** The levers of Chapter 4 (augmentation, EMA, stochastic depth, tokenizers), each alone on top of the base recipe (by default cifar-small). */
export const LEVERS: Lever[] = [
  {name: 'baseline', what: 'the base recipe as it is (cifar-small: crop + flip, label smoothing 0.1)', apply: (r) => r},
  {name: 'no-augmentation', what: 'no crop, no flip', apply: (r) => withAugment(r, {crop: false, flip: false, cutmix: 0, mixup: 0})},
  {name: 'trivial-augment', what: 'TrivialAugment after crop + flip', apply: (r) => withAugment(r, {trivialAugment: true, randAugment: undefined})},
  {name: 'rand-augment', what: 'RandAugment n 2, m 9 after crop + flip', apply: (r) => withAugment(r, {randAugment: {n: 2, m: 9}, trivialAugment: undefined})},
  {name: 'mixup-cutmix', what: 'mixup or CutMix on every batch (0.5 each)', apply: (r) => withAugment(r, {cutmix: 0.5, mixup: 0.5})},
  {name: 'ema', what: 'evaluate the EMA of the weights (decay 0.999)', apply: (r) => ({...r, ema: 0.999})},
  {name: 'stochastic-depth', what: 'stochastic depth 0.1 (last block; linear in depth)', apply: (r) => withModel(r, {dropPath: 0.1})},
  {name: 'conv-tokenizer', what: 'convolutional tokenizer (2 conv-ReLU-maxpool stages, 64 channels) + sequence pooling',
    apply: (r) => withModel(r, {tokenizer: 'conv', convStages: 2, convChannels: 64, pool: 'seq'})},
  {name: 'spt-lsa', what: 'shifted-patch tokenizer + locality self-attention (Lee et al. 2021)',
    apply: (r) => withModel(r, {tokenizer: 'shifted-patch', lsa: true})},
];

export function leverByName(name: string): Lever {
  const l = LEVERS.find((x) => x.name === name);
  if (!l) throw new Error(`unknown lever "${name}" (known: ${LEVERS.map((x) => x.name).join(', ')})`);
  return l;
}

/**
 * The recipe of one ablation run: the base recipe sized to `epochs` whole epochs (warm-up: 10 % of
 * them, at least 1 and fewer than all), the seed, then the lever.
 */
export function ablationRecipe(lever: Lever | string, epochs: number, seed: number, base = 'cifar-small'): TrainRecipe {
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`ablation budget: epochs must be a positive integer (got ${epochs})`);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`ablation seed must be a non-negative integer (got ${seed})`);
  const warmupEpochs = epochs === 1 ? 0 : Math.min(epochs - 1, Math.max(1, Math.round(epochs / 10)));
  const l = typeof lever === 'string' ? leverByName(lever) : lever;
  return l.apply(getRecipe(base, {epochs, warmupEpochs, seed}));
}

export interface AblationRun { lever: string; epochs: number; seed: number; testAcc: number }
export interface AblationSummary { lever: string; epochs: number; seeds: number; mean: number; sd: number }

/** Mean and sample standard deviation (n − 1; 0 for one seed) of test accuracy per (lever, epochs), in input order. */
export function summarizeAblation(runs: AblationRun[]): AblationSummary[] {
  return meanSdBy(runs, ['lever', 'epochs'] as const);
}

/**
 * Do two budgets rank the levers they share the same way? Returns the levers in order of mean
 * accuracy at each budget and Spearman's rank correlation (no ties assumed; 1 = same order).
 */
export function compareRanks(summary: AblationSummary[], shortEpochs: number, longEpochs: number):
  {levers: string[]; short: string[]; long: string[]; spearman: number; sameOrder: boolean} {
  const at = (e: number) => new Map(summary.filter((s) => s.epochs === e).map((s) => [s.lever, s.mean]));
  const a = at(shortEpochs), b = at(longEpochs);
  const levers = [...a.keys()].filter((l) => b.has(l));
  if (levers.length < 2) throw new Error(`compareRanks: need at least 2 levers measured at both ${shortEpochs} and ${longEpochs} epochs (have ${levers.length})`);
  const order = (m: Map<string, number>) => [...levers].sort((x, y) => m.get(y)! - m.get(x)!);
  const short = order(a), long = order(b);
  const n = levers.length;
  const d2 = levers.reduce((s, l) => s + (short.indexOf(l) - long.indexOf(l)) ** 2, 0);
  const spearman = 1 - (6 * d2) / (n * (n * n - 1));
  return {levers, short, long, spearman, sameOrder: short.every((l, i) => long[i] === l)};
}
