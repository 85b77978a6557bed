import {createHash} from 'node:crypto';
import {copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, afterEach, beforeEach, describe, expect, it} from 'vitest';
import {makeTar, parseTar, readTarGz, readTarGzStream} from '../../lib/data/archive';
import {decodeRecords, findCifarFolder, firstTestImages, loadCifar10, readCifarArchive, readCifarFolder} from '../../lib/data/cifar';
import {makeRecords, pixel, tinyTarGz, writeTinyFolder} from './cifar-fixture';

const tmp = mkdtempSync(join(tmpdir(), 'cifar-format-'));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));
let k = 0;
const fresh = (name: string) => join(tmp, `${name}-${k++}`);
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('decodeRecords: CHW planes to NHWC', () => {
  it('puts R, G, B of pixel (y, x) next to each other and keeps labels', () => {
    const s = decodeRecords(makeRecords(2, 4), 'x.bin');
    expect(s.count).toBe(4);
    expect(s.images.length).toBe(4 * 32 * 32 * 3);
    expect(Array.from(s.labels)).toEqual([2, 3, 4, 5]);
    for (const [n, y, x] of [[0, 0, 0], [1, 5, 7], [3, 31, 31], [2, 0, 31]] as const) {
      for (let c = 0; c < 3; c++) expect(s.images[((n * 32 + y) * 32 + x) * 3 + c]).toBe(pixel(2, n, c, y, x));
    }
  });
  it('rejects a length that is not whole records', () => {
    expect(() => decodeRecords(new Uint8Array(3073 * 2 + 5), 'cut.bin')).toThrow(/cut\.bin: 6151 bytes is not a whole number of 3073-byte/);
  });
  it('rejects a label outside 0-9', () => {
    const b = makeRecords(0, 2);
    b[3073] = 12;
    expect(() => decodeRecords(b, 'bad.bin')).toThrow(/record 1 has label 12/);
  });
});

describe('tar parsing', () => {
  it('round-trips files of any size and skips unwanted bodies', () => {
    const files = [{name: 'a/one.bin', data: new Uint8Array(700).fill(7)}, {name: 'a/two.txt', data: new Uint8Array(Buffer.from('hi'))}, {name: 'empty', data: new Uint8Array(0)}];
    const tar = makeTar(files);
    expect(tar.length % 512).toBe(0);
    const got = parseTar(tar);
    expect(got.map((e) => [e.name, e.size])).toEqual([['a/one.bin', 700], ['a/two.txt', 2], ['empty', 0]]);
    expect(Array.from(got[0]!.data)).toEqual(Array.from(files[0]!.data));
    expect(parseTar(tar, (n) => n.endsWith('.txt')).map((e) => e.name)).toEqual(['a/two.txt']);
  });
  it('the streaming reader gives the same members as the in-memory one, and the MD5 of the file', async () => {
    const dir = fresh('s'), p = join(dir, 'x.tar.gz');
    mkdirSync(dir, {recursive: true});
    const files = [{name: 'a', data: new Uint8Array(3000).map((_, i) => i % 7)}, {name: 'b/c', data: new Uint8Array(513).fill(9)}];
    const gz = gzipSync(makeTar(files));
    writeFileSync(p, gz);
    const s = await readTarGzStream(p), m = readTarGz(p);
    expect(s.md5).toBe(md5(gz));
    expect(s.entries.map((e) => [e.name, Array.from(e.data)])).toEqual(m.map((e) => [e.name, Array.from(e.data)]));
    expect((await readTarGzStream(p, (n) => n === 'b/c')).entries.map((e) => e.name)).toEqual(['b/c']);
  });
  it('names a truncated tar and a corrupt header', () => {
    const tar = makeTar([{name: 'big.bin', data: new Uint8Array(5000)}]);
    expect(() => parseTar(tar.subarray(0, 3000))).toThrow(/truncated tar: "big\.bin" needs 5000 bytes/);
    const bad = tar.slice();
    bad[10] ^= 0xff;
    expect(() => parseTar(bad)).toThrow(/bad header checksum at byte 0/);
  });
});

describe('reading the archive and the folder layout', () => {
  it('reads a folder: 5 train files concatenated in order, then the test file', async () => {
    const dir = writeTinyFolder(fresh('folder'), 3);
    const d = await readCifarFolder(dir, {cacheDir: fresh('cache')});
    expect(d.train.count).toBe(15);
    expect(d.test.count).toBe(3);
    expect(Array.from(d.train.labels)).toEqual([0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]);
    expect(d.train.images[(3 * 1024 + 0) * 3 + 1]).toBe(pixel(1, 0, 1, 0, 0)); // record 3 = file 2 record 0
    expect(d.classes[9]).toBe('truck');
    expect(d.kind).toBe('folder');
    expect(d.label).toBe('CIFAR-10 (unverified copy)');
    expect(d.source).toMatch(/data_batch_1\.bin has 3 records, .*test_batch\.bin has 3 records \(CIFAR-10 has 10,000 per file\)/);
  });
  it('reads the .tar.gz with the expected MD5, the same data as the folder', async () => {
    const gz = tinyTarGz(3), p = join(fresh('arch'), 'cifar-10-binary.tar.gz');
    mkdirSync(join(p, '..'), {recursive: true});
    writeFileSync(p, gz);
    const a = await readCifarArchive(p, {md5: md5(gz), cacheDir: fresh('cache')});
    const f = await readCifarFolder(writeTinyFolder(fresh('folder'), 3), {cacheDir: fresh('cache')});
    expect(a.train.images).toEqual(f.train.images);
    expect(a.test.labels).toEqual(f.test.labels);
    expect(a.kind).toBe('archive');
    expect(a.source).toMatch(/MD5 [0-9a-f]{32} verified, which is not the official archive's; data_batch_1\.bin has 3 records/);
    expect(a.label).toBe('CIFAR-10 (unverified archive)'); // only the official MD5 (and 10,000 records per file) earns "CIFAR-10"
    expect((await readCifarArchive(p, {md5: false})).label).toBe('CIFAR-10 (unverified archive)');
  });
  it('a wrong MD5 is a clear error (and the default is the official checksum)', async () => {
    const p = join(fresh('arch'), 'c.tar.gz');
    mkdirSync(join(p, '..'), {recursive: true});
    writeFileSync(p, tinyTarGz(2));
    await expect(readCifarArchive(p, {md5: '0'.repeat(32), cacheDir: fresh('cache')})).rejects.toThrow(/has MD5 [0-9a-f]{32}, expected 0{32}.*delete it and download again/);
    await expect(readCifarArchive(p, {cacheDir: fresh('cache')})).rejects.toThrow(/expected c32a1d4ab5d03f1284b67883e8d87530/);
  });
  it('a truncated or corrupt archive is a clear error', async () => {
    const gz = tinyTarGz(3), dir = fresh('arch');
    mkdirSync(dir, {recursive: true});
    writeFileSync(join(dir, 'cut.tar.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    await expect(readCifarArchive(join(dir, 'cut.tar.gz'), {md5: false})).rejects.toThrow(/cut\.tar\.gz is truncated \(gzip: unexpected end of file\); delete it and download again/);
    writeFileSync(join(dir, 'html.tar.gz'), '<html>not found</html>');
    await expect(readCifarArchive(join(dir, 'html.tar.gz'), {md5: false})).rejects.toThrow(/is not a gzip file .*not a \.tar\.gz archive at all$/);
    // not an archive at all: no advice to "download again", whatever its checksum
    await expect(readCifarArchive(join(dir, 'html.tar.gz'))).rejects.toThrow(/is not a gzip file .*not a \.tar\.gz archive at all$/);
    const bad = gz.slice();
    bad[Math.floor(bad.length / 2)] ^= 0x55;
    writeFileSync(join(dir, 'flip.tar.gz'), bad);
    await expect(readCifarArchive(join(dir, 'flip.tar.gz'), {md5: false})).rejects.toThrow(/flip\.tar\.gz is (corrupt|truncated)|flip\.tar\.gz: corrupt tar/);
    const tar = makeTar([{name: 'cifar-10-batches-bin/test_batch.bin', data: makeRecords(0, 3)}]);
    writeFileSync(join(dir, 'cuttar.tar.gz'), gzipSync(tar.subarray(0, 5000)));
    await expect(readCifarArchive(join(dir, 'cuttar.tar.gz'), {md5: false})).rejects.toThrow(/cuttar\.tar\.gz: truncated tar: the archive ends inside "cifar-10-batches-bin\/test_batch\.bin"/);
    writeFileSync(join(dir, 'other.tar.gz'), gzipSync(makeTar([{name: 'x/readme.txt', data: new Uint8Array(3)}])));
    await expect(readCifarArchive(join(dir, 'other.tar.gz'), {md5: false})).rejects.toThrow(/lacks data_batch_1\.bin.*test_batch\.bin: not a CIFAR-10 binary archive/);
  });
  it('a folder missing files names them', async () => {
    const dir = writeTinyFolder(fresh('folder'), 2);
    rmSync(join(dir, 'data_batch_4.bin'));
    await expect(readCifarFolder(dir)).rejects.toThrow(/lacks data_batch_4\.bin/);
  });
  it('checks a copy against SHA256SUMS in its parent, caches the digests, and catches a modified file', async () => {
    const root = fresh('copy'), dir = writeTinyFolder(join(root, 'cifar-10-batches-bin'), 2), cache = fresh('cache');
    const sums = readdirSync(dir).map((f) => `${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}  ${f}`).join('\n');
    writeFileSync(join(root, 'SHA256SUMS'), sums + '\n');
    writeFileSync(join(root, 'EXACT-PREFIX-SHA256SUMS'), `${'0'.repeat(64)}  test_batch.bin records 0..1 (first 6,146 bytes)\n`);
    const d = await readCifarFolder(dir, {cacheDir: cache});
    // its own sums verify, but 2 records per file is not the reconstructed copy (10,000 per file)
    expect(d.source).toMatch(/^CIFAR-10 \(unverified copy\) .*data_batch_1\.bin has 2 records.*7 files SHA256SUMS-verified/);
    expect(d.label).toBe('CIFAR-10 (unverified copy)');
    expect(Object.keys(JSON.parse(readFileSync(join(cache, 'verified.json'), 'utf8'))).length).toBe(7);
    const b = makeRecords(5, 2);
    b[100] ^= 1;
    writeFileSync(join(dir, 'test_batch.bin'), b);
    await expect(readCifarFolder(dir, {cacheDir: cache})).rejects.toThrow(/test_batch\.bin does not match .*SHA256SUMS: SHA-256 [0-9a-f]{64}, expected/);
  });
  it('the digest cache does not trust size + mtime: a flipped byte with its mtime restored is caught', async () => {
    const root = fresh('copy'), dir = writeTinyFolder(join(root, 'cifar-10-batches-bin'), 2), cache = fresh('cache');
    writeFileSync(join(root, 'SHA256SUMS'), readdirSync(dir).map((f) => `${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}  ${f}`).join('\n') + '\n');
    const f = join(dir, 'data_batch_3.bin');
    utimesSync(f, 1_700_000_000, 1_700_000_000);               // a whole-second mtime, restorable exactly
    await readCifarFolder(dir, {cacheDir: cache});           // digests cached
    const st = statSync(f), b = readFileSync(f);
    b[3073 + 500] ^= 0x40;                                     // same size
    writeFileSync(f, b);
    utimesSync(f, 1_700_000_000, 1_700_000_000);               // mtime restored
    expect(statSync(f).mtimeMs).toBe(st.mtimeMs);
    expect(statSync(f).size).toBe(st.size);
    await expect(readCifarFolder(dir, {cacheDir: cache})).rejects.toThrow(/data_batch_3\.bin does not match .*SHA256SUMS/);
  });
  it('record counts are always checked: a folder truncated at a record boundary is labelled with its counts, never "CIFAR-10"', async () => {
    const dir = writeTinyFolder(fresh('folder'), 4);
    writeFileSync(join(dir, 'data_batch_2.bin'), makeRecords(1, 2));
    const d = await readCifarFolder(dir, {cacheDir: fresh('cache')});
    expect(d.train.count).toBe(4 + 2 + 4 + 4 + 4);
    expect(d.label).toBe('CIFAR-10 (unverified copy)');
    expect(d.source).toMatch(/data_batch_2\.bin has 2 records/);
    writeFileSync(join(dir, 'data_batch_2.bin'), makeRecords(1, 2).subarray(0, 3073 + 100));
    await expect(readCifarFolder(dir, {cacheDir: fresh('cache')})).rejects.toThrow(/data_batch_2\.bin: 3173 bytes is not a whole number of 3073-byte CIFAR-10 records/);
  });
});

describe('loadCifar10 resolution order', () => {
  const saved = {dir: process.env.CIFAR10_DIR, cache: process.env.COURSE_CACHE_DIR};
  beforeEach(() => { delete process.env.CIFAR10_DIR; });
  afterEach(() => {
    if (saved.dir === undefined) delete process.env.CIFAR10_DIR; else process.env.CIFAR10_DIR = saved.dir;
    if (saved.cache === undefined) delete process.env.COURSE_CACHE_DIR; else process.env.COURSE_CACHE_DIR = saved.cache;
  });
  it('opts.dir wins over CIFAR10_DIR, which wins over the cache dir', async () => {
    const a = writeTinyFolder(fresh('a'), 1), b = writeTinyFolder(fresh('b'), 2), cache = fresh('cache');
    writeTinyFolder(join(cache, 'cifar-10-batches-bin'), 3);
    process.env.CIFAR10_DIR = b;
    expect((await loadCifar10({dir: a, cacheDir: cache, download: false})).test.count).toBe(1);
    expect((await loadCifar10({cacheDir: cache, download: false})).test.count).toBe(2);
    delete process.env.CIFAR10_DIR;
    expect((await loadCifar10({cacheDir: cache, download: false})).test.count).toBe(3);
    process.env.COURSE_CACHE_DIR = cache;
    expect((await loadCifar10({download: false})).test.count).toBe(3);
  });
  it('re-running a cell gets the arrays it still holds instead of a second copy; changed files and logging callers read again', async () => {
    const dir = writeTinyFolder(fresh('reuse'), 2);
    const first = await loadCifar10({dir, download: false});
    expect(await loadCifar10({dir, download: false}), 'same source, still in use').toBe(first);
    expect(await loadCifar10({dir, download: false, log: () => {}})).not.toBe(first);
    const f = join(dir, 'data_batch_3.bin'), later = new Date(Date.now() + 5000);
    utimesSync(f, later, later);
    const again = await loadCifar10({dir, download: false});
    expect(again, 'a changed file is read again').not.toBe(first);
    expect(Array.from(again.train.images)).toEqual(Array.from(first.train.images));
  });
  it('accepts the parent of cifar-10-batches-bin and an archive in the cache dir', async () => {
    const parent = fresh('parent');
    writeTinyFolder(join(parent, 'cifar-10-batches-bin'), 2);
    expect((await loadCifar10({dir: parent, download: false})).test.count).toBe(2);
    const cache = fresh('cache'), gz = tinyTarGz(4);
    mkdirSync(cache, {recursive: true});
    writeFileSync(join(cache, 'cifar-10-binary.tar.gz'), gz);
    const d = await loadCifar10({cacheDir: cache, md5: md5(gz), download: false});
    expect(d.test.count).toBe(4);
    expect(d.kind).toBe('archive');
  });
  it('a dir that does not exist or holds no data is a clear error', async () => {
    await expect(loadCifar10({dir: join(tmp, 'nope'), download: false})).rejects.toThrow(/opts\.dir is .*nope, which does not exist/);
    process.env.CIFAR10_DIR = tmp;
    await expect(loadCifar10({download: false})).rejects.toThrow(/CIFAR10_DIR is .*which holds neither test_batch\.bin/);
  });
  it('without data and with download off, says where to put the archive by hand', async () => {
    const cache = fresh('empty-cache');
    await expect(loadCifar10({cacheDir: cache, sharedDir: false, download: false})).rejects.toThrow(
      new RegExp(`CIFAR-10 not found .*download is off\\. Download https://www\\.cs\\.toronto\\.edu/~kriz/cifar-10-binary\\.tar\\.gz by hand and put it at ${join(cache, 'cifar-10-binary.tar.gz').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });
  it('copies of the archive are verified with the official MD5 unless told otherwise', async () => {
    const cache = fresh('cache');
    mkdirSync(cache, {recursive: true});
    copyFileSync(join(writeTinyFolder(fresh('f'), 1), 'test_batch.bin'), join(cache, 'x'));
    writeFileSync(join(cache, 'cifar-10-binary.tar.gz'), tinyTarGz(1));
    await expect(loadCifar10({cacheDir: cache, download: false})).rejects.toThrow(/expected c32a1d4ab5d03f1284b67883e8d87530/);
  });
});

describe('the site\'s demo samples', () => {
  const saved = process.env.CIFAR10_DIR;
  afterEach(() => { if (saved === undefined) delete process.env.CIFAR10_DIR; else process.env.CIFAR10_DIR = saved; });
  it('firstTestImages: the first perClass test images of each class, across the 100-record read chunks, in HWC RGB', () => {
    const dir = writeTinyFolder(fresh('samples'), 130); // test record n has label (n + 5) % 10
    const s = firstTestImages(dir, 11);
    expect(s.length).toBe(110);
    const want = Array.from({length: 10}, (_, c) => Array.from({length: 11}, (_, j) => ((c + 5) % 10) + 10 * j)).flat();
    expect(s.map((x) => x.index)).toEqual(want);
    expect(s.map((x) => x.label)).toEqual(Array.from({length: 110}, (_, i) => Math.floor(i / 11)));
    const last = s[109]!; // index 104, read in the second chunk
    expect([last.index, last.className]).toEqual([104, 'truck']);
    expect([last.rgb.length, last.rgb[(7 * 32 + 9) * 3 + 2]]).toEqual([3072, pixel(5, 104, 2, 7, 9)]);
    expect(firstTestImages(dir, 20).length).toBe(130); // asks for more than there is: all 13 per class
  });
  it('findCifarFolder: CIFAR10_DIR first, then the cache dir\'s cifar-10-batches-bin', () => {
    const a = writeTinyFolder(fresh('env'), 1), cache = fresh('cache');
    const inCache = writeTinyFolder(join(cache, 'cifar-10-batches-bin'), 1);
    process.env.CIFAR10_DIR = a;
    expect(findCifarFolder({cacheDir: cache})).toBe(a);
    delete process.env.CIFAR10_DIR;
    expect(findCifarFolder({cacheDir: cache})).toBe(inCache);
  });
});
