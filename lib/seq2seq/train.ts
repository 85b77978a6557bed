/**
 * Training and evaluation of the seq2seq models — Chapter 1 §1.6 and §1.8.
 * tf.variableGrads + the course's AdamW (lib/optim/adamw.ts), global-norm clipping, length-bucketed batches (less padding means fewer
 * encoder steps), exact-match accuracy and accuracy by input length.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';
import {batchTensors, BatchTensors, Decoded, disposeBatchTensors, greedyDecode, Seq2SeqModel, seq2seqLoss} from './model';
import {AdamW} from '../optim/adamw';
import {clipByGlobalNorm} from '../optim/clip';
import {CharVocab, encodeBatch, EncodedBatch} from './vocab';
import {libProgressOutput, Progress} from '../progress';

export interface Pair { input: string; target: string }

/**
 * One epoch of batches: shuffled, then sorted by input length inside windows of 16 batches (so a
 * batch holds similar lengths), then the batch order shuffled again. Seeded by `rng`.
 */
export function bucketedBatches<T extends Pair>(data: T[], batchSize: number, rng: Rng): T[][] {
  if (!(batchSize >= 1)) throw new Error(`bucketedBatches: batchSize must be ≥ 1 (got ${batchSize})`);
  const idx = Array.from(rng.permutation(data.length));
  const window = batchSize * 16, batches: T[][] = [];
  for (let w = 0; w < idx.length; w += window) {
    const chunk = idx.slice(w, w + window).sort((a, b) => data[a]!.input.length - data[b]!.input.length);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize).map(j => data[j]!));
  }
  return rng.shuffle(batches);
}

/** Loss of a batch without updating anything. */
export function batchLoss(model: Seq2SeqModel, bt: BatchTensors): number {
  return tf.tidy(() => seq2seqLoss(model, bt).dataSync()[0]!);
}

/** An AdamW optimiser for a seq2seq model (weight decay 0 by default: then it is exactly Adam). */
export function seq2seqOptimizer(model: Seq2SeqModel, o: {learningRate?: number; weightDecay?: number} = {}): AdamW {
  return new AdamW(model.params, {lr: o.learningRate ?? 3e-3, weightDecay: o.weightDecay ?? 0});
}

/**
 * One training step: loss, gradients of every parameter, clipping, AdamW update.
 * Leaves no tensors behind (the optimizer's moments are created with it).
 */
export function trainStep(model: Seq2SeqModel, optimizer: AdamW, bt: BatchTensors, clipNorm = 5): {loss: number; gradNorm: number} {
  const names = Object.keys(model.params);
  const vars = names.map(n => model.params[n]!);
  const {value, grads} = tf.variableGrads(() => seq2seqLoss(model, bt), vars);
  const byName = Object.fromEntries(names.map((n, i) => [n, grads[vars[i]!.name]!]));
  const clipped = clipByGlobalNorm(byName, clipNorm);
  optimizer.step(clipped.grads);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, grads, clipped.grads]);
  return {loss, gradNorm: clipped.norm};
}

export interface FitOptions {
  steps: number;
  batchSize: number;
  learningRate?: number;
  /** AdamW's decoupled weight decay (default 0: plain Adam) */
  weightDecay?: number;
  seed?: number;
  clipNorm?: number;
  /** called every `logEvery` steps with the mean loss since the last call */
  logEvery?: number;
  onLog?: (r: {step: number; loss: number; seconds: number}) => void;
  /** Live progress line in Jupyter (lib/progress.ts; default on in a kernel), and its label. */
  progress?: boolean;
  label?: string;
}

export interface FitHistory { step: number; loss: number; seconds: number }

/** Trains for `steps` updates with AdamW, cycling through bucketed epochs of `train`. */
export function fitSeq2Seq(model: Seq2SeqModel, train: Pair[], src: CharVocab, tgt: CharVocab, o: FitOptions): FitHistory[] {
  const rng = new Rng(o.seed ?? 0);
  const optimizer = seq2seqOptimizer(model, o);
  const logEvery = o.logEvery ?? 50, history: FitHistory[] = [];
  const t0 = Date.now();
  let queue: Pair[][] = [], acc = 0, n = 0, ema = NaN;
  const bar = o.progress === false ? undefined
    : new Progress({total: o.steps, label: o.label ?? `fit seq2seq (attention: ${model.cfg.attention})`, output: libProgressOutput()});
  try {
    for (let step = 1; step <= o.steps; step++) {
      if (queue.length === 0) queue = bucketedBatches(train, o.batchSize, rng);
      const bt = batchTensors(model.cfg, encodeBatch(queue.pop()!, src, tgt));
      try {
        const loss = trainStep(model, optimizer, bt, o.clipNorm ?? 5).loss;
        acc += loss; n++;
        ema = Number.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
        bar?.update(step, {loss: ema});
      } finally {
        disposeBatchTensors(bt);
      }
      if (step % logEvery === 0 || step === o.steps) {
        const r = {step, loss: acc / n, seconds: (Date.now() - t0) / 1000};
        history.push(r); o.onLog?.(r);
        acc = 0; n = 0;
      }
    }
  } finally {
    optimizer.dispose();
    bar?.finish();
  }
  return history;
}

export interface Prediction { input: string; target: string; output: string; correct: boolean; format?: string }

/** Greedy-decodes `pairs` in batches; returns strings (and optionally the raw decodes). */
export function predict<T extends Pair & {format?: string}>(model: Seq2SeqModel, pairs: T[], src: CharVocab, tgt: CharVocab, batchSize = 256): Prediction[] {
  const out: Prediction[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const bt = batchTensors(model.cfg, encodeBatch(chunk, src, tgt));
    let dec: Decoded;
    try { dec = greedyDecode(model, bt); } finally { disposeBatchTensors(bt); }
    chunk.forEach((p, b) => {
      const output = tgt.decode(dec.ids.subarray(b * dec.steps, (b + 1) * dec.steps));
      out.push({input: p.input, target: p.target, output, correct: output === p.target, format: p.format});
    });
  }
  return out;
}

export function exactMatch(preds: Prediction[]): number {
  return preds.length ? preds.filter(p => p.correct).length / preds.length : 0;
}

/** Exact-match accuracy per input-length bucket [lo, lo + width). */
export function accuracyByLength(preds: Prediction[], width = 4): {lengthFrom: number; lengthTo: number; n: number; accuracy: number}[] {
  const buckets = new Map<number, {n: number; ok: number}>();
  for (const p of preds) {
    const lo = Math.floor(p.input.length / width) * width;
    const b = buckets.get(lo) ?? {n: 0, ok: 0};
    b.n++; if (p.correct) b.ok++;
    buckets.set(lo, b);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0])
    .map(([lo, b]) => ({lengthFrom: lo, lengthTo: lo + width - 1, n: b.n, accuracy: b.ok / b.n}));
}

/** Attention weights of single examples, trimmed to the real input and output characters. */
export interface Alignment { input: string; output: string; weights: number[][] } // [outChars(+EOS), inChars]

export function alignments(model: Seq2SeqModel, inputs: string[], src: CharVocab, tgt: CharVocab): Alignment[] {
  if (model.cfg.attention === 'none') throw new Error('alignments: this model has no attention');
  const batch: EncodedBatch = encodeBatch(inputs.map(input => ({input, target: ''})), src, tgt);
  const bt = batchTensors(model.cfg, batch);
  let dec: Decoded;
  try { dec = greedyDecode(model, bt); } finally { disposeBatchTensors(bt); }
  return inputs.map((input, b) => {
    const output = tgt.decode(dec.ids.subarray(b * dec.steps, (b + 1) * dec.steps));
    const rows = Math.min(dec.steps, output.length + 1); // + the EOS step
    const weights = Array.from({length: rows}, (_, t) =>
      Array.from(dec.weights!.subarray((b * dec.steps + t) * dec.Tk, (b * dec.steps + t) * dec.Tk + input.length)));
    return {input, output, weights};
  });
}

/**
 * How strongly the loss depends on each source position: ‖∂loss/∂x_j‖ for the input (one-hot)
 * row x_j of every position j, averaged over the sequences that have a character there.
 * Without attention the gradient reaches position j only back through the encoder's recurrence
 * from the last state; with attention every encoder state s_j is one step from the output.
 */
export function sourceGradientNorms(model: Seq2SeqModel, bt: BatchTensors): number[] {
  const norms = tf.tidy(() => {
    const f = (...xs: tf.Tensor[]) => seq2seqLoss(model, {...bt, srcOneHot: xs as tf.Tensor2D[]});
    const gs = tf.grads(f)(bt.srcOneHot);                                     // Tk × [B, Vs]
    return gs.map((g, j) => {
      const m = bt.srcStepMask[j]!;                                          // [B, 1]
      return g.square().sum(1, true).sqrt().mul(m).sum().div(m.sum().maximum(1)); // mean over real rows
    });
  });
  const out = norms.map(t => t.dataSync()[0]!);
  tf.dispose(norms);
  return out;
}
