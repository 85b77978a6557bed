/**
 * readTrainingLog: the reader of the metrics.jsonl logs chapter 4 draws from — epoch and step
 * records apart, a torn last line left out (a kill mid-append), every other bad line an error
 * that names the file and the line.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {readTrainingLog} from '../../lib/train/training-log';

const tmp = mkdtempSync(join(tmpdir(), 'training-log-'));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

const epoch = (n: number) => ({type: 'epoch', epoch: n, step: 10 * n, lr: 1e-3, trainLoss: 2 - n / 10, trainAcc: 0.1 * n,
  trainSeconds: 60, imgPerSec: 200, elapsedSeconds: 65 * n, testAcc: 0.1 * n + 0.05, testCount: 2000});
const step = (s: number) => ({type: 'step', epoch: 1, step: s, lr: 5e-4, loss: 2.1, gradNorm: null, imgPerSec: 190});
const write = (name: string, lines: string[], end = '\n') => {
  const f = join(tmp, name);
  writeFileSync(f, lines.join('\n') + end);
  return f;
};

describe('readTrainingLog', () => {
  it('splits epoch and step records, in order, from a folder or a file; other types are skipped', () => {
    const f = write('metrics.jsonl', [step(5), epoch(1), JSON.stringify({type: 'note', text: 'resumed'}), step(15), epoch(2)].map((r) =>
      typeof r === 'string' ? r : JSON.stringify(r)));
    for (const log of [readTrainingLog(tmp), readTrainingLog(f)]) {
      expect(log.file).toBe(f);
      expect(log.epochs.map((r) => r.epoch)).toEqual([1, 2]);
      expect(log.epochs[1]!.elapsedSeconds).toBe(130);
      expect(log.steps.map((r) => r.step)).toEqual([5, 15]);
      expect(log.steps[0]!.gradNorm).toBeNull();
    }
  });

  it('leaves out a last line torn by a kill mid-append, but not a complete last line', () => {
    const whole = [epoch(1), epoch(2)].map((r) => JSON.stringify(r));
    const torn = write('torn.jsonl', [...whole, JSON.stringify(epoch(3)).slice(0, 40)], '');
    expect(readTrainingLog(torn).epochs.map((r) => r.epoch)).toEqual([1, 2]);
    const noNewline = write('no-newline.jsonl', [...whole, JSON.stringify(epoch(3))], '');
    expect(readTrainingLog(noNewline).epochs.map((r) => r.epoch)).toEqual([1, 2]);
    expect(readTrainingLog(write('complete.jsonl', [...whole, JSON.stringify(epoch(3))])).epochs).toHaveLength(3);
  });

  it('names the file and the line of a broken record', () => {
    const f = write('broken.jsonl', [JSON.stringify(epoch(1)), '{"type": "epoch", "epo', JSON.stringify(epoch(2))]);
    expect(() => readTrainingLog(f)).toThrow(`${f}, line 2: not a JSON record`);
    const g = write('array.jsonl', [JSON.stringify(epoch(1)), '[1, 2]']);
    expect(() => readTrainingLog(g)).toThrow(`${g}, line 2: not a JSON object`);
    const {elapsedSeconds: _, ...noTime} = epoch(2);
    const h = write('missing.jsonl', [JSON.stringify(epoch(1)), JSON.stringify(noTime)]);
    expect(() => readTrainingLog(h)).toThrow(`${h}, line 2: the epoch record has no number "elapsedSeconds"`);
    const {loss: __, ...noLoss} = step(3);
    const k = write('step.jsonl', [JSON.stringify(noLoss)]);
    expect(() => readTrainingLog(k)).toThrow(`${k}, line 1: the step record has no number "loss"`);
  });

  it('says where logs come from when there is none', () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    expect(() => readTrainingLog(empty)).toThrow(`${join(empty, 'metrics.jsonl')}: no training log there (npm run train writes`);
  });

  it('reads every committed log whole: as many epoch records as lines of type epoch', () => {
    for (const dir of ['cifar-vit', 'cifar-fast', 'cifar-long', 'blog-faithful']) {
      const d = resolve(__dirname, '../../models', dir);
      const raw = readFileSync(join(d, 'metrics.jsonl'), 'utf8');
      const log = readTrainingLog(d);
      expect(log.epochs.length, dir).toBe(raw.split('\n').filter((l) => l.includes('"type":"epoch"')).length);
      expect(log.epochs.length, dir).toBeGreaterThan(0);
      expect(log.epochs.map((r) => r.epoch), dir).toEqual(log.epochs.map((_, i) => i + 1));
    }
  });
});
