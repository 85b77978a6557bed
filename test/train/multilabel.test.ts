import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {Rng} from '../../lib/core/rng';
import {makeMosaics} from '../../lib/data/mosaic';
import {labelRocs} from '../../lib/eval/multilabel';
import {AdamW} from '../../lib/optim/adamw';
import {predictMultiLabel, trainMultiLabelEpoch} from '../../lib/train/multilabel';
import {initViT, vitConfig} from '../../lib/vit/model';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

/** 8×8 source images of 4 classes, each class a flat colour plus noise: learnable in a few epochs. */
function colourSet(n: number) {
  const colours = [[230, 30, 30], [30, 230, 30], [30, 30, 230], [230, 230, 30]], rng = new Rng(11);
  const images = new Uint8Array(n * 64 * 3), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 4;
    for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) images[(i * 64 + p) * 3 + c] = Math.max(0, Math.min(255, colours[i % 4]![c]! + Math.round((rng.next() - 0.5) * 60)));
  }
  return {images, labels, count: n};
}

describe('multi-label ViT training', () => {
  it('lowers the BCE loss on mosaics, separates the labels (AUC > 0.8 per label) and leaks no tensor', async () => {
    const set = makeMosaics(colourSet(40), 96, {seed: 1, numClasses: 4});
    const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 32, numHeads: 2, numLayers: 1, dFF: 64, numClasses: 4});
    const params = initViT(cfg, 0), opt = new AdamW(params, {lr: 3e-3, weightDecay: 0.01}), rng = new Rng(2);
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let e = 0; e < 10; e++) losses.push(await trainMultiLabelEpoch(params, cfg, opt, set, {batchSize: 32, rng}));
    const probs = await predictMultiLabel(params, cfg, set, 50);
    expect(tf.memory().numTensors - before, 'tensors left by training and prediction').toBe(0);
    expect(losses[0]).toBeGreaterThan(0.5);                 // ≈ ln 2 at the start
    expect(losses.at(-1)!).toBeLessThan(0.6 * losses[0]!);
    const aucs = labelRocs(probs, set.targets, 4).map(r => r.auc);
    for (const a of aucs) expect(a).toBeGreaterThan(0.8);
    // independent sigmoids: a mosaic with 3 classes present can have 3 probabilities near 1
    expect(probs.every(p => p > 0 && p < 1)).toBe(true);
    const rowSums = Array.from({length: set.count}, (_, i) => probs.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0));
    expect(Math.max(...rowSums)).toBeGreaterThan(1.5);
    disposeParams(params); opt.dispose();
  }, 120_000);
  it('names a mosaic set that does not fit the model', async () => {
    const set = makeMosaics(colourSet(8), 4, {seed: 1, numClasses: 4});
    const cfg = vitConfig({imageSize: 16, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 1, dFF: 32, numClasses: 4});
    await expect(predictMultiLabel({}, cfg, set)).rejects.toThrow(/mosaics are 8×8 but the ViT expects 16×16/);
    await expect(predictMultiLabel({}, {...cfg, imageSize: 8, numClasses: 10}, set)).rejects.toThrow(/4 labels but the ViT has 10 outputs/);
  });
});
