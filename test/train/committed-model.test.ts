/**
 * The committed CIFAR-10 model (models/cifar-vit/) really has the accuracy it states: its weights
 * are re-evaluated on the first 2,000 test images (the full 10,000 are in the chapter and in
 * results.json, reproduced by `npm run eval`).
 */
import {existsSync, readFileSync, statSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../lib/backend';
import {disposeParams} from '../../lib/core/params';
import {headOf, loadCifar10} from '../../lib/data/cifar';
import {evaluate, loadTrainedViT} from '../../lib/train/vit-trainer';

const DIR = resolve(__dirname, '../../models/cifar-vit');
const hasModel = existsSync(join(DIR, 'model.safetensors'));

describe.skipIf(!hasModel)('committed model models/cifar-vit', () => {
  beforeAll(async () => { await initBackend('wasm'); });

  it('is small enough to ship and carries its config, log and results', () => {
    expect(statSync(join(DIR, 'model.safetensors')).size).toBeLessThan(20 * 1024 * 1024);
    for (const f of ['config.json', 'metrics.jsonl', 'results.json']) expect(existsSync(join(DIR, f)), f).toBe(true);
    const log = readFileSync(join(DIR, 'metrics.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l));
    const results = JSON.parse(readFileSync(join(DIR, 'results.json'), 'utf8'));
    const epochs = log.filter(r => r.type === 'epoch');
    expect(epochs.length).toBe(results.epochsDone);
    // the last logged test accuracy is the one the results state (same weights, same data)
    expect(Math.abs(epochs[epochs.length - 1].testAcc - results.testAccuracy)).toBeLessThan(0.002);
  });

  it('reproduces the stated accuracy on the first 2,000 test images', async () => {
    const data = await loadCifar10({download: false});
    const results = JSON.parse(readFileSync(join(DIR, 'results.json'), 'utf8'));
    const {params, recipe} = await loadTrainedViT(join(DIR, 'model.safetensors'));
    const ev = await evaluate(params, recipe, headOf(data.test, 2000));
    disposeParams(params);
    expect(Math.abs(ev.accuracy - results.first2000Accuracy)).toBeLessThanOrEqual(0.001); // 2 images of 2,000
  }, 300_000);
});
