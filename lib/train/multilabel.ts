/**
 * Training the course ViT on a multi-label task (Chapter 4, multi-label section): the same model
 * with numClasses outputs, but each output is an independent yes/no (sigmoid + binary
 * cross-entropy, lib/optim/multilabel.ts) instead of one softmax over the classes. Browser-safe and
 * small on purpose: an in-memory loop over a MosaicSet (lib/data/mosaic.ts) with AdamW, so a chapter
 * cell can show every step; the long single-label CIFAR runs use lib/train/vit-trainer.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type {Params} from '../core/params';
import {Rng} from '../core/rng';
import {epochOrder} from '../data/batches';
import type {MosaicSet} from '../data/mosaic';
import {toNormalizedTensor} from '../data/normalize';
import {AdamW} from '../optim/adamw';
import {binaryCrossEntropyWithLogits} from '../optim/multilabel';
import {ViTConfig, vitForward} from '../vit/model';

function checkSet(fn: string, cfg: ViTConfig, set: MosaicSet): void {
  if (set.side !== cfg.imageSize) throw new Error(`${fn}: mosaics are ${set.side}×${set.side} but the ViT expects ${cfg.imageSize}×${cfg.imageSize}`);
  if (set.numClasses !== cfg.numClasses) throw new Error(`${fn}: mosaics have ${set.numClasses} labels but the ViT has ${cfg.numClasses} outputs`);
}

/** Rows `idx` of a mosaic set: normalised images [n, S, S, 3] and multi-hot targets [n, C]. */
function batchOf(set: MosaicSet, idx: ArrayLike<number>): {x: tf.Tensor4D; y: tf.Tensor2D} {
  const px = set.side * set.side * 3, C = set.numClasses, n = idx.length;
  const images = new Uint8Array(n * px), targets = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const j = idx[i]!;
    images.set(set.images.subarray(j * px, (j + 1) * px), i * px);
    targets.set(set.targets.subarray(j * C, (j + 1) * C), i * C);
  }
  return {x: toNormalizedTensor(images, n), y: tf.tensor2d(targets, [n, C])};
}

export interface MultiLabelEpochOptions {
  batchSize: number;
  /** shuffles the order; the same Rng state gives the same epoch */
  rng: Rng;
  lr?: number;
  /** called after every step with its loss (e.g. a progress line) */
  onStep?: (step: number, loss: number) => void;
}

/** One epoch of AdamW steps on BCE-with-logits; returns the mean training loss of its batches. */
export async function trainMultiLabelEpoch(params: Params, cfg: ViTConfig, optimizer: AdamW, set: MosaicSet, o: MultiLabelEpochOptions): Promise<number> {
  checkSet('trainMultiLabelEpoch', cfg, set);
  if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new Error(`trainMultiLabelEpoch: batchSize must be a positive integer (got ${o.batchSize})`);
  const names = Object.keys(params), vars = names.map(n => params[n]!);
  const order = epochOrder(set.count, o.rng);
  let total = 0, steps = 0;
  for (let s = 0; s < set.count; s += o.batchSize) {
    const {x, y} = batchOf(set, order.subarray(s, Math.min(set.count, s + o.batchSize)));
    const {value, grads} = tf.variableGrads(() => binaryCrossEntropyWithLogits(vitForward(params, cfg, x, {training: true}).logits, y), vars);
    const byName: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => { byName[n] = grads[vars[i]!.name]!; });
    optimizer.step(byName, o.lr);
    const loss = (await value.data())[0]!;
    tf.dispose([x, y, value, ...Object.values(grads)]);
    total += loss; steps++;
    o.onStep?.(steps, loss);
  }
  return total / steps;
}

/** Sigmoid probabilities [count, C] (row-major) of every mosaic, in batches, in evaluation mode. */
export async function predictMultiLabel(params: Params, cfg: ViTConfig, set: MosaicSet, batchSize = 256): Promise<Float32Array> {
  checkSet('predictMultiLabel', cfg, set);
  const out = new Float32Array(set.count * set.numClasses);
  for (let s = 0; s < set.count; s += batchSize) {
    const idx = Array.from({length: Math.min(batchSize, set.count - s)}, (_, i) => s + i);
    const {x, y} = batchOf(set, idx);
    const p = tf.tidy(() => tf.sigmoid(vitForward(params, cfg, x).logits));
    out.set(await p.data(), s * set.numClasses);
    tf.dispose([x, y, p]);
  }
  return out;
}
