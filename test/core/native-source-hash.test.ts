/**
 * A native addon built from older C sources than the checkout's is never used (a `git pull` that
 * changes lib/core/native/*.c without a rebuild used to crash inside the wasm backend): build.sh
 * compiles the sources' SHA-256 into the addon and the loader compares it with the sources.
 */
import {execFileSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdtempSync, appendFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {createRequire} from 'node:module';
import {describe, expect, it} from 'vitest';
import {CONV_ADDON_VERSION} from '../../lib/core/conv-kernels';
import {addonProblem, NATIVE_ADDON_PATH, NATIVE_ADDON_VERSION, NATIVE_SOURCES, nativeSourceHash} from '../../lib/core/native-kernels';

describe('native addon source hash', () => {
  it('is the SHA-256 of the concatenated sources, as `cat … | sha256sum` in build.sh computes it', () => {
    const shell = execFileSync('bash', ['-c', 'cat "$@" | sha256sum', 'hash', ...NATIVE_SOURCES], {encoding: 'utf8'}).slice(0, 16);
    expect(nativeSourceHash()).toBe(shell);
    expect(shell).toMatch(/^[0-9a-f]{16}$/);
  });
  it('changes when one source changes by one byte; undefined when a source is absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'native-src-'));
    const copies = NATIVE_SOURCES.map((f) => { const c = join(dir, basename(f)); copyFileSync(f, c); return c; });
    expect(nativeSourceHash(copies)).toBe(nativeSourceHash());
    appendFileSync(copies[1]!, '\n');
    expect(nativeSourceHash(copies)).not.toBe(nativeSourceHash());
    expect(nativeSourceHash([...copies, join(dir, 'missing.c')])).toBeUndefined();
  });
  it('a stale build is refused with the command that fixes it; a current one is accepted', () => {
    const ok = {srcHash: 'abcdef0123456789', version: NATIVE_ADDON_VERSION, convVersion: CONV_ADDON_VERSION};
    expect(addonProblem(ok, 'abcdef0123456789')).toBe('');
    expect(addonProblem(ok, '0000000000000000')).toBe('the addon was built from older sources (lib/core/native/*.c changed since: ' +
      'built abcdef0123456789, sources 0000000000000000; run npm run setup or bash lib/core/native/build.sh)');
    expect(addonProblem({...ok, srcHash: undefined}, '0000000000000000')).toMatch(/built unknown, sources 0000000000000000/);
    // without the sources (an installed copy) only the export versions are checked
    expect(addonProblem({...ok, version: 1}, undefined)).toMatch(/the addon is out of date \(version 1, need \d+: run npm run setup\)/);
  });
  it.runIf(existsSync(NATIVE_ADDON_PATH))('the built addon carries the hash of the sources it was built from', () => {
    const lib = createRequire(__filename)(NATIVE_ADDON_PATH) as {srcHash?: string};
    expect(lib.srcHash).toBe(nativeSourceHash());
  });
});
