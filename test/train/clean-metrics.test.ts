/** cleanTrainMetrics: the training set measured like the test set (clean images, plain labels). */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {toNormalizedTensor} from '../../lib/data/normalize';
import {RECIPES} from '../../lib/train/recipes';
import {cleanTrainMetrics} from '../../lib/train/vit-trainer';
import {initViT, vitForward} from '../../lib/vit/model';

beforeAll(async () => { await tf.setBackend('cpu'); });

describe('cleanTrainMetrics', () => {
  const recipe = {...RECIPES['tiny']!, labelSmoothing: 0.1};
  const count = 6;
  const images = Uint8Array.from({length: count * 3072}, (_, i) => (i * 37 + (i >> 7)) % 256);
  const labels = Uint8Array.from([0, 3, 5, 9, 1, 3]);
  const set = {images, labels, count};

  it('is the plain (unsmoothed) cross-entropy and accuracy of the first n images, un-augmented', async () => {
    const params = initViT(recipe.model, 3);
    const m = await cleanTrainMetrics(params, recipe, set, 4);
    // by hand: −mean log softmax(logits)[label] over images 0..3
    const [ce, acc] = tf.tidy(() => {
      const logits = vitForward(params, recipe.model, toNormalizedTensor(images.subarray(0, 4 * 3072), 4)).logits; // [4, 10]
      const lp = tf.logSoftmax(logits);
      const y = tf.oneHot(tf.tensor1d(Array.from(labels.subarray(0, 4)), 'int32'), 10);
      const right = tf.equal(tf.argMax(logits, -1), tf.tensor1d(Array.from(labels.subarray(0, 4)), 'int32'));
      return [tf.neg(tf.mean(tf.sum(tf.mul(lp, y), -1))).dataSync()[0]!, tf.mean(tf.cast(right, 'float32')).dataSync()[0]!];
    });
    expect(m.trainCleanCount).toBe(4);
    expect(m.trainCleanLoss).toBeCloseTo(ce, 5);
    expect(m.trainCleanAcc).toBeCloseTo(acc, 6);
    expect((await cleanTrainMetrics(params, recipe, set, 100)).trainCleanCount).toBe(count); // clamped to the set
    await expect(cleanTrainMetrics(params, recipe, set, 0)).rejects.toThrow(/count must be at least 1 \(got 0\)/);
    disposeParams(params);
  });
});
