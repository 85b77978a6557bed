/**
 * lib/io/results-file.ts: the results files of npm run levers and npm run data-fraction — reading
 * (refusing what is not one, by name), merging runs of two processes, the lock, atomic writes.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {describe, expect, it} from 'vitest';
import {mergeRunsBy, portableCommand, readResultsFile, updateResultsFile, withFileLock} from '../../lib/io/results-file';

type Run = {name: string; seed: number; acc: number; command?: string};
const key = (r: Run) => `${r.name}/${r.seed}`;
const fresh = () => join(mkdtempSync(join(tmpdir(), 'results-')), 'sub', 'results.json');

describe('readResultsFile', () => {
  it('no file: undefined; a results file: its runs', () => {
    const f = fresh();
    expect(readResultsFile(f)).toBeUndefined();
    writeFileSync(join(f, '..', '..', 'r.json'), JSON.stringify({runs: [{name: 'a', seed: 0, acc: 0.5}]}));
    expect(readResultsFile<Run>(join(f, '..', '..', 'r.json'))!.runs).toEqual([{name: 'a', seed: 0, acc: 0.5}]);
  });
  it('refuses a file that is not JSON or has no runs list, naming it relative to the working folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-bad-')), bad = join(dir, 'bad.json'), norun = join(dir, 'norun.json');
    writeFileSync(bad, '{"runs": [');
    writeFileSync(norun, '{"summary": []}');
    const rel = (f: string) => relative(process.cwd(), f);
    expect(() => readResultsFile(bad)).toThrow(`${rel(bad)} exists but is not a results file (`);
    expect(() => readResultsFile(norun)).toThrow(`${rel(norun)} exists but has no "runs" list; move it away or choose --out`);
  });
});

describe('mergeRunsBy', () => {
  it('the runs on disk first, in their order, then ours the disk lacks; the disk wins a key both have', () => {
    const a = {name: 'a', seed: 0, acc: 0.5}, b = {name: 'b', seed: 0, acc: 0.4}, a1 = {name: 'a', seed: 1, acc: 0.3};
    expect(mergeRunsBy(key, [a, b], [{...a, acc: 0.9}, a1])).toEqual([a, b, a1]);
    expect(mergeRunsBy(key, [], [a1, a])).toEqual([a1, a]);
  });
});

describe('updateResultsFile', () => {
  it('merges with what another writer added since, joins the commands, keeps an older file\'s command, writes no temp file', async () => {
    const f = fresh();
    const build = (runs: Run[]) => ({summary: runs.length});
    // an older file whose runs carry no command
    await updateResultsFile<Run>(f, key, [{name: 'old', seed: 0, acc: 0.1}], build);
    const old = JSON.parse(readFileSync(f, 'utf8'));
    expect(old).toEqual({command: '', summary: 1, runs: [{name: 'old', seed: 0, acc: 0.1}]});
    writeFileSync(f, JSON.stringify({...old, command: 'npm run x -- --old'}));
    // two writers: the later one finds the earlier one's run on disk and keeps it
    const p = {name: 'p', seed: 0, acc: 0.2, command: 'npm run x -- --p'}, q = {name: 'q', seed: 0, acc: 0.3, command: 'npm run x -- --q'};
    const [rp, rq] = await Promise.all([updateResultsFile<Run>(f, key, [p], build), updateResultsFile<Run>(f, key, [q], build)]);
    const file = JSON.parse(readFileSync(f, 'utf8'));
    expect(file.runs.map(key)).toEqual(['old/0', 'p/0', 'q/0']);
    expect(file.summary).toBe(3);
    expect(file.command).toBe('npm run x -- --old + npm run x -- --p + npm run x -- --q');
    expect(rp.map(key)).toEqual(['old/0', 'p/0']);
    expect(rq.map(key)).toEqual(['old/0', 'p/0', 'q/0']);
    expect(readdirSync(join(f, '..'))).toEqual(['results.json']);   // no lock, no temporary file left
  });
  it('check() can refuse the file on disk before anything is written', async () => {
    const f = fresh();
    await updateResultsFile<Run>(f, key, [{name: 'a', seed: 0, acc: 0.5}], () => ({base: 'tiny'}));
    const before = readFileSync(f, 'utf8');
    await expect(updateResultsFile<Run>(f, key, [{name: 'b', seed: 0, acc: 0.5}], () => ({base: 'small'}), (d) => {
      if (d.base !== 'small') throw new Error(`holds runs of --base ${d.base}`);
    })).rejects.toThrow('holds runs of --base tiny');
    expect(readFileSync(f, 'utf8')).toBe(before);
    expect(existsSync(f + '.lock')).toBe(false);
  });
});

describe('withFileLock', () => {
  it('waits for a held lock, names it when it is held too long, and removes a stale one (> 10 min)', async () => {
    const f = fresh();
    await withFileLock(f, () => undefined);                       // creates the folder
    writeFileSync(f + '.lock', '');
    await expect(withFileLock(f, () => 1, 300)).rejects.toThrow(/results\.json\.lock: another process has held this lock for 1 s; remove it if no run is writing .*results\.json/);
    expect(existsSync(f + '.lock')).toBe(true);                   // not ours: left alone
    const old = (Date.now() - 11 * 60_000) / 1000;
    utimesSync(f + '.lock', old, old);
    expect(await withFileLock(f, () => 2, 300)).toBe(2);
    expect(existsSync(f + '.lock')).toBe(false);
  });
  it('releases the lock when the function throws', async () => {
    const f = fresh();
    await expect(withFileLock(f, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(f + '.lock')).toBe(false);
  });
});

describe('portableCommand', () => {
  it('records absolute paths relative to the working folder, in both --opt PATH and --opt=PATH forms', () => {
    expect(portableCommand('npm run levers --', ['--out', '/srv/course/runs/a.json', '--seeds', '0,1'], '/srv/course/repo'))
      .toBe('npm run levers -- --out ../runs/a.json --seeds 0,1');
    expect(portableCommand('npm run data-fraction --', ['--out=/srv/course/repo/models/r.json', '--data-dir', '/srv/course/repo'], '/srv/course/repo'))
      .toBe('npm run data-fraction -- --out=models/r.json --data-dir .');
    expect(portableCommand('x', ['0.5', 'a/b'], '/srv')).toBe('x 0.5 a/b');
  });
});
