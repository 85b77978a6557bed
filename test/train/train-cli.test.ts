/**
 * The training and evaluation CLIs end to end on a tiny CIFAR-format folder: exact resume after an
 * interruption, checkpoint/eval agreement, and the clear errors for bad input.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {loadCheckpoint} from '../../lib/io/checkpoint';
import {RECIPES} from '../../lib/train/recipes';
import {writeTinyFolder} from '../data/cifar-fixture';

const ROOT = resolve(__dirname, '../..');
let data: string;

function run(script: 'train' | 'eval', args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, `scripts/${script}.ts`), ...args],
    {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'cpu'}, timeout});
  return {status: r.status, out: r.stdout + r.stderr};
}

const common = (dir: string) => ['--config', 'tiny', '--data-dir', data, '--run-dir', dir, '--batch-size', '8', '--epochs', '2'];

beforeAll(() => {
  data = writeTinyFolder(mkdtempSync(join(tmpdir(), 'cifar-tiny-')), 12); // 60 train, 12 test images
});

describe('npm run train', () => {
  it('an interrupted and resumed run continues exactly like an uninterrupted one', async () => {
    const a = mkdtempSync(join(tmpdir(), 'run-a-')), b = mkdtempSync(join(tmpdir(), 'run-b-'));
    const straight = run('train', common(a));
    expect(straight.status, straight.out).toBe(0);
    const first = run('train', [...common(b), '--stop-after-batches', '10']);   // 7 steps per epoch: stops inside epoch 2
    expect(first.status, first.out).toBe(0);
    expect(first.out).toMatch(/stopped at epoch 2, batch 3; checkpoint saved/);
    const second = run('train', [...common(b), '--resume']);
    expect(second.status, second.out).toBe(0);
    expect(second.out).toMatch(/resumed from .* at epoch 2, batch 3, step 10/);
    const ca = await loadCheckpoint(join(a, 'last.safetensors')), cb = await loadCheckpoint(join(b, 'last.safetensors'));
    expect(Object.keys(cb.params).sort()).toEqual(Object.keys(ca.params).sort());
    for (const n of Object.keys(ca.params)) expect(Array.from(cb.params[n]!.data), n).toEqual(Array.from(ca.params[n]!.data));
    expect(cb.optimizer!.step).toBe(ca.optimizer!.step);
    const lastEpoch = (dir: string) => JSON.parse(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(l => l.includes('"epoch"')).pop()!);
    const ea = lastEpoch(a), eb = lastEpoch(b);
    for (const k of ['trainLoss', 'trainAcc', 'testLoss', 'testAcc', 'step']) expect(eb[k], k).toBe(ea[k]);
  }, 180_000);

  it('with every lever on (tiny-levers: EMA, dropout, stochastic depth, TrivialAugment, cutmix/mixup) the resumed run is bit-identical, EMA included', async () => {
    const a = mkdtempSync(join(tmpdir(), 'lev-a-')), b = mkdtempSync(join(tmpdir(), 'lev-b-'));
    const args = (dir: string) => ['--config', 'tiny-levers', '--data-dir', data, '--run-dir', dir, '--batch-size', '8', '--epochs', '2'];
    const straight = run('train', args(a), 300_000);
    expect(straight.status, straight.out).toBe(0);
    const first = run('train', [...args(b), '--stop-after-batches', '10'], 300_000);
    expect(first.status, first.out).toBe(0);
    const second = run('train', [...args(b), '--resume'], 300_000);
    expect(second.status, second.out).toBe(0);
    const ca = await loadCheckpoint(join(a, 'last.safetensors')), cb = await loadCheckpoint(join(b, 'last.safetensors'));
    for (const n of Object.keys(ca.params)) expect(Array.from(cb.params[n]!.data), n).toEqual(Array.from(ca.params[n]!.data));
    expect(Object.keys(ca.ema ?? {}).sort()).toEqual(Object.keys(ca.params).sort());
    for (const n of Object.keys(ca.ema!)) expect(Array.from(cb.ema![n]!.data), `ema.${n}`).toEqual(Array.from(ca.ema![n]!.data));
    expect(Array.from(ca.ema!['head.weight']!.data)).not.toEqual(Array.from(ca.params['head.weight']!.data));
    // epochTestCount 5: epoch 1 is evaluated on the first 5 test images, the last epoch on all 12, both with flip TTA
    const epochs = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'epoch');
    expect(epochs.map((r) => [r.testCount, r.tta])).toEqual([[5, 'flip'], [12, 'flip']]);
    expect(epochs.every((r) => r.testAccSingle >= 0 && r.testAccSingle <= 1 && r.testLossSingle > 0)).toBe(true);
    // eval applies the recipe's TTA too (same accuracy as logged) and reports the single pass beside it
    const json = join(a, 'eval.json');
    const ev = run('eval', [join(a, 'last.safetensors'), '--data-dir', data, '--json', json]);
    expect(ev.status, ev.out).toBe(0);
    expect(ev.out).toMatch(/with test-time augmentation 'flip'.*one pass without it: \d+\.\d\d%/);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    expect(r.accuracy).toBe(epochs[1].testAcc);
    expect(r.tta).toBe('flip');
    expect(r.accuracyWithoutTta).toBe(epochs[1].testAccSingle);
  }, 900_000);

  it('--workers 2 (data-parallel) trains the same weights as --micro-batch 4 and exits when done', async () => {
    const a = mkdtempSync(join(tmpdir(), 'run-w-')), b = mkdtempSync(join(tmpdir(), 'run-m-'));
    const dp = run('train', [...common(a), '--workers', '2']);
    expect(dp.status, dp.out).toBe(0);
    expect(dp.out).toMatch(/data-parallel: 2 processes/);
    const mb = run('train', [...common(b), '--micro-batch', '4']);
    expect(mb.status, mb.out).toBe(0);
    const ca = await loadCheckpoint(join(a, 'last.safetensors')), cb = await loadCheckpoint(join(b, 'last.safetensors'));
    for (const n of Object.keys(ca.params)) expect(Array.from(ca.params[n]!.data), n).toEqual(Array.from(cb.params[n]!.data));
    // every epoch record says how it was computed
    const workersOf = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l)).filter((r) => r.type === 'epoch').map((r) => r.workers);
    expect(workersOf(a).length).toBeGreaterThan(0);
    expect(workersOf(a).every((w) => w === 2)).toBe(true);
    expect(workersOf(b).every((w) => w === 1)).toBe(true);
    expect(run('train', [...common(b), '--workers', '3']).out).toMatch(/workers must be 1 or 2 \(got 3\)/);
    expect(run('train', [...common(b), '--workers', '2', '--micro-batch', '2']).out).toMatch(/choose one of workers 2 \(half a batch per process\) and microBatch 2/);
  }, 180_000);

  it('eval reproduces the test accuracy logged by train', () => {
    const a = mkdtempSync(join(tmpdir(), 'run-e-'));
    expect(run('train', common(a)).status).toBe(0);
    const logged = JSON.parse(readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!);
    const json = join(a, 'eval.json');
    const ev = run('eval', [join(a, 'last.safetensors'), '--data-dir', data, '--json', json]);
    expect(ev.status, ev.out).toBe(0);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    expect(r.accuracy).toBe(logged.testAcc);
    // the clean training metrics: plain cross-entropy on the first training images, un-augmented
    expect(logged.trainCleanCount).toBe(60);
    expect(logged.trainCleanLoss).toBeGreaterThan(0);
    expect(logged.trainCleanAcc).toBeGreaterThanOrEqual(0);
    expect(logged.trainCleanAcc).toBeLessThanOrEqual(1);
    expect(r.confusion.flat().reduce((x: number, y: number) => x + y, 0)).toBe(12);
    expect(ev.out).toMatch(/confusion matrix/);
  }, 120_000);

  it('rejects an unknown config, naming the known ones', () => {
    const r = run('train', ['--config', 'huge', '--data-dir', data]);
    expect(r.status).toBe(1);
    // every recipe of lib/train/recipes.ts is named, in its order (a new recipe needs no edit here)
    expect(Object.keys(RECIPES)).toEqual(expect.arrayContaining(['cifar-small', 'tiny', 'fast', 'long']));
    expect(r.out).toContain(`unknown config "huge" (known: ${Object.keys(RECIPES).join(', ')})`);
  });

  it('rejects a bad number and an unknown option', () => {
    expect(run('train', ['--epochs', 'many']).out).toMatch(/--epochs needs a whole number >= 1 \(got "many"\)/);
    expect(run('train', ['--epochz', '3']).out).toMatch(/unknown option --epochz \(did you mean --epochs\?\)/);
    expect(run('train', ['--config', 'tiny', '--epochs', '0', '--data-dir', data]).out).toMatch(/--epochs needs a whole number >= 1 \(got "0"\)/);
    expect(run('train', ['--config', 'tiny', '--clean-train-eval=-5', '--data-dir', data]).out).toMatch(/--clean-train-eval needs a whole number >= 0 \(got "-5"\)/);
  });

  it('refuses to resume a checkpoint of another architecture', () => {
    const a = mkdtempSync(join(tmpdir(), 'run-x-'));
    expect(run('train', [...common(a), '--stop-after-batches', '2']).status).toBe(0);
    const r = run('train', ['--config', 'cifar-small', '--data-dir', data, '--run-dir', a, '--resume']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/was trained with another architecture/);
  });

  it('names the missing data set and where to put it', () => {
    const r = run('train', ['--config', 'tiny', '--data-dir', join(tmpdir(), 'no-such-cifar-dir')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/no-such-cifar-dir/);
  });

  it('eval rejects a file that is not a checkpoint', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'bad-')), 'x.safetensors');
    writeFileSync(f, 'not a checkpoint');
    const r = run('eval', [f, '--data-dir', data]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/not a valid checkpoint/);
  });
});
