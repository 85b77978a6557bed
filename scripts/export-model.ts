/**
 * npm run export-model -- <training checkpoint> [--out models/cifar-vit] [--data-dir DIR]
 *
 * Writes the shipped model: model.safetensors (weights only, timm-style names, meta = recipe),
 * config.json (the recipe), metrics.jsonl (the full training log) and results.json (accuracy on
 * the full test set, the exact-pixel subset and the first 2,000 test images, which CI re-checks).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {describeBackend, initBackend} from '../lib/backend';
import {disposeParams} from '../lib/core/params';
import {headOf, loadCifar10} from '../lib/data/cifar';
import {saveCheckpoint} from '../lib/io/checkpoint';
import {accuracyOfFirst, evaluate, loadTrainedViT, summarizeTrainingLog, trimMetricsLog} from '../lib/train/vit-trainer';
import {CliSpec, parseCli, runCli, UsageError} from './cli-args';

export const EXPORT_CLI = {
  command: 'npm run export-model --',
  summary: 'Writes the shipped model from a training checkpoint: model.safetensors, config.json, metrics.jsonl, results.json.',
  positionals: [{name: 'CHECKPOINT', help: 'a training checkpoint written at the end of an epoch (runs/<config>/last.safetensors)'}],
  options: {
    'out': {kind: 'string', arg: 'DIR', help: 'output folder (default models/cifar-vit)'},
    'data-dir': {kind: 'string', arg: 'DIR', help: 'CIFAR-10 folder or archive for the evaluation (never downloads)'},
  },
} as const satisfies CliSpec;

async function main() {
  const parsed = parseCli(EXPORT_CLI);
  if (!parsed) return;
  const args = parsed.values;
  if (parsed.positionals.length !== 1) throw new UsageError('name the training checkpoint to export, e.g. npm run export-model -- runs/cifar-small/last.safetensors');
  const src = path.resolve(parsed.positionals[0]!);
  const out = path.resolve(args.out ?? 'models/cifar-vit');
  const info = await initBackend();
  const {params, recipe, checkpoint: ck} = await loadTrainedViT(src);
  const position = ck.meta.position as {epoch: number; batch: number; step: number} | undefined;
  if (position && position.batch !== 0) {
    throw new Error(`${src} was saved in the middle of epoch ${position.epoch + 1} (batch ${position.batch}); export a checkpoint written at the end of an epoch`);
  }
  const epochsDone = position ? position.epoch : recipe.epochs;
  const data = await loadCifar10({dir: args['data-dir'], download: false});
  const t0 = Date.now();
  const full = await evaluate(params, recipe, data.test);
  const evalSeconds = (Date.now() - t0) / 1000;
  const first2000 = await evaluate(params, recipe, headOf(data.test, 2000));
  const single = full.single; // a recipe with test-time augmentation: the single pass too, so both are on record
  const results = {
    data: data.label, source: data.source, backend: describeBackend(info), config: recipe.name, epochsDone, epochsPlanned: recipe.epochs,
    trainingSeconds: ck.meta.elapsedSeconds, testAccuracy: full.accuracy, testLoss: full.loss, testCount: data.test.count,
    exactSubsetAccuracy: data.exactTestCount ? accuracyOfFirst(full.predictions, data.test.labels, data.exactTestCount) : undefined,
    exactSubsetCount: data.exactTestCount, first2000Accuracy: first2000.accuracy, evalImgPerSec: data.test.count / evalSeconds,
    ...(single ? {tta: recipe.tta, testAccuracyWithoutTta: single.accuracy,
      exactSubsetAccuracyWithoutTta: data.exactTestCount ? accuracyOfFirst(single.predictions, data.test.labels, data.exactTestCount) : undefined} : {}),
  };
  fs.mkdirSync(out, {recursive: true});
  await saveCheckpoint(path.join(out, 'model.safetensors'), params, {meta: {recipe, epochsDone, dataSource: data.label}});
  fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(recipe, null, 1) + '\n');
  const metrics = path.join(path.dirname(src), 'metrics.jsonl'), shipped = path.join(out, 'metrics.jsonl');
  let log: ReturnType<typeof summarizeTrainingLog> | undefined;
  if (fs.existsSync(metrics)) {
    // the shipped log ends where the exported checkpoint does (records a later, unsaved epoch appended are left out)
    fs.copyFileSync(metrics, shipped);
    if (position) {
      const dropped = trimMetricsLog(shipped, position, Infinity);
      if (dropped > 0) console.error(`[export-model] left out ${dropped} record${dropped === 1 ? '' : 's'} of ${metrics} written after the checkpoint`);
    }
    log = summarizeTrainingLog(fs.readFileSync(shipped, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)));
  }
  const withLog = log ? {...results, trainingHours: log.elapsedSeconds / 3600, trainImgPerSec: log.imgPerSec, stepSeconds: log.trainSeconds,
    perEpochEvalSeconds: log.evalSeconds, loadAverage1min: log.load1, workerEpochs: log.workerEpochs} : results;
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(withLog, null, 1) + '\n');
  console.log(JSON.stringify(withLog, null, 1));
  disposeParams(params);
}

runCli('export-model', main);
