import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {countParams, disposeParams} from '../../lib/core/params';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';
import {patchify} from '../../lib/vit/patches';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('ViT model', () => {
  const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 2, dFF: 32, numClasses: 3});

  it('counts the parameters of the formula', () => {
    const p = initViT(cfg, 0);
    const D = 16, F = 32, N = 4, L = 2, patchDim = 48;
    const layer = 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + 2 * D + (D * F + F) + (F * D + D);
    expect(countParams(p)).toBe(patchDim * D + D + D + (N + 1) * D + L * layer + 2 * D + D * 3 + 3);
    disposeParams(p);
  });

  it('maps images [B, 8, 8, 3] to logits [B, 3] and attention [B, H, T, T] with rows summing to 1', async () => {
    const p = initViT(cfg, 0);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1);
    const out = vitForward(p, cfg, x, {returnAttention: true});
    expect(out.logits.shape).toEqual([2, 3]);
    expect(out.attentions!.map(a => a.shape)).toEqual([[2, 2, 5, 5], [2, 2, 5, 5]]);
    const rowSums = await tf.sum(out.attentions![1]!, -1).data();
    for (const s of rowSums) expect(s).toBeCloseTo(1, 5);
    tf.dispose([x, out.logits, ...out.attentions!]);
    disposeParams(p);
  });

  it('gradients reach every parameter', () => {
    const p = initViT(cfg, 1);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2);
    const y = tf.oneHot([0, 2], 3);
    const {value, grads} = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, vitForward(p, cfg, x).logits) as tf.Scalar, Object.values(p));
    for (const [name, v] of Object.entries(p)) {
      const g = grads[v.name];
      expect(g, name).toBeDefined();
      expect(tf.max(tf.abs(g!)).dataSync()[0], `gradient of ${name}`).toBeGreaterThan(0);
    }
    tf.dispose([x, y, value, grads]);
    disposeParams(p);
  });

  it('does not leak tensors in a forward pass', () => {
    const p = initViT(cfg, 0);
    const x = tf.randomNormal([1, 8, 8, 3]);
    const before = tf.memory().numTensors;
    const out = vitForward(p, cfg, x, {returnAttention: true});
    tf.dispose([out.logits, ...out.attentions!]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeParams(p);
  });

  it('rejects images of the wrong size and a bad config with clear messages', () => {
    const p = initViT(cfg, 0);
    expect(() => vitForward(p, cfg, tf.zeros([1, 9, 9, 3]))).toThrow(/images must be \[B, 8, 8, 3\], got \[1,9,9,3\]/);
    expect(() => vitConfig({imageSize: 30, patchSize: 4})).toThrow(/30x30 is not divisible by the patch size 4/);
    expect(() => vitConfig({dModel: 10, numHeads: 3})).toThrow(/dModel \(10\) must be divisible by numHeads \(3\)/);
    disposeParams(p);
  });
});

describe('patchify', () => {
  it('cuts a 4x4 single-channel image into four 2x2 patches in row-major order', async () => {
    const img = tf.tensor(Array.from({length: 16}, (_, i) => i), [1, 4, 4, 1]);
    const p = patchify(img, 2);
    expect(p.shape).toEqual([1, 4, 4]);
    expect(await p.array()).toEqual([[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]]);
  });
});
