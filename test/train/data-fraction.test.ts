/**
 * The data-fraction study (issue #15): class-balanced nested subsets, epochs at an equal number of
 * images seen, mean ± sd by hand; and `npm run data-fraction` end to end on a tiny CIFAR folder
 * (a smoke run: both models, 2 fractions, 1 seed; the results file records the command), and two
 * processes sharing one results file (--models cnn beside --models vit): both keep their runs.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {isAbsolute, join, relative, resolve} from 'node:path';
import {describe, expect, it} from 'vitest';
import {cnnConfig, initCnn} from '../../lib/cnn/resnet';
import {countParams, disposeParams} from '../../lib/core/params';
import {mergeRunsBy} from '../../lib/io/results-file';
import {balancedSubset, epochsForBudget, runKey, summarize} from '../../lib/train/data-fraction';
import {writeTinyFolder} from '../data/cifar-fixture';
import {runScript} from '../helpers';

const ROOT = resolve(__dirname, '../..');

describe('data-fraction helpers', () => {
  const labels = Array.from({length: 1000}, (_, i) => i % 10);
  it('balanced subsets: 10 % of 100 per class = 10 per class, nested across fractions for one seed, other seeds differ', () => {
    const s10 = balancedSubset(labels, 0.1, 0), s50 = balancedSubset(labels, 0.5, 0), all = balancedSubset(labels, 1, 0);
    expect(s10.length).toBe(100);
    const perClass = new Array(10).fill(0);
    for (const i of s10) perClass[labels[i]!]++;
    expect(perClass).toEqual(new Array(10).fill(10));
    const in50 = new Set(s50);
    expect([...s10].every((i) => in50.has(i))).toBe(true);
    expect(Array.from(all)).toEqual(labels.map((_, i) => i));
    expect(Array.from(balancedSubset(labels, 0.1, 1))).not.toEqual(Array.from(s10));
    expect(() => balancedSubset(labels, 0, 0)).toThrow(/fraction must be in \(0, 1\] \(got 0\)/);
    expect(() => balancedSubset([11], 0.5, 0)).toThrow(/label 11 at 0 is not a class 0..9/);
  });
  it('equal images seen: 750k images are 15 epochs of 50k and 150 epochs of 5k; warm-up 5 %', () => {
    expect(epochsForBudget(750_000, 50_000)).toEqual({epochs: 15, warmupEpochs: 1});
    expect(epochsForBudget(750_000, 5_000)).toEqual({epochs: 150, warmupEpochs: 8});
    expect(epochsForBudget(10, 5_000)).toEqual({epochs: 1, warmupEpochs: 0});
  });
  it('summary: mean and sample sd per (model, fraction), by hand', () => {
    const s = summarize([{model: 'cnn', fraction: 0.1, seed: 0, testAcc: 0.5}, {model: 'cnn', fraction: 0.1, seed: 1, testAcc: 0.7},
      {model: 'vit', fraction: 0.1, seed: 0, testAcc: 0.4}]);
    expect(s[0]).toMatchObject({model: 'cnn', fraction: 0.1, seeds: 2});
    expect(s[0]!.mean).toBeCloseTo(0.6, 12);
    expect(s[0]!.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(s[1]).toMatchObject({model: 'vit', seeds: 1, mean: 0.4, sd: 0});
  });
});

describe('two processes, one results file', () => {
  it('merging by runKey keeps the runs on disk in their order and adds only this process\'s new (model, fraction, seed)', () => {
    const a = {model: 'cnn', fraction: 1, seed: 0, testAcc: 0.5}, b = {model: 'vit', fraction: 1, seed: 0, testAcc: 0.4};
    const c = {model: 'cnn', fraction: 0.5, seed: 0, testAcc: 0.3}, aAgain = {...a, testAcc: 0.9};
    expect(mergeRunsBy(runKey, [a, b], [aAgain, c])).toEqual([a, b, c]);   // the run on disk wins; nothing is lost or doubled
    expect(mergeRunsBy(runKey, [], [c, a])).toEqual([c, a]);
    expect(mergeRunsBy(runKey, [b], [])).toEqual([b]);
  });
  it('npm run data-fraction --models cnn and --models vit at once, into one file: all runs, both commands', async () => {
    const data = writeTinyFolder(mkdtempSync(join(tmpdir(), 'cifar-df2-')), 20);
    const out = join(mkdtempSync(join(tmpdir(), 'df2-')), 'results.json');
    const common = ['--data-dir', data, '--fractions', '0.5,1', '--seeds', '0', '--images-seen', '48', '--batch-size', '16', '--out', out,
      '--state-dir', mkdtempSync(join(tmpdir(), 'df2-state-'))];
    const run = (model: string) => runScript('scripts/data-fraction.ts', ['--models', model, ...common],
      {COURSE_BACKEND: 'wasm', COURSE_THREADS: '1'});
    const [cnn, vit] = await Promise.all([run('cnn'), run('vit')]);
    expect(cnn.code, cnn.log).toBe(0);
    expect(vit.code, vit.log).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    expect(res.runs.map((r: {model: string; fraction: number}) => `${r.model} ${r.fraction}`).sort())
      .toEqual(['cnn 0.5', 'cnn 1', 'vit 0.5', 'vit 1']);
    expect(res.summary).toHaveLength(4);
    for (const m of ['cnn', 'vit']) {
      expect(res.command).toContain(`npm run data-fraction -- --models ${m} ${common.map((x) => (isAbsolute(x) ? relative(ROOT, x) : x)).join(' ')}`);
      for (const r of res.runs.filter((x: {model: string}) => x.model === m)) expect(r.command).toContain(`--models ${m}`);
    }
    expect(existsSync(out + '.lock')).toBe(false);
  }, 600_000);
});

describe('npm run data-fraction (smoke run on a tiny folder)', () => {
  it('trains both models on 2 fractions and writes the results file with the command (wasm backend)', () => {
    const data = writeTinyFolder(mkdtempSync(join(tmpdir(), 'cifar-df-')), 20); // 100 train, 20 test images
    const out = join(mkdtempSync(join(tmpdir(), 'df-')), 'results.json');
    const states = mkdtempSync(join(tmpdir(), 'df-state-'));
    const args = ['--data-dir', data, '--fractions', '0.5,1', '--seeds', '0', '--images-seen', '48', '--batch-size', '16', '--out', out, '--state-dir', states];
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/data-fraction.ts'), ...args],
      {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'wasm'}, timeout: 500_000});
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    expect(res.command).toBe(`npm run data-fraction -- ${args.map((x) => (isAbsolute(x) ? relative(ROOT, x) : x)).join(' ')}`);
    expect(readdirSync(states)).toEqual([]);                   // each run's state is removed once it is recorded
    expect(res.runs).toHaveLength(4);
    for (const run of res.runs) {
      expect(run.testImages).toBe(20);
      expect(run.testAcc).toBeGreaterThanOrEqual(0);
      expect(run.testAcc).toBeLessThanOrEqual(1);
      expect(run.trainImages).toBe(run.fraction === 1 ? 100 : 50);
      expect(run.epochs).toBe(1);                       // round(48 / 50) = round(48 / 100) → at least 1 epoch
      expect(run.imagesSeen).toBe(run.fraction === 1 ? 96 : 48); // whole batches of 16: 6 of 100 images, 3 of 50
    }
    expect(res.summary.map((s: {model: string; fraction: number; seeds: number}) => [s.model, s.fraction, s.seeds]))
      .toEqual([['cnn', 0.5, 1], ['vit', 0.5, 1], ['cnn', 1, 1], ['vit', 1, 1]]);
    // the CNN is the ResNet-8 of widths 16, 32, 64 by default, and the file says so
    expect(res.cnn.widths).toEqual([16, 32, 64]);
    const resnet8 = initCnn(cnnConfig({widths: [16, 32, 64]}), 0);
    expect(res.runs.find((x: {model: string}) => x.model === 'cnn').params).toBe(countParams(resnet8));
    disposeParams(resnet8);
    // another CNN into the same file is refused before any training, naming both
    const other = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/data-fraction.ts'), ...args, '--cnn-widths', '8,16'],
      {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'wasm'}, timeout: 120_000});
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/results\.json holds runs of a CNN with widths 16,32,64, not 8,16: pass --cnn-widths 16,32,64/);
    // so is another budget, batch size or test limit: the file records them
    expect(res).toMatchObject({imagesSeen: 48, batchSize: 16, limitTest: null});
    for (const [flag, value, says] of [['--images-seen', '96', '--images-seen 48, not 96'], ['--batch-size', '8', '--batch-size 16, not 8'],
      ['--limit-test', '10', '--limit-test none, not 10']]) {
      const changed = [...args.filter((a, i) => a !== flag && args[i - 1] !== flag), flag, value!];
      const r2 = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/data-fraction.ts'), ...changed],
        {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'wasm'}, timeout: 120_000});
      expect(r2.status, r2.stderr).toBe(2);
      expect(r2.stderr).toContain(`results.json holds runs of ${says}`);
    }
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(res);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/data-fraction.ts'), '--fractions', '0,2'], {cwd: ROOT, encoding: 'utf8'});
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--fractions: 0 is not a fraction in \(0, 1\]/);
  }, 600_000);
});
