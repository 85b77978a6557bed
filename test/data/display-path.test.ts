/** displayPath: what committed files (results.json, notebook outputs) may say about where data lives. */
import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {displayPath, readCifarFolder, repoRoot} from '../../lib/data/cifar';
import {writeTinyFolder} from './cifar-fixture';

const tmp = mkdtempSync(join(tmpdir(), 'display-path-'));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

describe('displayPath', () => {
  const o = {root: '/work/course', home: '/home/ada'};

  it('gives paths relative to the repository, the shared copy beside it as ../shared/…', () => {
    expect(displayPath('/work/shared/datasets/cifar-10-batches-bin', o)).toBe('../shared/datasets/cifar-10-batches-bin');
    expect(displayPath('/work/course/models/cifar-vit/model.safetensors', o)).toBe('models/cifar-vit/model.safetensors');
    expect(displayPath('/work/course', o)).toBe('.');
    expect(displayPath('models/x', {...o, root: process.cwd()})).toBe('models/x'); // relative input: resolved from cwd
  });

  it('writes the home directory (the download cache) as ~, and anything else relative, never absolute', () => {
    expect(displayPath('/home/ada/.cache/attention-course/cifar-10-binary.tar.gz', o)).toBe('~/.cache/attention-course/cifar-10-binary.tar.gz');
    expect(displayPath('/tmp/cifar', o)).toBe('../../tmp/cifar');
    // a repository inside the home directory: its neighbours stay relative to it
    expect(displayPath('/home/ada/src/shared/d', {root: '/home/ada/src/course', home: '/home/ada'})).toBe('../shared/d');
  });

  it('names data reached through a linked ../shared (a git worktree beside a link) as ../shared/…', () => {
    const base = mkdtempSync(join(tmpdir(), 'display-'));
    mkdirSync(join(base, 'data', 'datasets', 'c'), {recursive: true});
    mkdirSync(join(base, 'wt', 'course'), {recursive: true});
    symlinkSync(join(base, 'data'), join(base, 'wt', 'shared'));
    const root = join(base, 'wt', 'course');
    // the real path and the path through the link both show as the repository's neighbour
    expect(displayPath(join(base, 'data', 'datasets', 'c'), {root, home: '/nonexistent'})).toBe('../shared/datasets/c');
    expect(displayPath(join(base, 'wt', 'shared', 'datasets', 'c'), {root, home: '/nonexistent'})).toBe('../shared/datasets/c');
    // outside the linked folder: relative as before
    expect(displayPath(join(base, 'other'), {root, home: '/nonexistent'})).toBe('../../other');
    rmSync(base, {recursive: true, force: true});
  });

  it('keeps the absolute path of a loaded folder out of the data source text', async () => {
    const dir = writeTinyFolder(join(tmp, 'cifar-10-batches-bin'), 2);
    const d = await readCifarFolder(dir, {cacheDir: join(tmp, 'cache')});
    const shown = displayPath(dir, {root: repoRoot()});
    expect(shown.startsWith('/')).toBe(false);
    expect(d.source).toContain(`(${shown};`);
    expect(d.source).not.toContain(`(${dir}`);
    expect(d.path).toBe(dir); // the path used for reading stays absolute
  });
});
