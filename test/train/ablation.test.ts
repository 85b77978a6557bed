/**
 * Recipe levers (issue #17 item 4): each lever changes exactly one thing of the base recipe, the
 * budget's warm-up, the mean ± sd summary, the rank comparison between two budgets, and
 * `npm run levers` end to end on a tiny CIFAR-format folder (resume skips finished runs; clear errors).
 */
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {isAbsolute, join, relative, resolve} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {ablationRecipe, compareRanks, LEVERS, summarizeAblation} from '../../lib/train/ablation';
import {getRecipe, validateRecipe} from '../../lib/train/recipes';
import {saveRunState} from '../../lib/train/run-state';
import {createTrainer, disposeTrainer} from '../../lib/train/vit-trainer';
import {writeTinyFolder} from '../data/cifar-fixture';
import {runScript, setupBackend} from '../helpers';

describe('levers', () => {
  const base = getRecipe('cifar-small', {epochs: 4, warmupEpochs: 1, seed: 3});
  const diff = (name: string) => {
    const r = ablationRecipe(name, 4, 3);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys({...r, ...base}) as (keyof typeof r)[]) {
      if (k === 'model' || k === 'augment') continue;
      if (JSON.stringify(r[k]) !== JSON.stringify(base[k])) out[k] = r[k];
    }
    for (const k of Object.keys({...r.model, ...base.model}) as (keyof typeof r.model)[]) {
      if (JSON.stringify(r.model[k]) !== JSON.stringify(base.model[k])) out[`model.${k}`] = r.model[k];
    }
    for (const k of Object.keys({...r.augment, ...base.augment}) as (keyof typeof r.augment)[]) {
      if (JSON.stringify(r.augment[k]) !== JSON.stringify(base.augment[k])) out[`augment.${k}`] = r.augment[k];
    }
    return out;
  };
  it('each lever changes exactly what its name says, and nothing else', () => {
    expect(diff('baseline')).toEqual({});
    expect(diff('no-augmentation')).toEqual({'augment.crop': false, 'augment.flip': false});
    expect(diff('trivial-augment')).toEqual({'augment.trivialAugment': true});
    expect(diff('rand-augment')).toEqual({'augment.randAugment': {n: 2, m: 9}});
    expect(diff('mixup-cutmix')).toEqual({'augment.cutmix': 0.5, 'augment.mixup': 0.5});
    expect(diff('ema')).toEqual({ema: 0.999});
    expect(diff('stochastic-depth')).toEqual({'model.dropPath': 0.1});
    expect(diff('conv-tokenizer')).toEqual({'model.tokenizer': 'conv', 'model.convStages': 2, 'model.convChannels': 64, 'model.pool': 'seq'});
    expect(diff('spt-lsa')).toEqual({'model.tokenizer': 'shifted-patch', 'model.lsa': true});
    expect(LEVERS.map((l) => l.name)).toHaveLength(9);
  });
  it('every lever gives a valid recipe; the base recipe object is never modified', () => {
    const before = JSON.stringify(getRecipe('cifar-small'));
    for (const l of LEVERS) expect(() => validateRecipe(ablationRecipe(l, 4, 0), l.name), l.name).not.toThrow();
    expect(JSON.stringify(getRecipe('cifar-small'))).toBe(before);
  });
  it('the budget: whole epochs, warm-up 10 % (at least 1, fewer than all), the seed', () => {
    const w = (e: number) => ablationRecipe('baseline', e, 0).warmupEpochs;
    expect([w(1), w(2), w(4), w(15), w(60)]).toEqual([0, 1, 1, 2, 6]);
    expect(ablationRecipe('baseline', 15, 7)).toMatchObject({epochs: 15, seed: 7});
    expect(() => ablationRecipe('baseline', 2.5, 0)).toThrow(/epochs must be a positive integer \(got 2.5\)/);
    expect(() => ablationRecipe('nope', 4, 0)).toThrow(/unknown lever "nope" \(known: baseline, no-augmentation/);
  });
});

describe('summary and ranks', () => {
  const runs = [
    {lever: 'a', epochs: 4, seed: 0, testAcc: 0.5}, {lever: 'a', epochs: 4, seed: 1, testAcc: 0.6}, {lever: 'a', epochs: 4, seed: 2, testAcc: 0.7},
    {lever: 'b', epochs: 4, seed: 0, testAcc: 0.55},
    {lever: 'a', epochs: 15, seed: 0, testAcc: 0.8}, {lever: 'b', epochs: 15, seed: 0, testAcc: 0.7},
  ];
  it('mean and sample sd per (lever, epochs): 0.5, 0.6, 0.7 -> 0.6 ± 0.1; one seed -> sd 0', () => {
    const s = summarizeAblation(runs);
    expect(s.map((x) => [x.lever, x.epochs, x.seeds])).toEqual([['a', 4, 3], ['b', 4, 1], ['a', 15, 1], ['b', 15, 1]]);
    expect(s[0]!.mean).toBeCloseTo(0.6, 12);
    expect(s[0]!.sd).toBeCloseTo(0.1, 12);
    expect(s[1]!.sd).toBe(0);
  });
  it('Spearman: same order 1, reversed -1 (3 levers: 1 - 6·8/24)', () => {
    const s = summarizeAblation(runs);
    expect(compareRanks(s, 4, 15)).toMatchObject({short: ['a', 'b'], long: ['a', 'b'], spearman: 1, sameOrder: true});
    const three = summarizeAblation([
      {lever: 'x', epochs: 1, seed: 0, testAcc: 0.1}, {lever: 'y', epochs: 1, seed: 0, testAcc: 0.2}, {lever: 'z', epochs: 1, seed: 0, testAcc: 0.3},
      {lever: 'x', epochs: 2, seed: 0, testAcc: 0.3}, {lever: 'y', epochs: 2, seed: 0, testAcc: 0.2}, {lever: 'z', epochs: 2, seed: 0, testAcc: 0.1},
    ]);
    expect(compareRanks(three, 1, 2)).toMatchObject({short: ['z', 'y', 'x'], long: ['x', 'y', 'z'], spearman: -1, sameOrder: false});
    expect(() => compareRanks(s, 4, 60)).toThrow(/need at least 2 levers measured at both 4 and 60 epochs \(have 0\)/);
  });
});

describe('npm run levers', () => {
  const ROOT = resolve(__dirname, '../..');
  let data: string;
  beforeAll(() => { data = writeTinyFolder(mkdtempSync(join(tmpdir(), 'cifar-levers-')), 12); }); // 60 train, 12 test
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/levers.ts'), ...args],
      {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'cpu'}, timeout: 180_000});
    return {status: r.status, out: r.stdout + r.stderr};
  };
  it('trains each (lever, seed), writes runs + mean ± sd, and a rerun skips what the file has', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'levers-out-')), 'levers.json');
    const states = mkdtempSync(join(tmpdir(), 'levers-state-'));
    const common = ['--base', 'tiny', '--data-dir', data, '--epochs', '2', '--out', out, '--state-dir', states];
    const a = run([...common, '--levers', 'baseline,ema', '--seeds', '0,1']);
    expect(a.status, a.out).toBe(0);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.runs.map((r: {lever: string; seed: number}) => `${r.lever}/${r.seed}`)).toEqual(['baseline/0', 'ema/0', 'baseline/1', 'ema/1']);
    for (const r of file.runs) {
      expect(r).toMatchObject({epochs: 2, trainImages: 60, testImages: 12, imagesSeen: 64});
      expect(r.testAcc).toBeGreaterThanOrEqual(0);
      expect(r.testAcc).toBeLessThanOrEqual(1);
      // the flip-TTA accuracy of the same weights rides along (12 images: a multiple of 1/12)
      expect(Number.isInteger(Math.round(r.testAccTta * 12 * 1e6) / 1e6)).toBe(true);
      // and the fit on clean training images: all 60 here (fewer than 2,000), a multiple of 1/60
      expect(r.trainCleanCount).toBe(60);
      expect(Number.isInteger(Math.round(r.trainCleanAcc * 60 * 1e6) / 1e6)).toBe(true);
      expect(r.trainCleanLoss).toBeGreaterThan(0);
    }
    expect(file.summary).toHaveLength(2);
    expect(file.summary[0].seeds).toBe(2);
    expect(file).toMatchObject({base: 'tiny', limitTrain: null, limitTest: null});
    expect(JSON.stringify(file)).not.toContain(ROOT);
    for (const r of [file, ...file.runs]) expect(r.command.split(' ').filter((w: string) => isAbsolute(w))).toEqual([]); // relative paths only
    expect(readdirSync(states)).toEqual([]);                         // each run's state is removed once it is recorded
    const b = run([...common, '--levers', 'baseline,ema', '--seeds', '0,1']);
    expect(b.status, b.out).toBe(0);
    expect(b.out).toMatch(/0 runs to do, 4 in /);
    // data-parallel lever runs: the same numbers as gradient accumulation over two halves (here: a second file)
    const out2 = join(mkdtempSync(join(tmpdir(), 'levers-dp-')), 'levers.json');
    const d = run(['--base', 'tiny', '--data-dir', data, '--epochs', '2', '--out', out2, '--levers', 'baseline', '--seeds', '0', '--workers', '2']);
    expect(d.status, d.out).toBe(0);
    const dp = JSON.parse(readFileSync(out2, 'utf8')).runs[0];
    expect(dp).toMatchObject({lever: 'baseline', seed: 0, workers: 2, imagesSeen: 64});
    expect(file.runs[0].workers).toBe(1);
    expect(run([...common, '--workers', '3']).out).toMatch(/--workers: config tiny: workers must be 1 or 2 \(got 3\)/);
    const c = run([...common, '--levers', 'baseline', '--limit-test', '5']);
    expect(c.status).toBe(2);
    expect(c.out).toMatch(/holds runs of --base tiny, --limit-train none, --limit-test none; mixing them with other settings/);
  }, 300_000);
  it('two processes (--seeds 0 and --seeds 1) share one results file: every run, each with its command', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'levers-two-')), 'levers.json');
    const common = ['--base', 'tiny', '--data-dir', data, '--epochs', '1', '--out', out, '--levers', 'baseline,ema'];
    const start = (seed: string) => runScript('scripts/levers.ts', [...common, '--seeds', seed], {COURSE_BACKEND: 'cpu'});
    const [s0, s1] = await Promise.all([start('0'), start('1')]);
    expect(s0.code, s0.log).toBe(0);
    expect(s1.code, s1.log).toBe(0);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.runs.map((r: {lever: string; seed: number}) => `${r.lever}/${r.seed}`).sort()).toEqual(['baseline/0', 'baseline/1', 'ema/0', 'ema/1']);
    expect(file.summary.map((s: {lever: string; seeds: number}) => `${s.lever} ${s.seeds}`).sort()).toEqual(['baseline 2', 'ema 2']);
    for (const seed of ['0', '1']) {
      const shown = common.map((a) => (isAbsolute(a) ? relative(ROOT, a) : a)).join(' ');
      expect(file.command).toContain(`npm run levers -- ${shown} --seeds ${seed}`);
      for (const r of file.runs.filter((x: {seed: number}) => String(x.seed) === seed)) expect(r.command).toMatch(new RegExp(`--seeds ${seed}$`));
    }
    expect(existsSync(out + '.lock')).toBe(false);
  }, 300_000);
  it('a run stopped after an epoch resumes from its saved state; a state of another run is refused by name', async () => {
    await setupBackend();
    const out = join(mkdtempSync(join(tmpdir(), 'levers-resume-')), 'levers.json');
    const states = mkdtempSync(join(tmpdir(), 'levers-state-'));
    const common = ['--base', 'tiny', '--data-dir', data, '--epochs', '2', '--out', out, '--state-dir', states, '--levers', 'baseline', '--seeds', '0'];
    // the state the CLI saves after epoch 1 of 2 (tiny: 60 images, batches of 32 → 1 step per epoch)
    const recipe = ablationRecipe('baseline', 2, 0, 'tiny');
    const identity = {base: 'tiny', lever: 'baseline', epochs: 2, seed: 0, trainImages: 60, limitTrain: null, recipe};
    const file = join(states, 'tiny-baseline-2ep-seed0.safetensors');
    const t = createTrainer(recipe, 60);
    await saveRunState(file, t, {epochsDone: 1, step: 1, trainSeconds: 1000, loss: 2.5}, {...identity, seed: 7});
    const refused = run(common);
    expect(refused.status, refused.out).not.toBe(0);
    expect(refused.out).toMatch(/tiny-baseline-2ep-seed0\.safetensors holds another run \(seed: 7 there, 0 here\)/);
    expect(existsSync(out)).toBe(false);                            // nothing recorded
    await saveRunState(file, t, {epochsDone: 1, step: 1, trainSeconds: 1000, loss: 2.5}, identity);
    disposeTrainer(t);
    const r = run(common);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/baseline seed 0: resumed from .*tiny-baseline-2ep-seed0\.safetensors after epoch 1 \(1000 s of training\)/);
    expect(r.out).toMatch(/epoch 2\/2/);
    expect(r.out).not.toMatch(/epoch 1\/2/);                        // epoch 1 is not trained again
    const rec = JSON.parse(readFileSync(out, 'utf8')).runs[0];
    expect(rec.imagesSeen).toBe(64);                                 // 2 steps of 32 in all: the step count went on from 1
    expect(rec.trainSeconds).toBeGreaterThanOrEqual(1000);           // training time adds up across sittings
    expect(existsSync(file)).toBe(false);
  }, 180_000);
  it('unknown levers, bad seeds and a corrupt results file are refused with a clear message', () => {
    const u = run(['--levers', 'baseline,dropout']);
    expect(u.status).toBe(2);
    expect(u.out).toMatch(/--levers: unknown lever "dropout" \(known: baseline/);
    const s = run(['--seeds', '0,x']);
    expect(s.status).toBe(2);
    expect(s.out).toMatch(/--seeds: x is not a non-negative integer/);
    const bad = join(mkdtempSync(join(tmpdir(), 'levers-bad-')), 'levers.json');
    writeFileSync(bad, '{"runs": [');
    const c = run(['--out', bad, '--data-dir', data, '--base', 'tiny']);
    expect(c.status).toBe(2);
    expect(c.out).toMatch(/exists but is not a results file/);
  }, 120_000);
});
