/**
 * The CIFAR-10 ViT training loop's pieces — Chapter 4 — shared by `npm run train` and the
 * chapter's live run (same code path, smaller budget).
 *
 * Exact resume: the data order of epoch e and the augmentation of batch b are drawn from RNGs
 * seeded by (seed, e) and (seed, e, b) alone, and the learning rate is a pure function of the
 * step, so a run restored from (params, AdamW moments, step, epoch, batch) continues exactly.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {Params, disposeParams} from '../core/params';
import {assignParams, CheckpointHeader, checkShapes, loadCheckpoint, LoadedCheckpoint} from '../io/checkpoint';
import {Rng} from '../core/rng';
import {cutmix, mixup, oneHot, randAugment, randomCropFlip, trivialAugment} from '../data/augment';
import {epochOrder, gatherBatch, numBatches, sliceSet} from '../data/batches';
import {headOf, ImageSet} from '../data/cifar';
import {CIFAR10_MEAN, CIFAR10_STD, toNormalizedTensor} from '../data/normalize';
import {initViT, ViTConfig, vitForward, vitParamShapes} from '../vit/model';
import {AdamW} from '../optim/adamw';
import {FusedAdamW} from '../optim/fused-adamw';
import {clipByGlobalNorm} from '../optim/clip';
import {crossEntropy} from '../optim/losses';
import {stepProgress} from '../progress';
import {TrainRecipe, validateRecipe} from './recipes';
import {warmupCosine} from '../optim/schedule';

/** A 32-bit seed from several integers (splitmix-style hashing), for stateless per-batch RNGs. */
export function deriveSeed(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

export interface Trainer {
  recipe: TrainRecipe;
  params: Params;
  optimizer: AdamW;
  stepsPerEpoch: number;
  totalSteps: number;
  /** EMA of the weights (recipe.ema > 0): non-trainable copies, updated after every step. */
  ema?: Params;
  /** Another model than recipe.model's ViT (e.g. the CNN baseline of the data-fraction runs). */
  forward?: Forward;
  /** Data-parallel training (recipe.workers 2): the process that computes the second half of each batch (lib/train/data-parallel.ts). */
  worker?: EvalPeer & {
    close(): void;
    lossAndGrads(t: Trainer, batch: Batch, vars: tf.Variable[]): Promise<{value: tf.Scalar; grads: tf.NamedTensorMap; pred: tf.Tensor}>;
  };
}

/** A model's forward pass: images [B, H, W, C] → logits [B, classes]. */
export type Forward = (params: Params, x: tf.Tensor, opts: {training?: boolean; seed?: number}) => tf.Tensor2D;

export function createTrainer(recipe: TrainRecipe, trainCount: number): Trainer {
  const params = initViT(recipe.model, recipe.seed);
  const optimizer = new FusedAdamW(params, {lr: recipe.lr, weightDecay: recipe.weightDecay}); // AdamW, one native kernel per parameter when available
  const stepsPerEpoch = numBatches(trainCount, recipe.batchSize, true);
  if (stepsPerEpoch < 1) throw new Error(`the training set (${trainCount} images) is smaller than one batch (${recipe.batchSize})`);
  const t: Trainer = {recipe, params, optimizer, stepsPerEpoch, totalSteps: stepsPerEpoch * recipe.epochs};
  if (recipe.ema) {
    t.ema = {};
    for (const [n, v] of Object.entries(params)) t.ema[n] = tf.variable(v, false, `ema.${n}.${v.name}`);
  }
  return t;
}

export function disposeTrainer(t: Trainer): void {
  t.worker?.close();
  t.optimizer.dispose();
  for (const v of Object.values(t.params)) v.dispose();
  for (const v of Object.values(t.ema ?? {})) v.dispose();
}

/** The weights to evaluate and export: the EMA when the recipe keeps one, else the trained ones. */
export function evalParams(t: Trainer): Params {
  return t.ema ?? t.params;
}

/** The EMA decay used after optimizer step `step`: min(ema, (1 + step)/(10 + step)). */
export function emaDecay(ema: number, step: number): number {
  return Math.min(ema, (1 + step) / (10 + step));
}

/** ema ← d·ema + (1 − d)·θ for every parameter, d = emaDecay(recipe.ema, step). */
export function updateEma(t: Trainer, step: number): void {
  if (!t.ema || !t.recipe.ema) return;
  const d = emaDecay(t.recipe.ema, step);
  tf.tidy(() => {
    for (const [n, e] of Object.entries(t.ema!)) e.assign(tf.add(tf.mul(e, d), tf.mul(t.params[n]!, 1 - d)));
  });
}

/**
 * The learning rate of optimizer step `step` (0-based) under the recipe's schedule. Needs only the
 * recipe and the step counts, so a chapter can plot a schedule without building a model.
 */
export function learningRate(t: Pick<Trainer, 'recipe' | 'stepsPerEpoch' | 'totalSteps'>, step: number): number {
  const r = t.recipe;
  if (r.schedule === 'cosine-annealing') {
    // torch.optim.lr_scheduler.CosineAnnealingLR(T_max = tMax), scheduler.step() once per epoch (eta_min = minLr)
    const epoch = Math.floor(step / t.stepsPerEpoch);
    return r.minLr + ((r.lr - r.minLr) * (1 + Math.cos((Math.PI * epoch) / r.tMax!))) / 2;
  }
  return warmupCosine(step, {baseLr: r.lr, warmupSteps: r.warmupEpochs * t.stepsPerEpoch, totalSteps: t.totalSteps, minLr: r.minLr});
}

/** The recipe's input normalisation (mean, std per channel). */
export function normalization(recipe: TrainRecipe): {mean: number[]; std: number[]} {
  return recipe.normalize === 'half' ? {mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]} : {mean: CIFAR10_MEAN, std: CIFAR10_STD};
}

/** The shuffled order of epoch `epoch` (0-based). */
export function orderOfEpoch(recipe: TrainRecipe, count: number, epoch: number): Int32Array {
  return epochOrder(count, new Rng(deriveSeed(recipe.seed, epoch)));
}

export interface Batch {
  x: tf.Tensor4D;        // [B, 32, 32, 3] normalised
  targets: tf.Tensor2D;  // [B, 10] soft targets (label smoothing / mixing applied)
  labels: Uint8Array;    // the original labels (for accuracy)
  seed?: number;         // seed of the batch's dropout / stochastic depth masks (exact resume)
}

/** Batch `b` of epoch `epoch`: gather, augment (seeded by (seed, epoch, b)), normalise. */
export function makeBatch(recipe: TrainRecipe, set: ImageSet, order: Int32Array, epoch: number, b: number): Batch {
  const B = recipe.batchSize;
  const rng = new Rng(deriveSeed(recipe.seed, epoch, b, 1));
  const raw = gatherBatch(set, order.subarray(b * B, (b + 1) * B));
  let images = raw.images;
  const a = recipe.augment;
  if (a.crop || a.flip) images = a.crop ? randomCropFlip(images, raw.count, rng, 4, a.flip) : randomCropFlip(images, raw.count, rng, 0, a.flip);
  if (a.randAugment) images = randAugment(images, raw.count, rng, {n: a.randAugment.n, m: a.randAugment.m});
  else if (a.trivialAugment) images = trivialAugment(images, raw.count, rng);
  let soft: Float32Array;
  const u = rng.next();
  if (a.cutmix > 0 && u < a.cutmix) {
    const m = cutmix(images, raw.labels, raw.count, rng, {smoothing: recipe.labelSmoothing});
    images = m.images; soft = m.labels;
  } else if (a.mixup > 0 && u < a.cutmix + a.mixup) {
    const m = mixup(images, raw.labels, raw.count, rng, {smoothing: recipe.labelSmoothing});
    images = m.images; soft = m.labels;
  } else {
    soft = oneHot(raw.labels, 10, recipe.labelSmoothing);
  }
  const {mean, std} = normalization(recipe);
  return {
    x: toNormalizedTensor(images, raw.count, mean, std),
    targets: tf.tensor2d(soft, [raw.count, 10]),
    labels: raw.labels,
    seed: deriveSeed(recipe.seed, epoch, b, 2) % 1e9,
  };
}

export interface StepResult { loss: number; correct: number; gradNorm: number; lr: number }

/**
 * Loss, gradients (by variable name) and predicted classes of a batch. With `recipe.microBatch`
 * smaller than the batch, the batch is processed in slices whose gradients are accumulated with
 * weights n_i / B, so the result equals the whole-batch mean loss and its gradient (up to float
 * rounding; dropout masks differ per slice) while only one slice's activations are alive.
 */
export function lossAndGrads(t: Trainer, batch: Batch, vars: tf.Variable[]): {value: tf.Scalar; grads: tf.NamedTensorMap; pred: tf.Tensor} {
  const B = batch.x.shape[0];
  const mb = t.recipe.microBatch && t.recipe.microBatch < B ? t.recipe.microBatch : B;
  let acc: {value: tf.Scalar; grads: tf.NamedTensorMap} | undefined;
  const preds: tf.Tensor[] = [];
  for (let start = 0; start < B; start += mb) {
    const n = Math.min(mb, B - start), whole = n === B;
    const xs = whole ? batch.x : tf.slice(batch.x, [start, 0, 0, 0], [n, -1, -1, -1]);
    const ys = whole ? batch.targets : tf.slice(batch.targets, [start, 0], [n, -1]);
    const r = sliceLossAndGrads(t.params, t.recipe.model, t.forward, xs, ys, sliceSeed(batch, start), whole ? 1 : n / B, vars);
    if (!whole) tf.dispose([xs, ys]);
    preds.push(r.pred);
    acc = accumulate(acc, r);
  }
  if (preds.length === 1) return {...acc!, pred: preds[0]!};
  const pred = tf.concat(preds);
  tf.dispose(preds);
  return {...acc!, pred};
}

/** The dropout / stochastic-depth seed of the slice that starts at image `start` of a batch. */
export function sliceSeed(batch: Batch, start: number): number | undefined {
  return batch.seed === undefined ? undefined : batch.seed + 7919 * start;
}

/**
 * One slice of a batch: its loss times `weight` (n / B for a slice of n of B images; 1 for the
 * whole batch), the gradients of that weighted loss by variable name, and the predicted classes
 * (kept). Shared by gradient accumulation and by the data-parallel worker process.
 */
export function sliceLossAndGrads(params: Params, model: ViTConfig, forward: Forward | undefined, xs: tf.Tensor, ys: tf.Tensor,
  seed: number | undefined, weight: number, vars: tf.Variable[]): {value: tf.Scalar; grads: tf.NamedTensorMap; pred: tf.Tensor} {
  let pred: tf.Tensor | undefined;
  const r = tf.variableGrads(() => {
    const runOpts = {training: true, seed};
    const logits = forward ? forward(params, xs, runOpts) : vitForward(params, model, xs, runOpts).logits;
    pred = tf.keep(tf.argMax(logits, -1));
    const loss = crossEntropy(logits, ys as tf.Tensor2D, 0);
    return weight === 1 ? loss : tf.mul(loss, weight) as tf.Scalar;
  }, vars);
  return {value: r.value, grads: r.grads, pred: pred!};
}

/** acc + r, in this order (the sums of accumulation); disposes the operands. */
export function accumulate(acc: {value: tf.Scalar; grads: tf.NamedTensorMap} | undefined, r: {value: tf.Scalar; grads: tf.NamedTensorMap}):
  {value: tf.Scalar; grads: tf.NamedTensorMap} {
  if (!acc) return {value: r.value, grads: r.grads};
  const value = tf.add(acc.value, r.value) as tf.Scalar;
  tf.dispose([acc.value, r.value]);
  const grads: tf.NamedTensorMap = {};
  for (const k of Object.keys(r.grads)) {
    grads[k] = tf.add(acc.grads[k]!, r.grads[k]!);
    tf.dispose([acc.grads[k]!, r.grads[k]!]);
  }
  return {value, grads};
}

/** One optimisation step at global step `step`; disposes the batch. */
export async function trainStep(t: Trainer, batch: Batch, step: number): Promise<StepResult> {
  const lr = learningRate(t, step);
  const names = Object.keys(t.params);
  const vars = names.map(n => t.params[n]!);
  const {value, grads, pred: logitsKept} = t.worker ? await t.worker.lossAndGrads(t, batch, vars) : lossAndGrads(t, batch, vars);
  const byName: Record<string, tf.Tensor> = {};
  for (let i = 0; i < names.length; i++) byName[names[i]!] = grads[vars[i]!.name]!;
  let norm = NaN;
  if (t.recipe.clipNorm > 0) {
    const c = clipByGlobalNorm(byName, t.recipe.clipNorm);
    norm = c.norm;
    t.optimizer.step(c.grads, lr);
    tf.dispose(Object.values(c.grads));
  } else {
    t.optimizer.step(byName, lr);
  }
  updateEma(t, step);
  const [lossArr, pred] = await Promise.all([value.data(), logitsKept.data()]);
  let correct = 0;
  for (let i = 0; i < batch.labels.length; i++) if (pred[i] === batch.labels[i]) correct++;
  tf.dispose([value, logitsKept, batch.x, batch.targets]);
  tf.dispose(Object.values(grads));
  stepProgress(t, {loss: lossArr[0]!, step: step + 1, total: t.totalSteps, label: `train ${t.recipe.name}`});
  return {loss: lossArr[0]!, correct, gradNorm: norm, lr};
}

export interface EvalResult {
  loss: number;           // mean cross-entropy (no smoothing)
  accuracy: number;       // top-1 in [0, 1]
  predictions: Int32Array;
  probs: Float32Array;    // [count, 10] softmax probabilities
  /** With test-time augmentation: the same measures of the plain images alone (one pass), computed on the way. */
  single?: {loss: number; accuracy: number; predictions: Int32Array};
}

/**
 * Forward the whole set in batches (no augmentation). A recipe with `tta: 'flip'` classifies each
 * image and its left-right mirror and averages the two logit vectors (loss and probabilities come
 * from the averaged logits); `single` then holds the plain images' own results, which the first of
 * the two passes gives for free. Pass `{...recipe, tta: undefined}` for the single pass alone.
 */
export async function evaluate(params: Params, recipe: TrainRecipe, set: ImageSet, batchSize = 250, forward?: Forward,
  peer?: EvalPeer): Promise<EvalResult> {
  const n = set.count, C = recipe.model.numClasses, tta = recipe.tta === 'flip';
  // with a peer process (data-parallel training), the later half of the batches is evaluated there
  // meanwhile; the batches are the same as in one process and their results are added in order
  const nb = Math.ceil(n / batchSize);
  const cut = peer && !forward && nb >= 2 ? Math.ceil(nb / 2) * batchSize : n;
  const remote = cut < n ? await peer!.startEval(params, recipe, sliceSet(set, cut, n), batchSize) : undefined;
  let parts: EvalBatches[];
  try {
    parts = [await evalBatches(params, recipe, cut < n ? headOf(set, cut) : set, batchSize, forward)];
  } catch (e) {
    remote?.answer.catch(() => undefined);
    throw e;
  }
  if (remote) parts.push(await remote.answer);
  const predictions = new Int32Array(n), probs = new Float32Array(n * C), single = new Int32Array(tta ? n : 0);
  let lossSum = 0, correct = 0, singleLoss = 0, singleCorrect = 0, at = 0;
  for (const part of parts) {
    probs.set(part.probs, at * C);
    const count = part.probs.length / C;
    for (let i = 0; i < count; i++) {
      const best = argmaxRow(part.probs, i, C);
      predictions[at + i] = best;
      if (best === set.labels[at + i]) correct++;
      if (tta) {
        single[at + i] = part.single!.preds[i]!;
        if (single[at + i] === set.labels[at + i]) singleCorrect++;
      }
    }
    for (const l of part.losses) lossSum += l;
    for (const l of part.single?.losses ?? []) singleLoss += l;
    at += count;
  }
  return {loss: lossSum / n, accuracy: correct / n, predictions, probs,
    ...(tta ? {single: {loss: singleLoss / n, accuracy: singleCorrect / n, predictions: single}} : {})};
}

/** The class of row `i` of a [rows, C] score table with the largest score (the first on ties). */
function argmaxRow(v: ArrayLike<number>, i: number, C: number): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (v[i * C + c]! > v[i * C + best]!) best = c;
  return best;
}

/** What evaluate computes per batch for a run of batches: the raw material of EvalResult. */
export interface EvalBatches {
  /** [count, classes] softmax probabilities (of the averaged logits with test-time augmentation) */
  probs: Float32Array;
  /** per batch, the sum of its images' cross-entropies */
  losses: number[];
  /** with test-time augmentation: the plain images' own predicted classes and loss sums */
  single?: {preds: Int32Array; losses: number[]};
}

/** Another process that evaluates part of a set (the data-parallel worker, lib/train/data-parallel.ts). */
export interface EvalPeer {
  /** Starts evalBatches of `set` there with these weights; resolves once the request has left this process. */
  startEval(params: Params, recipe: TrainRecipe, set: ImageSet, batchSize: number): Promise<{answer: Promise<EvalBatches>}>;
}

/** The forward passes of evaluate over the whole of `set`, batch by batch (no augmentation). */
export async function evalBatches(params: Params, recipe: TrainRecipe, set: ImageSet, batchSize = 250, forward?: Forward): Promise<EvalBatches> {
  const n = set.count, C = recipe.model.numClasses, tta = recipe.tta === 'flip';
  const probs = new Float32Array(n * C), losses: number[] = [];
  const single = tta ? {preds: new Int32Array(n), losses: [] as number[]} : undefined;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const idx = Int32Array.from({length: e - s}, (_, i) => s + i);
    const raw = gatherBatch(set, idx);
    const out = tf.tidy(() => {
      const {mean, std} = normalization(recipe);
      const x = toNormalizedTensor(raw.images, raw.count, mean, std);
      const fwd = (im: tf.Tensor) => forward ? forward(params, im, {}) : vitForward(params, recipe.model, im).logits;
      const lbl = tf.tensor1d(Array.from(raw.labels), 'int32');
      const plain = fwd(x);
      // NHWC: axis 2 is the width, so reversing it mirrors every image left-right
      const logits = tta ? tf.mul(tf.add(plain, fwd(tf.reverse(x, 2))), 0.5) as tf.Tensor2D : plain;
      const res = [tf.softmax(logits), tf.mul(crossEntropy(logits, lbl, 0), raw.count)];
      return tta ? [...res, plain, tf.mul(crossEntropy(plain, lbl, 0), raw.count)] : res;
    });
    probs.set(await out[0]!.data(), s * C);
    losses.push((await out[1]!.data())[0]!);
    if (single) {
      const sv = await out[2]!.data();
      for (let i = 0; i < raw.count; i++) single.preds[s + i] = argmaxRow(sv, i, C);
      single.losses.push((await out[3]!.data())[0]!);
    }
    tf.dispose(out);
  }
  return {probs, losses, ...(single ? {single} : {})};
}

/**
 * Loss and accuracy on the first `count` training images, clean (no augmentation) and against the
 * plain labels (no smoothing) — the same measurement as the test set's, so the two curves compare
 * like with like. The per-step training loss of a recipe with label smoothing and augmentation
 * cannot: it is measured against softened targets (floor > 0) on harder, augmented images.
 */
export async function cleanTrainMetrics(params: Params, recipe: TrainRecipe, train: ImageSet, count: number, peer?: EvalPeer):
  Promise<{trainCleanLoss: number; trainCleanAcc: number; trainCleanCount: number}> {
  const n = Math.min(count, train.count);
  if (!(n >= 1)) throw new Error(`cleanTrainMetrics: count must be at least 1 (got ${count})`);
  const ev = await evaluate(params, recipe, headOf(train, n), 250, undefined, peer);
  return {trainCleanLoss: ev.loss, trainCleanAcc: ev.accuracy, trainCleanCount: n};
}

/** Accuracy over the first `k` records (e.g. the 1,017 exact-pixel test records). */
export function accuracyOfFirst(predictions: Int32Array, labels: Uint8Array, k: number): number {
  let c = 0;
  for (let i = 0; i < k; i++) if (predictions[i] === labels[i]) c++;
  return c / k;
}

/**
 * The recipe a checkpoint's header carries, checked like a config (validateRecipe), and its tensors'
 * shapes checked against that recipe's model (and the AdamW moments against the params when
 * `optimizer`) — all from the header, before any tensor is decoded or any model allocated.
 */
export function recipeOfCheckpoint(h: CheckpointHeader, opts: {optimizer?: boolean} = {}): TrainRecipe {
  const raw = h.meta.recipe as TrainRecipe | undefined;
  if (!raw || typeof raw !== 'object' || !raw.model) throw new Error('no training recipe in its metadata: not a checkpoint written by npm run train or npm run export-model');
  const recipe = validateRecipe(raw, "its recipe");
  const want = vitParamShapes(recipe.model);
  checkShapes(h.shapes, want);
  if (opts.optimizer) {
    if (!h.hasOptimizer) throw new Error('holds no optimizer state (it is an exported model, not a training checkpoint)');
    checkShapes(h.moments.m, want, 'optimizer state (first moments)');
    checkShapes(h.moments.v, want, 'optimizer state (second moments)');
    if (recipe.ema) checkShapes(h.ema, want, 'EMA weights');
  }
  if (!recipe.ema && Object.keys(h.ema).length > 0) throw new Error('holds EMA weights but its recipe keeps no EMA (ema is 0 or absent)');
  return recipe;
}

/** Names of parameters holding NaN or ±Infinity (a diverged run), with the count of such values. */
export function nonFiniteParams(params: Record<string, {data: Float32Array}>): {names: string[]; count: number} {
  const names: string[] = [];
  let count = 0;
  for (const [n, p] of Object.entries(params)) {
    let k = 0;
    for (let i = 0; i < p.data.length; i++) if (!Number.isFinite(p.data[i]!)) k++;
    if (k > 0) { names.push(n); count += k; }
  }
  return {names, count};
}

/**
 * A ViT checkpoint written by `npm run train` (or `npm run export-model`) as a ready model: reads
 * the header, validates the recipe in its metadata like a config and the tensor shapes against it
 * (so a crafted file claiming a huge model is refused before anything is allocated), refuses
 * non-finite weights (a diverged run), builds the ViT and copies the weights in. Errors name the file.
 */
export async function loadTrainedViT(file: string): Promise<{params: Params; recipe: TrainRecipe; checkpoint: LoadedCheckpoint}> {
  let recipe: TrainRecipe | undefined;
  const checkpoint = await loadCheckpoint(file, {check: (h) => { recipe = recipeOfCheckpoint(h); }});
  // a training checkpoint of an EMA recipe: the model is the EMA of the weights (what training evaluated)
  const weights = recipe!.ema && checkpoint.ema ? checkpoint.ema : checkpoint.params;
  const bad = nonFiniteParams(weights);
  if (bad.count > 0) {
    throw new Error(`${file} holds ${bad.count} non-finite weights (NaN or Infinity, in ${bad.names.slice(0, 3).join(', ')}${bad.names.length > 3 ? ', …' : ''}): the training that wrote it diverged; use an earlier checkpoint`);
  }
  const params = initViT(recipe!.model, 0);
  try {
    assignParams(params, weights);
  } catch (e) {
    disposeParams(params);
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  return {params, recipe: {...recipe!}, checkpoint};
}

/** Appends one line to a log file; the error names the file (a full disk's ENOSPC alone does not). */
export function appendLine(file: string, line: string): void {
  try {
    fs.appendFileSync(file, line + '\n');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot append to ${file}: ${code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : (e as Error).message}`);
  }
}

/**
 * Makes a run's metrics.jsonl agree with its checkpoint at `pos`: drops step records past the
 * checkpoint's step, epoch records of epochs the checkpoint has not completed, and a torn last line
 * (a kill mid-append). Records are appended before the checkpoint that covers them is written, so a
 * kill or a full disk in between left them twice after the resumed run wrote them again. Rewritten
 * atomically (temp file + rename); returns the number of records dropped.
 */
export function trimMetricsLog(file: string, pos: {epoch: number; batch: number; step: number}, stepsPerEpoch: number): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const epochsDone = pos.batch >= stepsPerEpoch ? pos.epoch + 1 : pos.epoch;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const keep = lines.filter((l) => {
    let r: {type?: string; epoch?: number; step?: number};
    try {
      r = JSON.parse(l);
    } catch {
      return false;
    }
    if (typeof r.step === 'number' && r.step > pos.step) return false;
    if (r.type === 'epoch' && typeof r.epoch === 'number' && r.epoch > epochsDone) return false;
    return true;
  });
  if (keep.length === lines.length && (text === '' || text.endsWith('\n'))) return 0;
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, keep.map((l) => l + '\n').join(''));
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, {force: true});
    throw new Error(`cannot rewrite ${file}: ${(e as Error).message}`);
  }
  return lines.length - keep.length;
}

/** What a training log says about the run as a whole (the results file of export-model carries it). */
export interface TrainingLogSummary {
  epochs: number;
  /** wall time of the run, training + evaluation, across resumes (the last epoch record's elapsedSeconds) */
  elapsedSeconds: number;
  /** time spent in training steps (sum of the epochs' trainSeconds) and in the per-epoch evaluations */
  trainSeconds: number;
  evalSeconds: number;
  /** training images per second over the whole run: images seen / trainSeconds */
  imgPerSec: number;
  /** 1-minute load average at the end of the epochs that logged it (min, mean, max), else undefined */
  load1?: {min: number; mean: number; max: number; epochs: number};
  /** epochs per number of worker processes, e.g. {1: 3, 2: 57}, of the records that log it (logs before 2026-12-02 do not) */
  workerEpochs: Record<number, number>;
}

/** Summarises the epoch records of a metrics.jsonl log (parsed records; other types are ignored). */
export function summarizeTrainingLog(records: Array<Record<string, unknown>>): TrainingLogSummary {
  const epochs = records.filter((r) => r.type === 'epoch');
  if (epochs.length === 0) throw new Error('summarizeTrainingLog: the log has no epoch records');
  const num = (r: Record<string, unknown>, k: string): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`summarizeTrainingLog: epoch ${String(r.epoch)} has no number "${k}"`);
    return v;
  };
  let trainSeconds = 0, evalSeconds = 0, images = 0;
  for (const r of epochs) {
    const s = num(r, 'trainSeconds');
    trainSeconds += s;
    images += num(r, 'imgPerSec') * s;
    evalSeconds += typeof r.evalSeconds === 'number' ? r.evalSeconds : 0;
  }
  const loads = epochs.map((r) => r.loadAverage).filter((l): l is number[] => Array.isArray(l) && typeof l[0] === 'number').map((l) => l[0]!);
  const summary: TrainingLogSummary = {epochs: epochs.length, elapsedSeconds: num(epochs[epochs.length - 1]!, 'elapsedSeconds'),
    trainSeconds, evalSeconds, imgPerSec: images / trainSeconds, workerEpochs: {}};
  for (const r of epochs) {
    if (typeof r.workers === 'number') summary.workerEpochs[r.workers] = (summary.workerEpochs[r.workers] ?? 0) + 1;
  }
  if (loads.length > 0) {
    summary.load1 = {min: Math.min(...loads), mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads), epochs: loads.length};
  }
  return summary;
}
