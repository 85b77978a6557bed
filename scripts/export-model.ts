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
import {accuracyOfFirst, evaluate, loadTrainedViT} from '../lib/train/vit-trainer';
import {parseArgs} from './cli-util';

const USAGE = 'usage: npm run export-model -- <checkpoint> [--out DIR] [--data-dir DIR]';

async function main() {
  const args = parseArgs(process.argv.slice(2), {strings: ['out', 'data-dir'], booleans: ['help']}, USAGE);
  if (args.help || args._.length !== 1) { console.log(USAGE); return; }
  const src = path.resolve(args._[0]!);
  const out = path.resolve((args.out as string | undefined) ?? 'models/cifar-vit');
  const info = await initBackend();
  const {params, recipe, checkpoint: ck} = await loadTrainedViT(src);
  const position = ck.meta.position as {epoch: number; batch: number; step: number} | undefined;
  if (position && position.batch !== 0) {
    throw new Error(`${src} was saved in the middle of epoch ${position.epoch + 1} (batch ${position.batch}); export a checkpoint written at the end of an epoch`);
  }
  const epochsDone = position ? position.epoch : recipe.epochs;
  const data = await loadCifar10({dir: args['data-dir'] as string | undefined, download: false});
  const t0 = Date.now();
  const full = await evaluate(params, recipe, data.test);
  const evalSeconds = (Date.now() - t0) / 1000;
  const first2000 = await evaluate(params, recipe, headOf(data.test, 2000));
  const results = {
    data: data.label, source: data.source, backend: describeBackend(info), config: recipe.name, epochsDone, epochsPlanned: recipe.epochs,
    trainingSeconds: ck.meta.elapsedSeconds, testAccuracy: full.accuracy, testLoss: full.loss, testCount: data.test.count,
    exactSubsetAccuracy: data.exactTestCount ? accuracyOfFirst(full.predictions, data.test.labels, data.exactTestCount) : undefined,
    exactSubsetCount: data.exactTestCount, first2000Accuracy: first2000.accuracy, evalImgPerSec: data.test.count / evalSeconds,
  };
  fs.mkdirSync(out, {recursive: true});
  await saveCheckpoint(path.join(out, 'model.safetensors'), params, {meta: {recipe, epochsDone, dataSource: data.label}});
  fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(recipe, null, 1) + '\n');
  const metrics = path.join(path.dirname(src), 'metrics.jsonl');
  if (fs.existsSync(metrics)) fs.copyFileSync(metrics, path.join(out, 'metrics.jsonl'));
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 1) + '\n');
  console.log(JSON.stringify(results, null, 1));
  disposeParams(params);
}

main().catch((e) => {
  console.error(`[export-model] error: ${(e as Error).message}`);
  process.exit(1);
});
