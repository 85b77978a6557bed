/** displayPath: what committed files (results.json, notebook outputs) may say about where data lives. */
import {mkdtempSync, rmSync} from 'node:fs';
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
