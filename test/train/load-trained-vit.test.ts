/** loadTrainedViT: a trainer checkpoint back as a ready model, with clear errors for the wrong file. */
import * as tf from '@tensorflow/tfjs';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {saveCheckpoint} from '../../lib/io/checkpoint';
import {RECIPES} from '../../lib/train/recipes';
import {loadTrainedViT} from '../../lib/train/vit-trainer';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';

let dir: string;
beforeAll(async () => { await tf.setBackend('cpu'); dir = mkdtempSync(join(tmpdir(), 'load-vit-')); });
afterAll(() => rmSync(dir, {recursive: true, force: true}));

describe('loadTrainedViT', () => {
  const recipe = {...RECIPES['tiny']!};

  it('rebuilds the architecture from the recipe and gives the saved model\'s logits exactly', async () => {
    const src = initViT(recipe.model, 7);
    const file = join(dir, 'ok.safetensors');
    await saveCheckpoint(file, src, {meta: {recipe}});
    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const {params, recipe: r} = await loadTrainedViT(file);
    expect(r.model).toEqual(recipe.model);
    const a = vitForward(src, recipe.model, x).logits, b = vitForward(params, r.model, x).logits;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([a, b]);
    disposeParams(params);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(src); x.dispose();
  });

  it('refuses a checkpoint without a recipe and one whose weights do not fit its recipe, without leaking', async () => {
    const p = initViT(recipe.model, 1);
    await saveCheckpoint(join(dir, 'bare.safetensors'), p);
    await expect(loadTrainedViT(join(dir, 'bare.safetensors'))).rejects.toThrow(/no training recipe in its metadata/);
    const wider = {...recipe, model: vitConfig({...recipe.model, dModel: recipe.model.dModel * 2})};
    await saveCheckpoint(join(dir, 'mismatch.safetensors'), p, {meta: {recipe: wider}});
    const before = tf.memory().numTensors;
    await expect(loadTrainedViT(join(dir, 'mismatch.safetensors'))).rejects.toThrow(/shape/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(loadTrainedViT(join(dir, 'missing.safetensors'))).rejects.toThrow(/no checkpoint at/);
    disposeParams(p);
  });
});
