/**
 * npm run data-fraction -- [--fractions 0.1,0.25,0.5,1] [--seeds 0,1] [--models cnn,vit] [--cnn-widths 16,32,64]
 *                          [--cnn-norm batch|layer]
 *                          [--images-seen N] [--out FILE] [--data-dir DIR] [--limit-test N] [--batch-size N]
 *
 * Issue #15, "why a ViT needs data": trains the ResNet-style CNN (lib/cnn/resnet.ts) and the course
 * ViT (recipe cifar-small's model) on class-balanced fractions of CIFAR-10 with the same number of
 * training images seen (smaller fractions get more epochs) and the same recipe (crop + flip, label
 * smoothing 0.1, AdamW 1e-3 wd 0.05, warm-up 5 % + cosine), evaluates on the test set (all 10,000
 * unless --limit-test) and writes every run, the mean ± sd per (model, fraction) and the command that
 * produced it to a results file (default models/data-fraction/results.json), after every run (a
 * rerun skips the (model, fraction, seed) runs the file already has). Two processes may share the
 * file — e.g. `--models cnn` and `--models vit` side by side, one core each (COURSE_THREADS=1): each
 * write happens under a lock file and merges the runs on disk with its own (lib/io/results-file.ts).
 * The CNN's widths default to 16, 32, 64 (a ResNet-8 of 78 k parameters, ~2x the speed of
 * lib/cnn/resnet.ts's default 32, 64, 128 on one core: 234 vs 106 img/s measured 2026-12-02 beside a
 * training run) and its normalisation to BatchNorm, whose evaluation moments are measured after
 * training on the run's un-augmented training images (up to 5,000: estimateBnMoments); the file
 * records widths and norm, the budget (--images-seen), --batch-size and --limit-test, and
 * a file written with other settings is refused by name. The run in progress saves its state after
 * every epoch (--state-dir, default runs/data-fraction/, git-ignored) and the same command resumes it
 * there, exactly (lib/train/run-state.ts): stopping loses at most one epoch.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {describeBackend, initBackend} from '../lib/backend';
import {cnnConfig, cnnForward, CnnConfig, disposeMoments, estimateBnMoments, initCnn} from '../lib/cnn/resnet';
import {countParams, disposeParams} from '../lib/core/params';
import {headOf, ImageSet, loadCifar10} from '../lib/data/cifar';
import {toNormalizedTensor} from '../lib/data/normalize';
import {FusedAdamW} from '../lib/optim/fused-adamw';
import {numBatches} from '../lib/data/batches';
import {mergeRunsBy, portableCommand, readResultsFile, ResultsFileError, updateResultsFile} from '../lib/io/results-file';
import {balancedSubset, DATA_FRACTION_CNN_WIDTHS, epochsForBudget, FractionRun, runKey, summarize} from '../lib/train/data-fraction';
import {getRecipe, TrainRecipe} from '../lib/train/recipes';
import {removeRunState, trainEpochs} from '../lib/train/run-state';
import {accuracyOfFirst, createTrainer, disposeTrainer, evaluate, Forward, normalization, Trainer} from '../lib/train/vit-trainer';
import {CliSpec, parseCli, parseList, runCli, UsageError} from './cli-args';

export const DATA_FRACTION_CLI = {
  command: 'npm run data-fraction --',
  summary: 'CNN vs ViT on fractions of CIFAR-10 at an equal number of training images seen (issue #15); writes a results file.',
  options: {
    'fractions': {kind: 'string', arg: 'LIST', help: 'comma-separated fractions of the training set in (0, 1] (default 0.1,0.25,0.5,1)'},
    'seeds': {kind: 'string', arg: 'LIST', help: 'comma-separated integer seeds (default 0,1)'},
    'models': {kind: 'string', arg: 'LIST', help: 'cnn and/or vit (default cnn,vit)'},
    'cnn-widths': {kind: 'string', arg: 'LIST', help: 'channels of the CNN\'s stages (default 16,32,64; fixed for a results file)'},
    'cnn-norm': {kind: 'string', arg: 'NORM', help: 'the CNN\'s normalisation: batch (default) or layer (fixed for a results file)'},
    'images-seen': {kind: 'positive', help: 'training images seen per run (default 600000 = 12 epochs of 50k)'},
    'batch-size': {kind: 'positive', help: 'batch size (default 128)'},
    'out': {kind: 'string', arg: 'FILE', help: 'results file (default models/data-fraction/results.json)'},
    'data-dir': {kind: 'string', arg: 'DIR', help: 'CIFAR-10 folder (default: CIFAR10_DIR, the cache, the shared copy)'},
    'limit-test': {kind: 'positive', help: 'evaluate on the first N test images only (smoke runs; the results say so)'},
    'state-dir': {kind: 'string', arg: 'DIR', help: 'where the run in progress saves its state after every epoch, to be resumed by the same command (default runs/data-fraction)'},
  },
} as const satisfies CliSpec;

type Run = FractionRun & Record<string, unknown>;
/** The CNN of a results file; files written before the norm was an option used LayerNorm. */
type FileCnn = {widths: number[]; norm?: CnnConfig['norm']};

/** The results file, or none; a file that is not one is refused with its name (exit 2). */
const readFile = (out: string) => {
  try { return readResultsFile<Run>(out) as (ReturnType<typeof readResultsFile<Run>> & {cnn?: FileCnn}) | undefined; } catch (e) {
    throw e instanceof ResultsFileError ? new UsageError(e.message) : e;
  }
};
const readRuns = (out: string): Run[] => readFile(out)?.runs ?? [];

function subsetOf(set: ImageSet, idx: Int32Array): ImageSet {
  const images = new Uint8Array(idx.length * 3072), labels = new Uint8Array(idx.length);
  idx.forEach((j, i) => { images.set(set.images.subarray(j * 3072, (j + 1) * 3072), i * 3072); labels[i] = set.labels[j]!; });
  return {images, labels, count: idx.length};
}

async function main() {
  const parsed = parseCli(DATA_FRACTION_CLI);
  if (!parsed) return;
  const args = parsed.values;
  const fractions = parseList(args.fractions, [0.1, 0.25, 0.5, 1], (x) => {
    const f = Number(x);
    if (!(f > 0 && f <= 1)) throw new UsageError(`--fractions: ${x} is not a fraction in (0, 1]`);
    return f;
  }, 'fractions');
  const seeds = parseList(args.seeds, [0, 1], (x) => {
    if (!/^\d+$/.test(x)) throw new UsageError(`--seeds: ${x} is not a non-negative integer`);
    return Number(x);
  }, 'seeds');
  const models = parseList(args.models, ['cnn', 'vit'], (x) => {
    if (x !== 'cnn' && x !== 'vit') throw new UsageError(`--models: unknown model "${x}" (cnn or vit)`);
    return x;
  }, 'models');
  const widths = parseList(args['cnn-widths'], [...DATA_FRACTION_CNN_WIDTHS], (x) => {
    if (!/^[1-9]\d*$/.test(x)) throw new UsageError(`--cnn-widths: ${x} is not a positive integer`);
    return Number(x);
  }, 'cnn-widths');
  const stateDir = path.resolve(args['state-dir'] ?? path.join('runs', 'data-fraction'));
  const imagesSeen = args['images-seen'] ?? 600_000, batchSize = args['batch-size'] ?? 128;
  const out = path.resolve(args.out ?? 'models/data-fraction/results.json');
  const command = portableCommand('npm run data-fraction --', process.argv.slice(2));

  const norm = args['cnn-norm'] ?? 'batch';
  if (norm !== 'batch' && norm !== 'layer') throw new UsageError(`--cnn-norm: ${norm} is not batch or layer`);
  const cnnCfg = cnnConfig({widths, norm});
  const limitTest = args['limit-test'] ?? null;
  const rel = path.relative(process.cwd(), out) || out;
  // a file of other settings is refused by name, before the data is loaded and whenever this process
  // writes (another process may have created the file meanwhile): its runs would not compare with these
  const checkSettings = (f: Record<string, unknown> & {cnn?: FileCnn}) => {
    if (f.cnn && JSON.stringify(f.cnn.widths) !== JSON.stringify(widths)) {
      throw new UsageError(`${rel} holds runs of a CNN with widths ${f.cnn.widths.join(',')}, ` +
        `not ${widths.join(',')}: pass --cnn-widths ${f.cnn.widths.join(',')} or choose another --out`);
    }
    if (f.cnn && (f.cnn.norm ?? 'layer') !== norm) {
      throw new UsageError(`${rel} holds runs of a CNN with --cnn-norm ${f.cnn.norm ?? 'layer'}, not ${norm}: ` +
        `pass --cnn-norm ${f.cnn.norm ?? 'layer'} or choose another --out`);
    }
    const theirs = {'images-seen': f.imagesSeen, 'batch-size': f.batchSize, 'limit-test': f.limitTest};
    const ours = {'images-seen': imagesSeen, 'batch-size': batchSize, 'limit-test': limitTest};
    for (const [k, v] of Object.entries(theirs)) {
      if (v !== undefined && v !== ours[k as keyof typeof ours]) {
        throw new UsageError(`${rel} holds runs of --${k} ${v ?? 'none'}, not ${ours[k as keyof typeof ours] ?? 'none'}: ` +
          `pass --${k} ${v ?? '(none)'} or choose another --out (runs of other settings would not compare)`);
      }
    }
  };
  const onDisk = readFile(out);
  if (onDisk) checkSettings(onDisk);
  const info = await initBackend();
  const data = await loadCifar10({dir: args['data-dir'], download: false});
  const test = limitTest !== null ? headOf(data.test, limitTest) : data.test;
  process.stderr.write(`[data-fraction] ${describeBackend(info)}; ${models.join(', ')} x fractions ${fractions.join(', ')} x seeds ${seeds.join(', ')}; ` +
    `${imagesSeen.toLocaleString('en-US')} images seen per run; test ${test.count} images (${data.label})\n`);
  let runs = readRuns(out);
  for (const seed of seeds) {
    for (const fraction of fractions) {
      const train = subsetOf(data.train, balancedSubset(data.train.labels, fraction, seed));
      const {epochs, warmupEpochs} = epochsForBudget(imagesSeen, train.count);
      for (const model of models) {
        runs = mergeRunsBy(runKey, readRuns(out), runs);   // another process may have trained it meanwhile
        if (runs.some((r) => runKey(r) === runKey({model, fraction, seed}))) continue;
        const recipe: TrainRecipe = getRecipe('cifar-small', {epochs, warmupEpochs, batchSize, seed});
        let t: Trainer;
        if (model === 'vit') {
          t = createTrainer(recipe, train.count);
        } else {
          const params = initCnn(cnnCfg, seed), stepsPerEpoch = numBatches(train.count, batchSize, true);
          if (stepsPerEpoch < 1) throw new UsageError(`fraction ${fraction} leaves ${train.count} images, fewer than one batch (${batchSize})`);
          t = {recipe, params, optimizer: new FusedAdamW(params, {lr: recipe.lr, weightDecay: recipe.weightDecay}), stepsPerEpoch,
            totalSteps: stepsPerEpoch * epochs, forward: (p, x, o) => cnnForward(p, cnnCfg, x, {training: o.training})};
        }
        // the run's state after each epoch; a state of another run at that path is refused by name
        const state = path.join(stateDir, `${model}-${fraction}-seed${seed}.safetensors`);
        const identity = {model, fraction, seed, imagesSeen, batchSize, trainImages: train.count, recipe, ...(model === 'cnn' ? {cnn: cnnCfg} : {})};
        const {step, loss, trainSeconds} = await trainEpochs(t, train, epochs, {state, identity, tag: `[data-fraction] ${model} ${fraction} seed ${seed}`});
        let evalForward: Forward | undefined = t.forward;
        let moments: ReturnType<typeof estimateBnMoments> | undefined;
        if (model === 'cnn' && cnnCfg.norm === 'batch') {
          // BatchNorm's evaluation moments: the trained network's, over up to 5,000 un-augmented training images
          const m = Math.min(train.count, 5000), {mean, std} = normalization(recipe);
          const x = toNormalizedTensor(train.images.subarray(0, m * 3072), m, mean, std);
          moments = estimateBnMoments(t.params, cnnCfg, x);
          x.dispose();
          evalForward = (p, im) => cnnForward(p, cnnCfg, im, {moments});
        }
        const ev = await evaluate(t.params, recipe, test, 250, evalForward);
        if (moments) disposeMoments(moments);
        const rec = {model, fraction, seed, testAcc: ev.accuracy, testLoss: ev.loss, testImages: test.count,
          testAccExact: data.exactTestCount && test.count >= data.exactTestCount ? accuracyOfFirst(ev.predictions, test.labels, data.exactTestCount) : null,
          trainImages: train.count, epochs, imagesSeen: step * batchSize, params: countParams(t.params), finalTrainLoss: loss,
          trainSeconds, imgPerSec: (step * batchSize) / trainSeconds, loadAverage: os.loadavg()[0], command};
        process.stderr.write(`[data-fraction] ${model} ${fraction} seed ${seed}: test accuracy ${(100 * ev.accuracy).toFixed(2)}% (${trainSeconds.toFixed(0)} s)\n`);
        if (model === 'vit') disposeTrainer(t); else { t.optimizer.dispose(); disposeParams(t.params); }
        // under a lock, merged with what another process (e.g. --models vit beside --models cnn) wrote meanwhile
        runs = await updateResultsFile<Run>(out, runKey, [...runs, rec], (all) => ({data: data.label, backend: describeBackend(info),
          date: new Date().toISOString().slice(0, 10),
          recipe: 'cifar-small (crop+flip, label smoothing 0.1, AdamW 1e-3 wd 0.05, warm-up 5 % + cosine) for both models', cnn: cnnCfg,
          vit: getRecipe('cifar-small').model, imagesSeen, batchSize, limitTest, summary: summarize(all)}), checkSettings);
        removeRunState(state);
      }
    }
  }
  console.log(`wrote ${path.relative(process.cwd(), out) || out}`);
}

runCli('data-fraction', main);
