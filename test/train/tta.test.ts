/**
 * Test-time augmentation (recipe field `tta: 'flip'`): evaluate() averages the logits of each image
 * and of its left-right mirror image. The mirror images here are built by hand from the bytes
 * (HWC layout), independently of the tf.reverse the library uses.
 */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {toNormalizedTensor} from '../../lib/data/normalize';
import {RECIPES, validateRecipe} from '../../lib/train/recipes';
import {evaluate} from '../../lib/train/vit-trainer';
import {initViT, vitForward} from '../../lib/vit/model';

beforeAll(async () => { await tf.setBackend('cpu'); });

const S = 32;
function mirror(images: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let n = 0; n < count; n++) for (let h = 0; h < S; h++) for (let w = 0; w < S; w++) for (let c = 0; c < 3; c++) {
    out[((n * S + h) * S + w) * 3 + c] = images[((n * S + h) * S + (S - 1 - w)) * 3 + c]!;
  }
  return out;
}

describe("evaluate with tta: 'flip'", () => {
  const recipe = RECIPES['tiny']!;
  const count = 5;
  const images = Uint8Array.from({length: count * 3072}, (_, i) => (i * 37 + (i >> 7) * 11) % 256);
  const labels = Uint8Array.from([0, 3, 5, 9, 1]);
  const set = {images, labels, count};

  it('gives the softmax of the mean logits of each image and its mirror image', async () => {
    const params = initViT(recipe.model, 3);
    const before = tf.memory().numTensors;
    const tta = await evaluate(params, {...recipe, tta: 'flip'}, set, 2); // batches of 2: 2 + 2 + 1 images
    const single = await evaluate(params, recipe, set, 2);
    expect(tf.memory().numTensors).toBe(before);
    const expected = tf.tidy(() => {
      const f = (b: Uint8Array) => vitForward(params, recipe.model, toNormalizedTensor(b, count)).logits;
      return tf.softmax(tf.div(tf.add(f(images), f(mirror(images, count))), 2)).dataSync();
    });
    for (let i = 0; i < expected.length; i++) expect(tta.probs[i]).toBeCloseTo(expected[i]!, 5);
    // the mirrored view really is another input: the averaged probabilities differ from one pass
    const diff = Math.max(...Array.from(tta.probs, (p, i) => Math.abs(p - single.probs[i]!)));
    expect(diff).toBeGreaterThan(1e-4);
    // the loss is the plain cross-entropy of the averaged prediction
    const ce = -labels.reduce((s, y, i) => s + Math.log(expected[i * 10 + y]!), 0) / count;
    expect(tta.loss).toBeCloseTo(ce, 4);
    // the first pass is the plain images' own result: reported as single, equal to a run without TTA
    expect(single.single).toBeUndefined();
    expect(tta.single!.accuracy).toBe(single.accuracy);
    expect(tta.single!.loss).toBeCloseTo(single.loss, 6);
    expect(Array.from(tta.single!.predictions)).toEqual(Array.from(single.predictions));
    disposeParams(params);
  });

  it('changes nothing for images that are their own mirror image', async () => {
    const params = initViT(recipe.model, 4);
    const sym = images.slice();
    for (let n = 0; n < count; n++) for (let h = 0; h < S; h++) for (let w = S / 2; w < S; w++) for (let c = 0; c < 3; c++) {
      sym[((n * S + h) * S + w) * 3 + c] = sym[((n * S + h) * S + (S - 1 - w)) * 3 + c]!;
    }
    const symSet = {images: sym, labels, count};
    const a = await evaluate(params, {...recipe, tta: 'flip'}, symSet), b = await evaluate(params, recipe, symSet);
    for (let i = 0; i < a.probs.length; i++) expect(a.probs[i]).toBeCloseTo(b.probs[i]!, 6);
    disposeParams(params);
  });

  it('validateRecipe names a bad tta or epochTestCount', () => {
    expect(() => validateRecipe({...recipe, tta: 'rotate' as 'flip'}, 'config x')).toThrow(/config x: tta must be 'flip' or absent \(got "rotate"\)/);
    expect(() => validateRecipe({...recipe, epochTestCount: 0}, 'config x')).toThrow(/config x: epochTestCount must be a positive integer \(got 0\)/);
    expect(() => validateRecipe({...recipe, tta: 'flip', epochTestCount: 2000}, 'config x')).not.toThrow();
  });
});
