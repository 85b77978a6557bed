/**
 * npm run train -- [--config NAME] [--epochs N] [--resume] [--run-dir DIR] [--data-dir DIR]
 *                  [--cache-dir DIR] [--batch-size N] [--limit-train N] [--limit-test N]
 *                  [--seed N] [--export DIR] [--stop-after-batches N] [--clean-train-eval N]
 *
 * Trains a ViT on CIFAR-10 (Chapter 4). Progress bar with loss, accuracy, images/s and ETA;
 * evaluation on the test set after every epoch, and on the first N training images the same way
 * (clean images, plain cross-entropy: --clean-train-eval N, default 2000, 0 = off), so the train and
 * test curves compare like with like; metrics as JSON lines in <run-dir>/metrics.jsonl;
 * a checkpoint <run-dir>/last.safetensors written atomically after every epoch (and on Ctrl-C);
 * --resume continues exactly where it stopped (weights, AdamW moments, step, epoch, batch;
 * data order and augmentation are derived from (seed, epoch, batch)).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {describeBackend, initBackend} from '../lib/backend';
import {countParams} from '../lib/core/params';
import {headOf, loadCifar10, ImageSet} from '../lib/data/cifar';
import {assignParams, loadCheckpoint, saveCheckpoint} from '../lib/io/checkpoint';
import {getRecipe, TrainRecipe} from '../lib/train/recipes';
import {accuracyOfFirst, cleanTrainMetrics, createTrainer, evaluate, learningRate, makeBatch, orderOfEpoch, trainStep, Trainer} from '../lib/train/vit-trainer';
import {formatDuration, parseArgs, progressLine} from './cli-util';

const USAGE = `usage: npm run train -- [--config cifar-small|cifar-base|blog|tiny] [--epochs N] [--resume]
       [--run-dir DIR] [--data-dir DIR] [--cache-dir DIR] [--batch-size N] [--micro-batch N (gradient accumulation)] [--lr X]
       [--limit-train N] [--limit-test N] [--seed N] [--export DIR] [--stop-after-batches N]
       [--clean-train-eval N (training images evaluated clean and unsmoothed each epoch; default 2000, 0 = off)]`;

interface Position { epoch: number; batch: number; step: number; lossSum?: number; correct?: number; seen?: number; epochSeconds?: number }

function log(line: string) {
  process.stderr.write(line + '\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    strings: ['config', 'run-dir', 'data-dir', 'cache-dir', 'export'],
    numbers: ['epochs', 'batch-size', 'micro-batch', 'limit-train', 'limit-test', 'seed', 'stop-after-batches', 'lr', 'log-every', 'clean-train-eval'],
    booleans: ['resume', 'help', 'no-eval'],
  }, USAGE);
  if (args.help) { console.log(USAGE); return; }
  const configName = (args.config as string | undefined) ?? 'cifar-small';
  const over: Partial<TrainRecipe> = {};
  if (args.epochs !== undefined) over.epochs = args.epochs as number;
  if (args['batch-size'] !== undefined) over.batchSize = args['batch-size'] as number;
  if (args['micro-batch'] !== undefined) over.microBatch = args['micro-batch'] as number;
  if (args.seed !== undefined) over.seed = args.seed as number;
  if (args.lr !== undefined) over.lr = args.lr as number;
  let recipe = getRecipe(configName, over);
  const cleanCount = (args['clean-train-eval'] as number | undefined) ?? 2000;
  if (!(Number.isInteger(cleanCount) && cleanCount >= 0)) throw new Error(`--clean-train-eval must be a whole number >= 0 (got ${cleanCount})`);
  const runDir = path.resolve((args['run-dir'] as string | undefined) ?? path.join('runs', configName));
  const ckptPath = path.join(runDir, 'last.safetensors');
  const metricsPath = path.join(runDir, 'metrics.jsonl');

  const info = await initBackend();
  log(`[train] ${describeBackend(info)}`);
  const data = await loadCifar10({dir: args['data-dir'] as string | undefined, cacheDir: args['cache-dir'] as string | undefined,
    onProgress: (got, total) => process.stderr.write(`\r[data] downloading ${progressLine(got, total)}`)});
  let train: ImageSet = data.train, test: ImageSet = data.test;
  if (args['limit-train'] !== undefined) train = headOf(train, args['limit-train'] as number);
  if (args['limit-test'] !== undefined) test = headOf(test, args['limit-test'] as number);
  log(`[train] data: ${data.source}; train ${train.count}, test ${test.count}`);

  fs.mkdirSync(runDir, {recursive: true});
  let pos: Position = {epoch: 0, batch: 0, step: 0};
  let t: Trainer;
  let elapsedBefore = 0;
  if (args.resume && fs.existsSync(ckptPath)) {
    const ck = await loadCheckpoint(ckptPath);
    const saved = ck.meta.recipe as TrainRecipe | undefined;
    if (!saved) throw new Error(`${ckptPath} has no training recipe in its metadata: not a checkpoint written by npm run train`);
    if (JSON.stringify(saved.model) !== JSON.stringify(recipe.model)) {
      throw new Error(`--resume: ${ckptPath} was trained with another architecture (${JSON.stringify(saved.model)}) than config "${configName}" (${JSON.stringify(recipe.model)})`);
    }
    // the number of epochs may be extended; the micro-batch size may change (same maths, other memory)
    recipe = {...saved, epochs: over.epochs ?? saved.epochs, microBatch: over.microBatch ?? saved.microBatch};
    t = createTrainer(recipe, train.count);
    assignParams(t.params, ck.params);
    if (!ck.optimizer) throw new Error(`--resume: ${ckptPath} holds no optimizer state (it is an exported model, not a training checkpoint)`);
    t.optimizer.setState(ck.optimizer);
    pos = ck.meta.position as Position;
    elapsedBefore = (ck.meta.elapsedSeconds as number) ?? 0;
    log(`[train] resumed from ${ckptPath} at epoch ${pos.epoch + 1}, batch ${pos.batch}, step ${pos.step}`);
  } else {
    if (args.resume) log(`[train] --resume: no checkpoint at ${ckptPath}; starting from scratch`);
    else if (fs.existsSync(ckptPath)) throw new Error(`${ckptPath} exists: pass --resume to continue it, or choose another --run-dir`);
    t = createTrainer(recipe, train.count);
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(recipe, null, 1) + '\n');
  }
  log(`[train] config ${recipe.name}: ${countParams(t.params).toLocaleString('en-US')} parameters, ${recipe.epochs} epochs x ${t.stepsPerEpoch} steps of ${recipe.batchSize}${recipe.microBatch && recipe.microBatch < recipe.batchSize ? ` (gradient accumulation over micro-batches of ${recipe.microBatch})` : ''}`);

  let interrupted = false, firstSignal = 0;
  const onSignal = () => {
    // a terminal's Ctrl-C reaches this process twice (directly, and relayed by the tsx/npm parents)
    if (interrupted && Date.now() - firstSignal > 2000) process.exit(130);
    if (interrupted) return;
    interrupted = true;
    firstSignal = Date.now();
    log('\n[train] Ctrl-C: finishing this step, saving a checkpoint (press again to abort without saving)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const save = async () => {
    await saveCheckpoint(ckptPath, t.params, {optimizer: t.optimizer, meta: {recipe, position: pos, elapsedSeconds: elapsedBefore + (Date.now() - t0) / 1000, dataSource: data.label}});
  };
  const appendMetrics = (rec: Record<string, unknown>) => fs.appendFileSync(metricsPath, JSON.stringify(rec) + '\n');
  const stopAfter = args['stop-after-batches'] as number | undefined;
  const logEvery = (args['log-every'] as number | undefined) ?? 50;
  let batchesThisRun = 0;
  const t0 = Date.now();

  for (; pos.epoch < recipe.epochs; pos.epoch++, pos.batch = 0) {
    const order = orderOfEpoch(recipe, train.count, pos.epoch);
    // running sums of a partly done epoch come back from the checkpoint, so its record is exact
    let lossSum = pos.lossSum ?? 0, correct = pos.correct ?? 0, seen = pos.seen ?? 0;
    const tEpoch = Date.now() - 1000 * (pos.epochSeconds ?? 0);
    pos.lossSum = pos.correct = pos.seen = pos.epochSeconds = undefined;
    for (; pos.batch < t.stepsPerEpoch; pos.batch++) {
      const r = await trainStep(t, makeBatch(recipe, train, order, pos.epoch, pos.batch), pos.step);
      await new Promise((res) => setImmediate(res)); // let the event loop deliver Ctrl-C (tfjs awaits are microtasks only)
      pos.step++;
      lossSum += r.loss * recipe.batchSize; correct += r.correct; seen += recipe.batchSize;
      batchesThisRun++;
      const ips = seen / ((Date.now() - tEpoch) / 1000);
      const left = (t.stepsPerEpoch - pos.batch - 1) * recipe.batchSize / ips;
      if (process.stderr.isTTY || pos.batch % logEvery === logEvery - 1 || pos.batch === t.stepsPerEpoch - 1) process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}[epoch ${pos.epoch + 1}/${recipe.epochs}] ${progressLine(pos.batch + 1, t.stepsPerEpoch)} loss ${(lossSum / seen).toFixed(4)} acc ${(100 * correct / seen).toFixed(1)}% ${ips.toFixed(1)} img/s ETA ${formatDuration(left)}${process.stderr.isTTY ? '   ' : '\n'}`);
      if (pos.batch % logEvery === logEvery - 1) appendMetrics({type: 'step', epoch: pos.epoch + 1, step: pos.step, lr: r.lr, loss: r.loss, gradNorm: r.gradNorm, imgPerSec: ips});
      if (!Number.isFinite(r.loss)) throw new Error(`training diverged at step ${pos.step} (loss ${r.loss}); the last good checkpoint is ${ckptPath}`);
      if (interrupted || (stopAfter !== undefined && batchesThisRun >= stopAfter)) {
        pos.batch++;
        Object.assign(pos, {lossSum, correct, seen, epochSeconds: (Date.now() - tEpoch) / 1000});
        await save();
        log(`\n[train] stopped at epoch ${pos.epoch + 1}, batch ${pos.batch}; checkpoint saved to ${ckptPath}; continue with --resume`);
        return;
      }
    }
    const trainSec = (Date.now() - tEpoch) / 1000;
    if (process.stderr.isTTY) process.stderr.write('\n');
    const rec: Record<string, unknown> = {type: 'epoch', epoch: pos.epoch + 1, step: pos.step, lr: learningRate(t, pos.step - 1),
      trainLoss: lossSum / seen, trainAcc: correct / seen, trainSeconds: trainSec, imgPerSec: seen / trainSec, data: data.label};
    if (!args['no-eval']) {
      const te = Date.now();
      const ev = await evaluate(t.params, recipe, test);
      rec.testLoss = ev.loss; rec.testAcc = ev.accuracy; rec.evalSeconds = (Date.now() - te) / 1000;
      if (data.exactTestCount && test.count >= data.exactTestCount) rec.testAccExact = accuracyOfFirst(ev.predictions, test.labels, data.exactTestCount);
    }
    if (!args['no-eval'] && cleanCount > 0) Object.assign(rec, await cleanTrainMetrics(t.params, recipe, train, cleanCount));
    rec.elapsedSeconds = elapsedBefore + (Date.now() - t0) / 1000;
    appendMetrics(rec);
    pos.batch = t.stepsPerEpoch; // position saved as "epoch done"
    const next = {...pos};
    pos = {epoch: pos.epoch + 1, batch: 0, step: pos.step}; // the checkpoint says: start the next epoch
    await save();
    pos = next;
    log(`[epoch ${rec.epoch}] train loss ${(rec.trainLoss as number).toFixed(4)} acc ${(100 * (rec.trainAcc as number)).toFixed(2)}%` +
      (rec.testAcc !== undefined ? ` | test loss ${(rec.testLoss as number).toFixed(4)} acc ${(100 * (rec.testAcc as number)).toFixed(2)}% (${data.label})` : '') +
      ` | ${(rec.imgPerSec as number).toFixed(1)} img/s | checkpoint ${ckptPath}`);
  }
  log(`[train] done: ${recipe.epochs} epochs, ${formatDuration(elapsedBefore + (Date.now() - t0) / 1000)} in total`);
  if (args.export) {
    const dir = path.resolve(args.export as string);
    fs.mkdirSync(dir, {recursive: true});
    await saveCheckpoint(path.join(dir, 'model.safetensors'), t.params, {meta: {recipe, dataSource: data.label}});
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(recipe, null, 1) + '\n');
    fs.copyFileSync(metricsPath, path.join(dir, 'metrics.jsonl'));
    log(`[train] exported the model to ${dir}`);
  }
}

main().catch((e) => {
  process.stderr.write(`\n[train] error: ${(e as Error).message}\n`);
  process.exit(1);
});
