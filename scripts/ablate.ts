/**
 * npm run ablate -- [--train-images N] [--epochs E] [--test-images N] [--out FILE] [--only NAME,…]
 *
 * Short, same-budget training runs that compare recipes (Chapter 4's ablation table): the source
 * blog's set-up vs the course recipe, patch size 4 vs 8, CLS vs mean pooling, augmentation on/off.
 * Every run uses the training code of `npm run train` (lib/train/vit-trainer.ts) on the same
 * class-balanced training subset for the same number of epochs, and is evaluated on the same
 * test images. Writes models/ablations.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {describeBackend, initBackend} from '../lib/backend';
import {countParams} from '../lib/core/params';
import {balancedSubset} from '../lib/data/batches';
import {headOf, loadCifar10} from '../lib/data/cifar';
import {getRecipe, TrainRecipe} from '../lib/train/recipes';
import {createTrainer, disposeTrainer, evaluate, makeBatch, orderOfEpoch, trainStep} from '../lib/train/vit-trainer';
import {CliSpec, parseCli, runCli, UsageError} from './cli-args';

export const ABLATE_CLI = {
  command: 'npm run ablate --',
  summary: "Short, same-budget training runs comparing recipes (Chapter 4's ablation table); writes models/ablations.json.",
  options: {
    'train-images': {kind: 'positive', help: 'class-balanced training subset size (default 10000)'},
    'epochs': {kind: 'positive', help: 'epochs per run (default 3)'},
    'test-images': {kind: 'positive', help: 'evaluate on the first N test images (default 2000)'},
    'out': {kind: 'string', arg: 'FILE', help: 'results file (default models/ablations.json)'},
    'only': {kind: 'string', arg: 'A,B', help: 'run only these ablations (names as in the results file)'},
    'data-dir': {kind: 'string', arg: 'DIR', help: 'CIFAR-10 folder or archive (never downloads)'},
  },
} as const satisfies CliSpec;

export const ABLATIONS: Array<{name: string; what: string; recipe: (epochs: number) => TrainRecipe}> = [
  {name: 'blog', what: "source blog: patch 8, dModel 512, 1 layer, flatten head, no augmentation, wd 1e-4, batch 64",
    recipe: (e) => getRecipe('blog', {epochs: e})},
  {name: 'course', what: 'course recipe (cifar-small): patch 4, dModel 128, 6 layers, CLS, crop+flip, label smoothing',
    recipe: (e) => getRecipe('cifar-small', {epochs: e, warmupEpochs: e > 1 ? 1 : 0})},
  {name: 'course, patch 8', what: 'course recipe with patch 8 (16 tokens instead of 64)',
    recipe: (e) => getRecipe('cifar-small', {epochs: e, warmupEpochs: e > 1 ? 1 : 0, model: {patchSize: 8}})},
  {name: 'course, mean pooling', what: 'course recipe with mean pooling instead of the CLS token',
    recipe: (e) => getRecipe('cifar-small', {epochs: e, warmupEpochs: e > 1 ? 1 : 0, model: {pool: 'mean'}})},
  {name: 'course, no augmentation', what: 'course recipe without crop/flip',
    recipe: (e) => getRecipe('cifar-small', {epochs: e, warmupEpochs: e > 1 ? 1 : 0, augment: {crop: false, flip: false, cutmix: 0, mixup: 0}})},
];

async function main() {
  const parsed = parseCli(ABLATE_CLI);
  if (!parsed) return;
  const args = parsed.values;
  const perClass = Math.round((args['train-images'] ?? 10000) / 10);
  if (perClass < 1) throw new UsageError('--train-images must be at least 5 (one image per class after rounding)');
  const epochs = args.epochs ?? 3;
  const out = path.resolve(args.out ?? 'models/ablations.json');
  const only = args.only ? new Set(args.only.split(',')) : undefined;
  const unknown = only ? [...only].filter((n) => !ABLATIONS.some((a) => a.name === n)) : [];
  if (unknown.length > 0) throw new UsageError(`--only: unknown ablation ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${ABLATIONS.map((a) => `"${a.name}"`).join(', ')})`);
  const info = await initBackend();
  const data = await loadCifar10({dir: args['data-dir'], download: false});
  const train = balancedSubset(data.train, perClass);
  const test = headOf(data.test, args['test-images'] ?? 2000);
  console.error(`[ablate] ${describeBackend(info)}; ${train.count} training images x ${epochs} epochs each; ${test.count} test images (${data.label})`);
  const prev = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {runs: []};
  const runs: Record<string, unknown>[] = prev.runs.filter((r: {name: string}) => !only || !only.has(r.name));
  for (const a of ABLATIONS) {
    if (only && !only.has(a.name)) continue;
    const recipe = a.recipe(epochs);
    const t = createTrainer(recipe, train.count);
    const t0 = Date.now();
    let step = 0, lastLoss = NaN;
    for (let e = 0; e < recipe.epochs; e++) {
      const order = orderOfEpoch(recipe, train.count, e);
      for (let b = 0; b < t.stepsPerEpoch; b++) {
        lastLoss = (await trainStep(t, makeBatch(recipe, train, order, e, b), step++)).loss;
        await new Promise((r) => setImmediate(r));
      }
      process.stderr.write(`[ablate] ${a.name}: epoch ${e + 1}/${recipe.epochs} loss ${lastLoss.toFixed(4)}\n`);
    }
    const trainSeconds = (Date.now() - t0) / 1000;
    const ev = await evaluate(t.params, recipe, test);
    const rec = {name: a.name, what: a.what, params: countParams(t.params), trainImages: train.count, epochs: recipe.epochs,
      testImages: test.count, testAccuracy: ev.accuracy, testLoss: ev.loss, finalTrainLoss: lastLoss, trainSeconds,
      imgPerSec: (train.count * recipe.epochs) / trainSeconds, model: recipe.model};
    console.error(`[ablate] ${a.name}: test accuracy ${(100 * ev.accuracy).toFixed(2)}% (${rec.params} params, ${trainSeconds.toFixed(0)} s)`);
    runs.push(rec);
    disposeTrainer(t);
    fs.mkdirSync(path.dirname(out), {recursive: true});
    fs.writeFileSync(out, JSON.stringify({data: data.label, backend: describeBackend(info), date: new Date().toISOString().slice(0, 10), runs}, null, 1) + '\n');
  }
  console.log(`wrote ${out}`);
}

runCli('ablate', main);
