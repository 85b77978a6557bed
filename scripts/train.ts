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
import * as os from 'node:os';
import * as path from 'node:path';
import {describeBackend, initBackend} from '../lib/backend';
import {countParams} from '../lib/core/params';
import {headOf, loadCifar10, ImageSet} from '../lib/data/cifar';
import {assignParams, cleanStaleTemps, loadCheckpoint, saveCheckpoint} from '../lib/io/checkpoint';
import {getRecipe, RECIPES, TrainRecipe, validateRecipe} from '../lib/train/recipes';
import {startDataParallel, useOneThreadPerWorker} from '../lib/train/data-parallel';
import {accuracyOfFirst, appendLine, cleanTrainMetrics, createTrainer, evalParams, evaluate, learningRate, makeBatch, orderOfEpoch, recipeOfCheckpoint, trainStep, Trainer, trimMetricsLog} from '../lib/train/vit-trainer';
import {CliSpec, parseCli, runCli, UsageError} from './cli-args';
import {downloadProgress, formatDuration, Progress} from '../lib/progress';

export const TRAIN_CLI = {
  command: 'npm run train --',
  summary: 'Trains a ViT on CIFAR-10 (Chapter 4): progress, evaluation after every epoch, metrics in <run-dir>/metrics.jsonl,\n' +
    'an atomic checkpoint <run-dir>/last.safetensors after every epoch and on Ctrl-C; --resume continues exactly where it stopped.',
  options: {
    'config': {kind: 'string', arg: 'NAME', help: `recipe: ${Object.keys(RECIPES).join(', ')} (default cifar-small)`},
    'epochs': {kind: 'positive', help: "number of epochs (default: the recipe's; may be raised on --resume)"},
    'resume': {kind: 'boolean', help: 'continue the run in --run-dir from its checkpoint'},
    'run-dir': {kind: 'string', arg: 'DIR', help: 'where the checkpoint and metrics go (default runs/<config>)'},
    'data-dir': {kind: 'string', arg: 'DIR', help: 'CIFAR-10 folder or archive (default: CIFAR10_DIR, the cache, the shared copy, else download)'},
    'cache-dir': {kind: 'string', arg: 'DIR', help: 'download and checksum cache (default COURSE_CACHE_DIR or ~/.cache/attention-course)'},
    'batch-size': {kind: 'positive', help: "images per optimiser step (default: the recipe's; fixed for a run)"},
    'micro-batch': {kind: 'positive', help: 'gradient accumulation: process a batch in slices of N (same update, less memory; may change on --resume)'},
    'workers': {kind: 'positive', help: "1 or 2 processes per batch (default: the recipe's; 2 = data-parallel, half a batch each on 1 OpenBLAS thread; may change on --resume)"},
    'lr': {kind: 'real', help: "peak learning rate (default: the recipe's; fixed for a run)"},
    'seed': {kind: 'count', help: "seed of initialisation, data order and augmentation (default: the recipe's; fixed for a run)"},
    'limit-train': {kind: 'positive', help: 'train on the first N training images only (stored in the checkpoint; fixed for a run)'},
    'limit-test': {kind: 'positive', help: 'evaluate on the first N test images only'},
    'no-eval': {kind: 'boolean', help: 'skip the evaluation after each epoch'},
    'export': {kind: 'string', arg: 'DIR', help: 'after the last epoch, write the model, config and metrics to DIR'},
    'stop-after-batches': {kind: 'positive', help: 'stop (with a checkpoint) after N batches of this run'},
    'log-every': {kind: 'positive', help: 'log a step record every N batches (default 50)'},
    'clean-train-eval': {kind: 'count', help: 'training images evaluated clean and unsmoothed each epoch (default 2000, 0 = off)'},
  },
  epilog: 'Changing --lr, --batch-size, --seed or --limit-train on --resume is refused: the run would no longer be the one\n' +
    'its checkpoint continues exactly. Start a new run (another --run-dir) instead.',
} as const satisfies CliSpec;

interface Position { epoch: number; batch: number; step: number; lossSum?: number; correct?: number; seen?: number; epochSeconds?: number }

function log(line: string) {
  process.stderr.write(line + '\n');
}

async function main() {
  const parsed = parseCli(TRAIN_CLI);
  if (!parsed) return;
  const args = parsed.values;
  const configName = args.config ?? 'cifar-small';
  const over: Partial<TrainRecipe> = {};
  if (args.epochs !== undefined) over.epochs = args.epochs;
  if (args['batch-size'] !== undefined) over.batchSize = args['batch-size'];
  if (args['micro-batch'] !== undefined) over.microBatch = args['micro-batch'];
  if (args.workers !== undefined) over.workers = args.workers;
  if (args.seed !== undefined) over.seed = args.seed;
  if (args.lr !== undefined) over.lr = args.lr;
  let recipe = getRecipe(configName, over);
  const cleanCount = args['clean-train-eval'] ?? 2000;
  const runDir = path.resolve(args['run-dir'] ?? path.join('runs', configName));
  const ckptPath = path.join(runDir, 'last.safetensors');
  const metricsPath = path.join(runDir, 'metrics.jsonl');

  // a kill during a checkpoint write leaves last.safetensors.tmp-<pid>: remove those of processes that are gone
  for (const f of cleanStaleTemps(ckptPath)) log(`[train] removed ${f}, left by an interrupted checkpoint write`);

  // --resume: read and check the checkpoint (header first: recipe, shapes, optimizer state) before loading data
  const resuming = Boolean(args.resume) && fs.existsSync(ckptPath);
  let ck: Awaited<ReturnType<typeof loadCheckpoint>> | undefined;
  let limitTrain = args['limit-train'];
  let saved: TrainRecipe | undefined;
  if (resuming) {
    ck = await loadCheckpoint(ckptPath, {check: (h) => { saved = recipeOfCheckpoint(h, {optimizer: true}); }});
    if (JSON.stringify(saved!.model) !== JSON.stringify(recipe.model)) {
      throw new Error(`--resume: ${ckptPath} was trained with another architecture (${JSON.stringify(saved!.model)}) than config "${configName}" (${JSON.stringify(recipe.model)})`);
    }
    const savedLimit = (ck.meta.limitTrain as number | null | undefined) ?? undefined;
    const fixed: [string, unknown, unknown][] = [['--lr', args.lr, saved!.lr], ['--batch-size', args['batch-size'], saved!.batchSize],
      ['--seed', args.seed, saved!.seed], ['--limit-train', args['limit-train'], 'limitTrain' in ck.meta ? savedLimit ?? 'all images' : undefined]];
    const changed = fixed.filter(([, given, was]) => given !== undefined && was !== undefined && given !== was);
    if (changed.length > 0) {
      throw new UsageError(`--resume continues ${ckptPath} exactly as it was started; ${changed.map(([o, g, w]) => `${o} ${g} differs from its ${w}`).join(', ')}. ` +
        'Leave these options out to resume, or start a new run with another --run-dir.');
    }
    if ('limitTrain' in ck.meta) limitTrain = savedLimit;
  }

  useOneThreadPerWorker(recipe.workers);
  const info = await initBackend();
  log(`[train] ${describeBackend(info)}${recipe.workers === 2 ? '; data-parallel: 2 processes (this one and a gradient worker)' : ''}`);
  const data = await loadCifar10({dir: args['data-dir'], cacheDir: args['cache-dir'],
    onProgress: downloadProgress('[data] downloading')});
  let train: ImageSet = data.train, test: ImageSet = data.test;
  if (limitTrain !== undefined) train = headOf(train, limitTrain);
  if (args['limit-test'] !== undefined) test = headOf(test, args['limit-test']);
  log(`[train] data: ${data.source}; train ${train.count}${limitTrain !== undefined ? ` (--limit-train ${limitTrain})` : ''}, test ${test.count}`);

  fs.mkdirSync(runDir, {recursive: true});
  let pos: Position = {epoch: 0, batch: 0, step: 0};
  let t: Trainer;
  let elapsedBefore = 0;
  if (resuming && ck && saved) {
    if (typeof ck.meta.trainCount === 'number' && ck.meta.trainCount !== train.count) {
      throw new Error(`--resume: ${ckptPath} was trained on ${ck.meta.trainCount} images, but the data now gives ${train.count}` +
        `${limitTrain !== undefined ? ` (--limit-train ${limitTrain})` : ''}: not the same training set (another --data-dir?)`);
    }
    // the number of epochs may be extended; the micro-batch size may change (same maths, other memory);
    // the evaluation settings (tta, epochTestCount) are the config's: they change what is measured, never the training
    const evalNow = {tta: recipe.tta, epochTestCount: recipe.epochTestCount};
    if (evalNow.tta !== saved.tta || evalNow.epochTestCount !== saved.epochTestCount) {
      log(`[train] evaluation settings of config ${configName} from now on: tta ${evalNow.tta ?? 'none'}, per-epoch test images ` +
        `${evalNow.epochTestCount ?? 'all'} (the checkpoint had tta ${saved.tta ?? 'none'}, ${saved.epochTestCount ?? 'all'})`);
    }
    recipe = validateRecipe({...saved, epochs: over.epochs ?? saved.epochs, microBatch: over.microBatch ?? saved.microBatch,
      workers: recipe.workers, ...evalNow}, '--resume'); // execution settings: the config's and the command line's
    t = createTrainer(recipe, train.count);
    assignParams(t.params, ck.params);
    t.optimizer.setState(ck.optimizer!);
    if (t.ema) assignParams(t.ema, ck.ema ?? {}); // recipeOfCheckpoint checked that an EMA recipe's checkpoint holds them
    pos = ck.meta.position as Position;
    elapsedBefore = (ck.meta.elapsedSeconds as number) ?? 0;
    // records written after this checkpoint (a kill between the log append and the checkpoint) are dropped: they will be written again
    const dropped = trimMetricsLog(metricsPath, pos, t.stepsPerEpoch);
    if (dropped > 0) log(`[train] dropped ${dropped} record${dropped === 1 ? '' : 's'} of ${metricsPath} written after the checkpoint`);
    log(`[train] resumed from ${ckptPath} at epoch ${pos.epoch + 1}, batch ${pos.batch}, step ${pos.step}`);
  } else {
    if (args.resume) log(`[train] --resume: no checkpoint at ${ckptPath}; starting from scratch`);
    else if (fs.existsSync(ckptPath)) throw new Error(`${ckptPath} exists: pass --resume to continue it, or choose another --run-dir`);
    t = createTrainer(recipe, train.count);
    writeOrExplain(path.join(runDir, 'config.json'), JSON.stringify(recipe, null, 1) + '\n');
    // a log without a checkpoint belongs to a run that never saved one: start it afresh
    if (fs.existsSync(metricsPath)) trimMetricsLog(metricsPath, {epoch: 0, batch: 0, step: 0}, t.stepsPerEpoch);
  }
  if (recipe.workers === 2) await startDataParallel(t);
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
  let saves = 0;
  const save = async () => {
    await saveCheckpoint(ckptPath, t.params, {optimizer: t.optimizer, ema: t.ema, meta: {recipe, position: pos, elapsedSeconds: elapsedBefore + (Date.now() - t0) / 1000,
      dataSource: data.label, limitTrain: limitTrain ?? null, trainCount: train.count}});
    saves++;
  };
  const appendMetrics = (rec: Record<string, unknown>) => appendLine(metricsPath, JSON.stringify(rec));
  const lastGood = () => resuming || saves > 0 ? `the last good checkpoint is ${ckptPath}` : 'no checkpoint was saved yet (the first one is written at the end of epoch 1)';
  const stopAfter = args['stop-after-batches'];
  const logEvery = args['log-every'] ?? 50;
  let batchesThisRun = 0;
  const t0 = Date.now();

  for (; pos.epoch < recipe.epochs; pos.epoch++, pos.batch = 0) {
    const order = orderOfEpoch(recipe, train.count, pos.epoch);
    // running sums of a partly done epoch come back from the checkpoint, so its record is exact
    let lossSum = pos.lossSum ?? 0, correct = pos.correct ?? 0, seen = pos.seen ?? 0;
    const tEpoch = Date.now() - 1000 * (pos.epochSeconds ?? 0);
    pos.lossSum = pos.correct = pos.seen = pos.epochSeconds = undefined;
    const bar = new Progress({total: t.stepsPerEpoch, label: `[epoch ${pos.epoch + 1}/${recipe.epochs}]`, unit: 'batches'}).startAt(pos.batch);
    for (; pos.batch < t.stepsPerEpoch; pos.batch++) {
      const r = await trainStep(t, makeBatch(recipe, train, order, pos.epoch, pos.batch), pos.step);
      await new Promise((res) => setImmediate(res)); // let the event loop deliver Ctrl-C (tfjs awaits are microtasks only)
      pos.step++;
      lossSum += r.loss * recipe.batchSize; correct += r.correct; seen += recipe.batchSize;
      batchesThisRun++;
      const ips = seen / ((Date.now() - tEpoch) / 1000);
      bar.update(pos.batch + 1, {loss: lossSum / seen, acc: `${(100 * correct / seen).toFixed(1)}%`, 'img/s': ips.toFixed(1)});
      if (pos.batch % logEvery === logEvery - 1) appendMetrics({type: 'step', epoch: pos.epoch + 1, step: pos.step, lr: r.lr, loss: r.loss, gradNorm: r.gradNorm, imgPerSec: ips});
      if (!Number.isFinite(r.loss)) throw new Error(`training diverged at step ${pos.step} (loss ${r.loss}); ${lastGood()}. Try a lower --lr in a new --run-dir`);
      if (interrupted || (stopAfter !== undefined && batchesThisRun >= stopAfter)) {
        bar.finish();
        pos.batch++;
        Object.assign(pos, {lossSum, correct, seen, epochSeconds: (Date.now() - tEpoch) / 1000});
        await save();
        log(`\n[train] stopped at epoch ${pos.epoch + 1}, batch ${pos.batch}; checkpoint saved to ${ckptPath}; continue with --resume`);
        return;
      }
    }
    const trainSec = (Date.now() - tEpoch) / 1000;
    bar.finish();
    const rec: Record<string, unknown> = {type: 'epoch', epoch: pos.epoch + 1, step: pos.step, lr: learningRate(t, pos.step - 1),
      trainLoss: lossSum / seen, trainAcc: correct / seen, trainSeconds: trainSec, imgPerSec: seen / trainSec, data: data.label,
      workers: recipe.workers ?? 1}; // how this epoch was computed (a resumed run may change it)
    if (!args['no-eval']) {
      const te = Date.now();
      // the recipe's cheaper per-epoch curve (epochTestCount) covers every epoch but the last
      const last = pos.epoch + 1 === recipe.epochs;
      const evalSet = !last && recipe.epochTestCount !== undefined && recipe.epochTestCount < test.count ? headOf(test, recipe.epochTestCount) : test;
      const ev = await evaluate(evalParams(t), recipe, evalSet, 250, undefined, t.worker); // EMA weights if kept; half in the worker if any
      if (!Number.isFinite(ev.loss)) {
        throw new Error(`training diverged: the test loss after epoch ${pos.epoch + 1} is ${ev.loss} (train loss ${(lossSum / seen).toFixed(4)}); ` +
          `this epoch is not saved; ${lastGood()}. Try a lower --lr in a new --run-dir`);
      }
      rec.testLoss = ev.loss; rec.testAcc = ev.accuracy; rec.testCount = evalSet.count; rec.evalSeconds = (Date.now() - te) / 1000;
      if (ev.single) Object.assign(rec, {tta: recipe.tta, testAccSingle: ev.single.accuracy, testLossSingle: ev.single.loss});
      if (data.exactTestCount && evalSet.count >= data.exactTestCount) rec.testAccExact = accuracyOfFirst(ev.predictions, evalSet.labels, data.exactTestCount);
    }
    if (!args['no-eval'] && cleanCount > 0) Object.assign(rec, await cleanTrainMetrics(evalParams(t), recipe, train, cleanCount, t.worker));
    rec.elapsedSeconds = elapsedBefore + (Date.now() - t0) / 1000;
    rec.loadAverage = os.loadavg().map((x) => Math.round(100 * x) / 100); // 1, 5, 15 min: how busy the machine was
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
    const dir = path.resolve(args.export);
    fs.mkdirSync(dir, {recursive: true});
    await saveCheckpoint(path.join(dir, 'model.safetensors'), evalParams(t), {meta: {recipe, dataSource: data.label, ...(t.ema ? {weights: 'ema'} : {})}});
    writeOrExplain(path.join(dir, 'config.json'), JSON.stringify(recipe, null, 1) + '\n');
    fs.copyFileSync(metricsPath, path.join(dir, 'metrics.jsonl'));
    log(`[train] exported the model to ${dir}`);
  }
}

/** writeFileSync whose error names the file (ENOSPC alone does not). */
function writeOrExplain(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text);
  } catch (e) {
    throw new Error(`cannot write ${file}: ${(e as Error).message}`);
  }
}

runCli('train', main);
