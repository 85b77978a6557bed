/**
 * npm run eval -- <checkpoint.safetensors> [--data-dir DIR] [--limit-test N] [--json FILE]
 *
 * Test accuracy (plus the exact-pixel subset of the shared copy), per-class accuracy and the
 * confusion matrix of a checkpoint written by `npm run train` (training checkpoint or exported
 * model). The architecture comes from the checkpoint's own metadata.
 */
import * as fs from 'node:fs';
import {describeBackend, initBackend} from '../lib/backend';
import {disposeParams} from '../lib/core/params';
import {displayPath, headOf, loadCifar10} from '../lib/data/cifar';
import {accuracyFromConfusion, confusionMatrix, perClassAccuracy} from '../lib/eval/metrics';
import {accuracyOfFirst, evaluate, loadTrainedViT} from '../lib/train/vit-trainer';
import {CliSpec, parseCli, runCli, UsageError} from './cli-args';

export const EVAL_CLI = {
  command: 'npm run eval --',
  summary: 'Test accuracy, per-class accuracy and the confusion matrix of a checkpoint written by npm run train or npm run export-model.',
  positionals: [{name: 'CHECKPOINT', help: 'the .safetensors file (a training checkpoint or an exported model)'}],
  options: {
    'data-dir': {kind: 'string', arg: 'DIR', help: 'CIFAR-10 folder or archive (default: CIFAR10_DIR, the cache, the shared copy; never downloads)'},
    'cache-dir': {kind: 'string', arg: 'DIR', help: 'checksum cache (default COURSE_CACHE_DIR or ~/.cache/attention-course)'},
    'limit-test': {kind: 'positive', help: 'evaluate the first N test images only'},
    'batch-size': {kind: 'positive', help: 'images per forward pass (default 250)'},
    'json': {kind: 'string', arg: 'FILE', help: 'also write the results as JSON to FILE'},
  },
} as const satisfies CliSpec;

async function main() {
  const parsed = parseCli(EVAL_CLI);
  if (!parsed) return;
  const args = parsed.values;
  if (parsed.positionals.length !== 1) throw new UsageError('name the checkpoint to evaluate, e.g. npm run eval -- models/cifar-vit/model.safetensors');
  const file = parsed.positionals[0]!;
  console.error(`[eval] ${describeBackend(await initBackend())}`);
  const {params, recipe, checkpoint: ck} = await loadTrainedViT(file);
  const data = await loadCifar10({dir: args['data-dir'], cacheDir: args['cache-dir'], download: false});
  const test = args['limit-test'] !== undefined ? headOf(data.test, args['limit-test']) : data.test;
  const t0 = Date.now();
  const ev = await evaluate(params, recipe, test, args['batch-size'] ?? 250);
  if (!Number.isFinite(ev.loss)) throw new Error(`${file}: the test loss is ${ev.loss} on ${test.count} images: the model's outputs overflow (a diverged run); use an earlier checkpoint`);
  const secs = (Date.now() - t0) / 1000;
  const cm = confusionMatrix(ev.predictions, test.labels, data.classes.length);
  const perClass = perClassAccuracy(cm);
  const exact = data.exactTestCount && test.count >= data.exactTestCount ? accuracyOfFirst(ev.predictions, test.labels, data.exactTestCount) : undefined;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  console.log(`checkpoint: ${file} (config ${recipe.name}, ${ck.meta.position ? `after epoch ${(ck.meta.position as {epoch: number}).epoch}` : 'exported model'})`);
  console.log(`data: ${data.source}`);
  console.log(`test accuracy: ${pct(ev.accuracy)} on ${test.count} images (${data.label}); test loss ${ev.loss.toFixed(4)}; ${(test.count / secs).toFixed(1)} img/s`);
  if (exact !== undefined) console.log(`exact-pixel subset (test records 0-${data.exactTestCount! - 1}): ${pct(exact)}`);
  const single = ev.single;
  if (single) {
    // the recipe evaluates with test-time augmentation: say so, and give the single pass beside it
    console.log(`(with test-time augmentation '${recipe.tta}': the mean logits of each image and its mirror image; ` +
      `one pass without it: ${pct(single.accuracy)})`);
  }
  console.log('\nper-class accuracy:');
  data.classes.forEach((c, i) => console.log(`  ${c.padEnd(11)} ${pct(perClass[i]!).padStart(7)}`));
  console.log('\nconfusion matrix (rows: true class, columns: predicted):');
  const w = 6;
  console.log(' '.repeat(12) + data.classes.map(c => c.slice(0, w - 1).padStart(w)).join(''));
  cm.forEach((row, i) => console.log(data.classes[i]!.padEnd(12) + row.map(v => String(v).padStart(w)).join('')));
  if (Math.abs(accuracyFromConfusion(cm) - ev.accuracy) > 1e-12) throw new Error('internal: confusion matrix disagrees with accuracy');
  if (args.json) {
    fs.writeFileSync(args.json, JSON.stringify({checkpoint: displayPath(file), config: recipe.name, data: data.label, count: test.count,
      accuracy: ev.accuracy, loss: ev.loss, ...(single ? {tta: recipe.tta, accuracyWithoutTta: single.accuracy} : {}), exactSubsetAccuracy: exact, exactSubsetCount: data.exactTestCount, perClass, confusion: cm, classes: data.classes}, null, 1) + '\n');
  }
  disposeParams(params);
}

runCli('eval', main);
