/**
 * Tests on the real data: the copy CI points to with CIFAR10_DIR, else the shared copy next to the
 * repository. Never downloads. Skipped (with the reason in the test name) only if neither exists.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CIFAR10_CLASSES, TEST_FILE, TRAIN_FILES, classCounts, headOf, loadCifar10, readCifarFolder, sharedCopyDir, type Cifar10} from '../../lib/data/cifar';

const dir = process.env.CIFAR10_DIR || sharedCopyDir();
const present = existsSync(join(dir, 'test_batch.bin')) || (existsSync(dir) && dir.endsWith('.tar.gz'));
const title = present ? `CIFAR-10 from ${dir}` : `CIFAR-10 (SKIPPED: no data at ${dir}; set CIFAR10_DIR to a cifar-10-batches-bin folder)`;

describe.skipIf(!present)(title, () => {
  let d: Cifar10, ms = 0, cpuMs = 0;
  const cache = mkdtempSync(join(tmpdir(), 'cifar-real-'));
  afterAll(() => rmSync(cache, {recursive: true, force: true}));
  beforeAll(async () => {
    const t0 = performance.now(), c0 = process.cpuUsage();
    d = await loadCifar10({dir, cacheDir: cache, download: false});
    ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMs = (c.user + c.system) / 1000;
  });

  it('loads all 60,000 images in a few seconds (CPU time, so a busy machine does not fail it)', () => {
    expect(cpuMs, `wall ${ms.toFixed(0)} ms`).toBeLessThan(4000);
  });
  it('has NHWC uint8 images of the right size', () => {
    expect(d.train.count).toBe(50000);
    expect(d.test.count).toBe(10000);
    expect(d.train.images).toBeInstanceOf(Uint8Array);
    expect(d.train.images.length).toBe(50000 * 32 * 32 * 3);
    expect(d.test.images.length).toBe(10000 * 32 * 32 * 3);
    expect(d.train.labels.length).toBe(50000);
  });
  it('test record 0 is a cat with red pixels 158, 159, 165 (NHWC: every third byte)', () => {
    expect(d.classes[d.test.labels[0]!]).toBe('cat');
    expect(d.test.labels[0]).toBe(3);
    expect([d.test.images[0], d.test.images[3], d.test.images[6]]).toEqual([158, 159, 165]);
  });
  it('train record 0 (data_batch_1) is a frog', () => {
    expect(d.train.labels[0]).toBe(6);
    expect(d.classes[6]).toBe('frog');
  });
  it('has 5,000 images per class in train and 1,000 in test', () => {
    expect(classCounts(d.train.labels)).toEqual(new Array(10).fill(5000));
    expect(classCounts(d.test.labels)).toEqual(new Array(10).fill(1000));
  });
  it('reads the class names from batches.meta.txt', () => {
    expect(d.classes).toEqual(CIFAR10_CLASSES);
  });
  it('labels its source so reported numbers can say which copy they come from', () => {
    expect(d.source.startsWith(d.label)).toBe(true);
    if (d.kind === 'reconstructed') {
      expect(d.label).toBe('CIFAR-10, JPEG-reconstructed copy');
      expect(d.source).toMatch(/SHA-256 checked/);
      expect(d.exactTestCount).toBe(1017);
      const exact = headOf(d.test, d.exactTestCount!);
      expect(exact.count).toBe(1017);
      expect(exact.images.length).toBe(1017 * 3072);
    }
  });
  it('a second load reuses the cached verification', async () => {
    const c0 = process.cpuUsage();
    const again = await loadCifar10({dir, cacheDir: cache, download: false});
    const c = process.cpuUsage(c0);
    expect((c.user + c.system) / 1000).toBeLessThan(cpuMs); // no re-hashing
    expect(again.test.images[0]).toBe(158);
  });

  it('recognises the reconstructed files wherever they are; a copy with the official prefix and other pixels after it is unverified', async () => {
    if (d.kind !== 'reconstructed') return; // only meaningful for the shared copy
    const elsewhere = join(cache, 'elsewhere', 'cifar-10-batches-bin');
    mkdirSync(elsewhere, {recursive: true});
    for (const f of [...TRAIN_FILES, TEST_FILE]) symlinkSync(join(dir, f), join(elsewhere, f));
    const copy = await readCifarFolder(elsewhere, {cacheDir: cache});
    expect(copy.label).toBe('CIFAR-10, JPEG-reconstructed copy');
    expect(copy.exactTestCount).toBe(1017);
    // one flipped pixel byte in record 1,018 of data_batch_1.bin (after the 1,017 exact records), no SHA256SUMS beside
    const other = join(cache, 'other', 'cifar-10-batches-bin');
    mkdirSync(other, {recursive: true});
    for (const f of [...TRAIN_FILES.slice(1), TEST_FILE]) symlinkSync(join(dir, f), join(other, f));
    const b = readFileSync(join(dir, 'data_batch_1.bin'));
    b[1018 * 3073 + 10] ^= 1;
    writeFileSync(join(other, 'data_batch_1.bin'), b);
    const o = await readCifarFolder(other, {cacheDir: cache});
    expect(o.label).toBe('CIFAR-10 (unverified copy)');
    expect(o.kind).toBe('folder');
    expect(o.exactTestCount).toBeUndefined();
    expect(o.source).toMatch(/records 0-1016 of every file match the official data .*the rest cannot be verified/);
    b[100] ^= 1; // now inside the exact prefix as well
    writeFileSync(join(other, 'data_batch_1.bin'), b);
    const o2 = await readCifarFolder(other, {cacheDir: cache});
    expect(o2.label).toBe('CIFAR-10 (unverified copy)');
    expect(o2.source).toMatch(/does not match the official checksums/);
  });

  it('refuses a copy truncated at a record boundary (data_batch_1.bin cut to 5,000 records), naming the file', async () => {
    const cut = join(cache, 'cut', 'cifar-10-batches-bin');
    mkdirSync(cut, {recursive: true});
    for (const f of [...TRAIN_FILES.slice(1), TEST_FILE]) symlinkSync(join(dir, f), join(cut, f));
    writeFileSync(join(cut, 'data_batch_1.bin'), readFileSync(join(dir, 'data_batch_1.bin')).subarray(0, 5000 * 3073));
    await expect(readCifarFolder(cut, {cacheDir: cache})).rejects.toThrow(/data_batch_1\.bin has 5,000 records, where the official data has 10,000 per file: a truncated copy/);
    // with the shared copy's own SHA256SUMS beside it, the cut file is a checksum mismatch
    const withSums = join(cache, 'withsums');
    mkdirSync(join(withSums, 'cifar-10-batches-bin'), {recursive: true});
    for (const f of [...TRAIN_FILES.slice(1), TEST_FILE]) symlinkSync(join(dir, f), join(withSums, 'cifar-10-batches-bin', f));
    symlinkSync(join(cut, 'data_batch_1.bin'), join(withSums, 'cifar-10-batches-bin', 'data_batch_1.bin'));
    if (existsSync(join(dir, '..', 'SHA256SUMS'))) {
      symlinkSync(join(dir, '..', 'SHA256SUMS'), join(withSums, 'SHA256SUMS'));
      await expect(readCifarFolder(join(withSums, 'cifar-10-batches-bin'), {cacheDir: cache})).rejects.toThrow(/data_batch_1\.bin does not match .*SHA256SUMS/);
    }
  });
});
