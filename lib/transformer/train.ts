/**
 * Training the encoder-decoder on a character task — Chapter 2 §2.7 (teacher forcing).
 *   decoder input  = BOS y1 … y_{n}       (shifted right)
 *   decoder target = y1 … y_n EOS          (PAD after the end, ignored by the loss)
 *   loss = label-smoothed cross-entropy over the real target tokens (lib/optim/losses.ts),
 *   AdamW (lib/optim/adamw.ts) with the learning rate of a schedule (lib/optim/schedule.ts),
 *   gradients clipped by global norm (lib/optim/clip.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {Params} from '../core/params';
import {BOS, CharVocab, EOS, encodeBatch, PAD} from '../seq2seq/vocab';
import {AdamW} from '../optim/adamw';
import {clipByGlobalNorm} from '../optim/clip';
import {sequenceCrossEntropy} from '../optim/losses';
import {greedyDecode} from './decode';
import {TransformerConfig, transformerForward} from './model';
import {stepProgress} from '../progress';

export interface Pair { input: string; target: string }

export interface Seq2SeqBatch {
  src: tf.Tensor2D;     // [B, S] int32, PAD after the end
  tgtIn: tf.Tensor2D;   // [B, T] int32: BOS + target (+ PAD)
  tgtOut: tf.Tensor2D;  // [B, T] int32: target + EOS (+ PAD)
}

/** Pairs → padded id tensors (the caller disposes them with disposeBatch). */
export function makeBatch(pairs: Pair[], srcVocab: CharVocab, tgtVocab: CharVocab): Seq2SeqBatch {
  const e = encodeBatch(pairs, srcVocab, tgtVocab);           // tgt = ids + EOS, PAD after
  const tgtIn = new Int32Array(e.B * e.tgtLen);
  for (let b = 0; b < e.B; b++) {
    tgtIn[b * e.tgtLen] = BOS;
    for (let j = 1; j < e.tgtLen; j++) {
      const prev = e.tgt[b * e.tgtLen + j - 1]!;
      tgtIn[b * e.tgtLen + j] = prev === EOS || prev === PAD ? PAD : prev;
    }
  }
  return {
    src: tf.tensor2d(e.src, [e.B, e.srcLen], 'int32'),
    tgtIn: tf.tensor2d(tgtIn, [e.B, e.tgtLen], 'int32'),
    tgtOut: tf.tensor2d(e.tgt, [e.B, e.tgtLen], 'int32'),
  };
}

export function disposeBatch(b: Seq2SeqBatch): void {
  tf.dispose([b.src, b.tgtIn, b.tgtOut]);
}

export interface StepOptions {
  lr: number;
  labelSmoothing?: number;
  clipNorm?: number;   // default 1
  seed?: number;       // dropout seed for this step
  /** This step's place in its run, for the live progress line in Jupyter (lib/progress.ts); without
   * it the line counts the steps of this optimizer and shows no ETA. */
  progress?: {step: number; total: number; label?: string};
}

export interface StepResult { loss: number; gradNorm: number }

/** One AdamW step on a batch; returns the loss before the update and the gradient norm. */
export function trainStep(params: Params, cfg: TransformerConfig, opt: AdamW, batch: Seq2SeqBatch, o: StepOptions): StepResult {
  const names = Object.keys(params);
  const vars = names.map(n => params[n]!);
  const {value, grads} = tf.variableGrads(() => tf.tidy(() => {
    const {logits} = transformerForward(params, cfg, batch.src, batch.tgtIn, {training: true, seed: o.seed});
    return sequenceCrossEntropy(logits, batch.tgtOut, {labelSmoothing: o.labelSmoothing ?? 0, padId: cfg.padId});
  }), vars);
  const byName: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => { byName[n] = grads[vars[i]!.name]!; });
  const clipped = clipByGlobalNorm(byName, o.clipNorm ?? 1);
  opt.step(clipped.grads, o.lr);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, grads, clipped.grads]);
  stepProgress(opt, {loss, step: o.progress?.step, total: o.progress?.total, label: o.progress?.label ?? 'train Transformer'});
  return {loss, gradNorm: clipped.norm};
}

/** Teacher-forced loss (no dropout, no smoothing) and token accuracy on a batch. */
export function evaluateBatch(params: Params, cfg: TransformerConfig, batch: Seq2SeqBatch): {loss: number; tokenAccuracy: number} {
  return tf.tidy(() => {
    const {logits} = transformerForward(params, cfg, batch.src, batch.tgtIn);
    const loss = sequenceCrossEntropy(logits, batch.tgtOut, {padId: cfg.padId}).dataSync()[0]!;
    const real = tf.notEqual(batch.tgtOut, cfg.padId);
    const hit = tf.logicalAnd(real, tf.equal(tf.argMax(logits, -1), batch.tgtOut));
    return {loss, tokenAccuracy: tf.sum(tf.cast(hit, 'float32')).dataSync()[0]! / tf.sum(tf.cast(real, 'float32')).dataSync()[0]!};
  });
}

export interface ExactMatchResult {
  accuracy: number;                                      // fraction of outputs equal to the target
  predictions: {input: string; target: string; output: string}[];
  msPerStep: number;
}

/** Greedy-decodes every example (in batches, with the KV cache) and counts exact matches. */
export async function exactMatch(params: Params, cfg: TransformerConfig, pairs: Pair[], srcVocab: CharVocab, tgtVocab: CharVocab, opts: {batchSize?: number; maxSteps?: number} = {}): Promise<ExactMatchResult> {
  const bs = opts.batchSize ?? 256;
  const predictions: ExactMatchResult['predictions'] = [];
  let ms = 0, n = 0;
  for (let i = 0; i < pairs.length; i += bs) {
    const chunk = pairs.slice(i, i + bs);
    const b = makeBatch(chunk, srcVocab, tgtVocab);
    const maxSteps = Math.min(opts.maxSteps ?? b.tgtOut.shape[1] + 2, cfg.maxLen);
    const r = await greedyDecode(params, cfg, b.src, {bos: BOS, eos: EOS, maxSteps});
    ms += r.msPerStep; n++;
    chunk.forEach((p, j) => predictions.push({...p, output: tgtVocab.decode(r.ids[j]!)}));
    disposeBatch(b);
  }
  const correct = predictions.filter(p => p.output === p.target).length;
  return {accuracy: correct / Math.max(predictions.length, 1), predictions, msPerStep: ms / Math.max(n, 1)};
}
