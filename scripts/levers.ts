/**
 * npm run levers -- [--levers A,B,…] [--seeds 0,1,2] [--epochs 4] [--base cifar-small] [--out FILE]
 *                   [--data-dir DIR] [--limit-train N] [--limit-test N]
 *
 * Chapter 4's ablations: every lever of lib/train/ablation.ts alone on
 * top of the base recipe, trained on the whole training set for the same number of epochs, with
 * several seeds, evaluated on the whole test set (EMA weights when the lever keeps an EMA). Every run
 * is appended to the results file as soon as it ends, with its mean ± sd summary and the command; a
 * rerun skips the (lever, epochs, seed) runs the file already has, so a long ablation can be stopped
 * and continued. The run in progress saves its state after every epoch (--state-dir, default
 * runs/levers/, git-ignored) and the same command resumes it there, exactly (lib/train/run-state.ts):
 * stopping loses at most one epoch. The state file is removed once the run is in the results file.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {describeBackend, initBackend} from '../lib/backend';
import {countParams} from '../lib/core/params';
import {headOf, loadCifar10} from '../lib/data/cifar';
import {mergeRunsBy, portableCommand, readResultsFile, ResultsFileError, updateResultsFile} from '../lib/io/results-file';
import {ablationRecipe, AblationRun, LEVERS, leverByName, summarizeAblation} from '../lib/train/ablation';
import {getRecipe} from '../lib/train/recipes';
import {startDataParallel, useOneThreadPerWorker} from '../lib/train/data-parallel';
import {removeRunState, trainEpochs} from '../lib/train/run-state';
import {accuracyOfFirst, cleanTrainMetrics, createTrainer, disposeTrainer, evalParams, evaluate} from '../lib/train/vit-trainer';
import {CliSpec, parseCli, parseList, runCli, UsageError} from './cli-args';

export const LEVERS_CLI = {
  command: 'npm run levers --',
  summary: 'Recipe levers at an equal budget: each lever alone on the base recipe, several seeds, the full test set (Chapter 4); writes a results file.',
  options: {
    'levers': {kind: 'string', arg: 'LIST', help: `comma-separated levers (default all: ${LEVERS.map((l) => l.name).join(', ')})`},
    'seeds': {kind: 'string', arg: 'LIST', help: 'comma-separated integer seeds (default 0,1,2)'},
    'epochs': {kind: 'positive', help: 'budget: epochs of the whole training set per run (default 4, about 17 minutes of cifar-small at 200 img/s)'},
    'base': {kind: 'string', arg: 'RECIPE', help: 'the recipe the levers change (default cifar-small)'},
    'out': {kind: 'string', arg: 'FILE', help: 'results file (default models/ablations/levers.json)'},
    'data-dir': {kind: 'string', arg: 'DIR', help: 'CIFAR-10 folder (default: CIFAR10_DIR, the cache, the shared copy; never downloads)'},
    'limit-train': {kind: 'positive', help: 'train on the first N training images only (smoke runs; the results file says so)'},
    'limit-test': {kind: 'positive', help: 'evaluate on the first N test images only (smoke runs; the results file says so)'},
    'workers': {kind: 'positive', help: '1 or 2 processes per batch (default 1; 2 = data-parallel, 1 OpenBLAS thread each; recorded per run)'},
    'state-dir': {kind: 'string', arg: 'DIR', help: 'where the run in progress saves its state after every epoch, to be resumed by the same command (default runs/levers)'},
  },
  epilog: 'Example: npm run levers -- --levers baseline,ema --seeds 0,1,2 --epochs 4\n' +
    'Runs already in the results file are skipped; a file written with other --base/--limit-* settings is refused.',
} as const satisfies CliSpec;

const unique = <T>(v: T[]): T[] => [...new Set(v)];
/** training images (the first ones, clean) each run is also evaluated on, recorded from 2026-12-03 on */
const CLEAN_TRAIN_IMAGES = 2000;

type Run = AblationRun & Record<string, unknown>;

/** One (lever, budget, seed) is trained once. */
const leverKey = (r: {lever: string; epochs: number; seed: number}) => `${r.lever}/${r.epochs}/${r.seed}`;

async function main() {
  const parsed = parseCli(LEVERS_CLI);
  if (!parsed) return;
  const args = parsed.values;
  const levers = unique(parseList(args.levers, LEVERS.map((l) => l.name), (x) => {
    try { return leverByName(x).name; } catch (e) { throw new UsageError(`--levers: ${(e as Error).message}`); }
  }, 'levers'));
  const seeds = unique(parseList(args.seeds, [0, 1, 2], (x) => {
    if (!/^\d+$/.test(x)) throw new UsageError(`--seeds: ${x} is not a non-negative integer`);
    return Number(x);
  }, 'seeds'));
  const epochs = args.epochs ?? 4, base = args.base ?? 'cifar-small';
  try { getRecipe(base); } catch (e) { throw new UsageError(`--base: ${(e as Error).message}`); }
  const workers = args.workers ?? 1;
  try { getRecipe(base, {workers}); } catch (e) { throw new UsageError(`--workers: ${(e as Error).message}`); }
  const limitTrain = args['limit-train'] ?? null, limitTest = args['limit-test'] ?? null;
  const out = path.resolve(args.out ?? 'models/ablations/levers.json');
  const rel = path.relative(process.cwd(), out) || out;
  const command = portableCommand('npm run levers --', process.argv.slice(2));
  const stateDir = path.resolve(args['state-dir'] ?? path.join('runs', 'levers'));

  // a file of other settings is refused: its runs would not compare with these
  const checkSettings = (f: Record<string, unknown>) => {
    if (f.base !== base || f.limitTrain !== limitTrain || f.limitTest !== limitTest) {
      throw new UsageError(`${rel} holds runs of --base ${f.base}, --limit-train ${f.limitTrain ?? 'none'}, --limit-test ${f.limitTest ?? 'none'}; ` +
        'mixing them with other settings would compare unlike runs: choose another --out');
    }
  };
  /** The runs on disk (another process may add some while this one trains); a bad file is refused with its name. */
  const readRuns = (): Run[] => {
    let f;
    try { f = readResultsFile<Run>(out); } catch (e) {
      throw e instanceof ResultsFileError ? new UsageError(e.message) : e;
    }
    if (f) checkSettings(f);
    return f?.runs ?? [];
  };
  let runs = readRuns();

  useOneThreadPerWorker(workers);
  const info = await initBackend();
  const data = await loadCifar10({dir: args['data-dir'], download: false});
  const train = limitTrain !== null ? headOf(data.train, limitTrain) : data.train;
  const test = limitTest !== null ? headOf(data.test, limitTest) : data.test;
  const todo = seeds.flatMap((seed) => levers.map((lever) => ({lever, seed})))
    .filter(({lever, seed}) => !runs.some((r) => leverKey(r) === leverKey({lever, epochs, seed})));
  process.stderr.write(`[levers] ${describeBackend(info)}; base ${base}; ${levers.length} levers x seeds ${seeds.join(', ')} at ${epochs} epochs of ` +
    `${train.count} images; test ${test.count} images (${data.label}); ${todo.length} runs to do, ${runs.length} in ${rel}\n`);

  for (const {lever, seed} of todo) {
    runs = mergeRunsBy(leverKey, readRuns(), runs);   // a second process (other --levers or --seeds) may have written
    if (runs.some((r) => leverKey(r) === leverKey({lever, epochs, seed}))) continue;
    const recipe = {...ablationRecipe(lever, epochs, seed, base), ...(workers === 2 ? {workers} : {})};
    const t = createTrainer(recipe, train.count);
    // the run's state after each epoch; a state of another run at that path is refused by name
    const state = path.join(stateDir, `${base}-${lever}-${epochs}ep-seed${seed}.safetensors`);
    const identity = {base, lever, epochs, seed, trainImages: train.count, limitTrain, recipe: ablationRecipe(lever, epochs, seed, base)};
    const load0 = os.loadavg()[0];
    try {
      if (workers === 2) await startDataParallel(t);
      const {step, loss, trainSeconds} = await trainEpochs(t, train, epochs, {state, identity, tag: `[levers] ${lever} seed ${seed}`,
        afterStep: (l, s) => {
          if (!Number.isFinite(l)) throw new Error(`lever ${lever}, seed ${seed}: the loss became ${l} at step ${s}; the run is not recorded`);
        }});
      // one pass is the measure (testAcc); the mirror-image pass on the way gives flip TTA's effect, paired, for free
      const both = await evaluate(evalParams(t), {...recipe, tta: 'flip'}, test, 250, undefined, t.worker);
      const ev = {...both.single!};
      // the same measurement on training images the run has seen: how well it fits them (the gap to the
      // test accuracy is what a regulariser acts on)
      const clean = await cleanTrainMetrics(evalParams(t), recipe, train, CLEAN_TRAIN_IMAGES, t.worker);
      const exact = data.exactTestCount !== undefined && test.count >= data.exactTestCount;
      const rec = {lever, what: leverByName(lever).what, epochs, seed, testAcc: ev.accuracy, testLoss: ev.loss, testAccTta: both.accuracy, testImages: test.count, ...clean,
        testAccExact: exact ? accuracyOfFirst(ev.predictions, test.labels, data.exactTestCount!) : null,
        trainImages: train.count, imagesSeen: step * recipe.batchSize, params: countParams(t.params), finalTrainLoss: loss,
        trainSeconds, imgPerSec: (step * recipe.batchSize) / trainSeconds, loadAverage: [load0, os.loadavg()[0]], workers, command};
      process.stderr.write(`[levers] ${lever} seed ${seed}: test accuracy ${(100 * ev.accuracy).toFixed(2)} % (${trainSeconds.toFixed(0)} s)\n`);
      runs = [...runs, rec];
    } finally {
      disposeTrainer(t);
    }
    runs = await updateResultsFile<Run>(out, leverKey, runs, (all) => ({data: data.label, base, limitTrain, limitTest,
      backend: describeBackend(info), date: new Date().toISOString().slice(0, 10), summary: summarizeAblation(all)}), checkSettings);
    removeRunState(state);
  }
  for (const s of summarizeAblation(runs)) {
    console.log(`${s.lever.padEnd(18)} ${String(s.epochs).padStart(3)} epochs  ${(100 * s.mean).toFixed(2)} ± ${(100 * s.sd).toFixed(2)} %  (${s.seeds} seeds)`);
  }
  console.log(`wrote ${rel}`);
}

runCli('levers', main);
