/**
 * loadTrainedViT: a trainer checkpoint back as a ready model, with clear errors for the wrong file;
 * crafted checkpoints (a recipe claiming a huge or invalid model, non-finite weights) are refused
 * by name before anything is allocated — measured as the peak memory of `npm run eval` on them.
 */
import * as tf from '@tensorflow/tfjs';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {CHECKPOINT_FORMAT, saveCheckpoint} from '../../lib/io/checkpoint';
import {serializeSafetensors} from '../../lib/io/safetensors';
import {RECIPES} from '../../lib/train/recipes';
import {loadTrainedViT} from '../../lib/train/vit-trainer';
import {initViT, vitConfig, vitForward, vitParamShapes} from '../../lib/vit/model';

const ROOT = resolve(__dirname, '../..');

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

describe('vitParamShapes', () => {
  it('names exactly the parameters initViT creates, with their shapes, for every recipe and pooling', () => {
    const configs = [...Object.values(RECIPES).map((r) => r.model), vitConfig({...RECIPES['tiny']!.model, pool: 'mean'}),
      vitConfig({...RECIPES['tiny']!.model, pool: 'flatten', patchSize: 16, channels: 1})];
    for (const cfg of configs) {
      const p = initViT(cfg, 0);
      expect(vitParamShapes(cfg)).toEqual(Object.fromEntries(Object.entries(p).map(([n, v]) => [n, v.shape])));
      disposeParams(p);
    }
  });
});

describe('crafted checkpoints', () => {
  const tiny = RECIPES['tiny']!;
  /** A checkpoint file with the tiny model's weights (or `tensors`) and any recipe in its metadata. */
  function craft(name: string, recipe: unknown, tensors?: Record<string, {shape: number[]; data: Float32Array}>): string {
    const t = tensors ?? Object.fromEntries(Object.entries(vitParamShapes(tiny.model)).map(([n, s]) => [n, {shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1))}]));
    const file = join(dir, name);
    writeFileSync(file, serializeSafetensors(t, {format: CHECKPOINT_FORMAT, version: '1', meta: JSON.stringify({recipe})}));
    return file;
  }
  function evalCli(file: string) {
    const r = spawnSync(process.execPath, ['--require', join(__dirname, 'peak-rss.cjs'), '--import', 'tsx', join(ROOT, 'scripts/eval.ts'), file],
      {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'cpu'}, timeout: 120_000});
    const peak = /PEAK_RSS_MB ([\d.]+)/.exec(r.stderr);
    return {status: r.status, out: r.stdout + r.stderr, peakMB: peak ? Number(peak[1]) : undefined};
  }

  it('npm run eval refuses a small checkpoint claiming dModel 1e6 by name, with < 300 MB peak memory', () => {
    const huge = {...tiny, model: {...tiny.model, dModel: 1_000_000, numHeads: 4}};
    const file = craft('huge.safetensors', huge);
    const r = evalCli(file);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain(file);
    expect(r.out).toMatch(/do not match its recipe .*shape mismatch: patch_embed\.proj\.weight \(checkpoint \[192,32\], expected \[192,1000000\]\)/);
    if (existsSync('/proc/self/status')) {
      console.log(`peak memory of npm run eval on the crafted checkpoint: ${r.peakMB} MB`);
      expect(r.peakMB).toBeDefined();
      expect(r.peakMB!).toBeLessThan(300);
    }
  }, 120_000);

  it('refuses an invalid recipe (patch 5 does not tile 32x32) and a non-object recipe before building anything', async () => {
    const f = craft('patch5.safetensors', {...tiny, model: {...tiny.model, patchSize: 5}});
    await expect(loadTrainedViT(f)).rejects.toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its recipe: .*patch`));
    const g = craft('string.safetensors', 'cifar-small');
    await expect(loadTrainedViT(g)).rejects.toThrow(/no training recipe in its metadata/);
    const h = craft('epochs.safetensors', {...tiny, epochs: -3});
    await expect(loadTrainedViT(h)).rejects.toThrow(/its recipe: epochs must be a positive integer \(got -3\)/);
  });

  it('refuses non-finite weights (a diverged run), naming the file and the tensor', async () => {
    const t = Object.fromEntries(Object.entries(vitParamShapes(tiny.model)).map(([n, s]) => [n, {shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1))}]));
    t['head.weight']!.data[3] = NaN;
    const f = craft('nan.safetensors', tiny, t);
    const before = tf.memory().numTensors;
    await expect(loadTrainedViT(f)).rejects.toThrow(/nan\.safetensors holds 1 non-finite weights \(NaN or Infinity, in head\.weight\): the training that wrote it diverged/);
    expect(tf.memory().numTensors).toBe(before);
    const r = evalCli(f);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/non-finite weights/);
  }, 120_000);
});
