/**
 * Download tests against a local HTTP server on 127.0.0.1 serving a tiny CIFAR-format archive
 * the test builds itself. Nothing here touches the network.
 */
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {loadCifar10} from '../../lib/data/cifar';
import {DownloadError, downloadFile} from '../../lib/data/download';
import {tinyTarGz} from './cifar-fixture';

const archive = tinyTarGz(4); // ~ 12 records of 3073 bytes per file, gzipped
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const MD5 = md5(archive);

interface Mode { body: Uint8Array; cutAt?: number; cutOnce?: boolean; ignoreRange?: boolean; status?: number; wrongRange?: boolean }
let mode: Mode = {body: archive};
const seen: {range?: string}[] = [];
let server: http.Server, base = '';
const tmp = mkdtempSync(join(tmpdir(), 'cifar-dl-'));
let k = 0;
const fresh = () => join(tmp, `c${k++}`);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({range: req.headers.range});
    const m = mode, body = m.body;
    if (m.status) { res.writeHead(m.status); res.end('nope'); return; }
    let start = 0;
    const r = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (r && !m.ignoreRange) {
      start = m.wrongRange ? 1 : Number(r[1]);
      res.writeHead(206, {'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`});
    } else res.writeHead(200, {'content-length': body.length});
    if (m.cutAt !== undefined && start < m.cutAt) {
      res.write(Buffer.from(body.subarray(start, m.cutAt)), () => setTimeout(() => res.destroy(), 20));
      if (m.cutOnce) mode = {...m, cutAt: undefined};
      return;
    }
    res.end(Buffer.from(body.subarray(start)));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(tmp, {recursive: true, force: true});
});

const fast = {retryDelayMs: 5};

describe('downloadFile', () => {
  it('downloads, reports progress up to the total, verifies MD5 and renames into place', async () => {
    mode = {body: archive};
    const dest = join(fresh(), 'a.tar.gz'), progress: [number, number][] = [];
    const r = await downloadFile(`${base}/a`, dest, {md5: MD5, onProgress: (a, b) => progress.push([a, b]), ...fast});
    expect(readFileSync(dest).equals(Buffer.from(archive))).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(r.md5).toBe(MD5);
    expect(progress.at(-1)).toEqual([archive.length, archive.length]);
    expect(progress.every(([a, b], i) => b === archive.length && (i === 0 || a >= progress[i - 1]![0]))).toBe(true);
  });
  it('an interrupted transfer leaves only the .part file, and the next run resumes it with Range', async () => {
    const cut = Math.floor(archive.length / 3), dest = join(fresh(), 'b.tar.gz');
    mode = {body: archive, cutAt: cut};
    const err = await downloadFile(`${base}/b`, dest, {md5: MD5, retries: 0, ...fast}).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.kind).toBe('interrupted');
    expect(err.message).toMatch(new RegExp(`interrupted after ${cut} of ${archive.length} bytes.*partial file kept.*Run again to resume`));
    expect(existsSync(dest)).toBe(false); // atomic: never a half file under the final name
    expect(statSync(`${dest}.part`).size).toBe(cut);
    mode = {body: archive};
    seen.length = 0;
    const r = await downloadFile(`${base}/b`, dest, {md5: MD5, ...fast});
    expect(seen[0]!.range).toBe(`bytes=${cut}-`);
    expect(r.resumedFrom).toBe(cut);
    expect(md5(readFileSync(dest))).toBe(MD5);
  });
  it('retries by itself after a dropped connection and resumes where it stopped', async () => {
    const cut = Math.floor(archive.length / 2), dest = join(fresh(), 'c.tar.gz');
    mode = {body: archive, cutAt: cut, cutOnce: true};
    seen.length = 0;
    const logs: string[] = [];
    const r = await downloadFile(`${base}/c`, dest, {md5: MD5, log: (m) => logs.push(m), ...fast});
    expect(r.attempts).toBe(2);
    expect(seen.map((s) => s.range)).toEqual([undefined, `bytes=${cut}-`]);
    expect(logs.join('\n')).toMatch(new RegExp(`resuming at byte ${cut}`));
    expect(md5(readFileSync(dest))).toBe(MD5);
  });
  it('restarts cleanly when the server ignores Range (200) or answers another range', async () => {
    for (const m of [{ignoreRange: true}, {wrongRange: true}]) {
      const dir = fresh(), dest = join(dir, 'd.tar.gz'), logs: string[] = [];
      mkdirSync(dir, {recursive: true});
      writeFileSync(`${dest}.part`, Buffer.from(archive.subarray(0, 100)).fill(7)); // stale garbage
      mode = {body: archive, ...m};
      await downloadFile(`${base}/d`, dest, {md5: MD5, log: (x) => logs.push(x), ...fast});
      expect(md5(readFileSync(dest))).toBe(MD5);
      expect(logs.join('\n')).toMatch(/restarting/);
    }
  });
  it('a wrong checksum deletes the download and says so', async () => {
    const bad = new Uint8Array(archive);
    bad[50] ^= 1;
    mode = {body: bad};
    const dest = join(fresh(), 'e.tar.gz');
    const err = await downloadFile(`${base}/e`, dest, {md5: MD5, ...fast}).catch((e) => e);
    expect(err.kind).toBe('checksum');
    expect(err.message).toMatch(new RegExp(`checksum mismatch .*MD5 ${md5(bad)}, expected ${MD5}.*deleted.*put it at ${dest.replace(/[.]/g, '\\.')}`));
    expect(existsSync(dest) || existsSync(`${dest}.part`)).toBe(false);
  });
  it('no network: a clear error that says where to put the file by hand', async () => {
    const closed = http.createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    const dest = join(fresh(), 'f.tar.gz');
    const err = await downloadFile(`http://127.0.0.1:${port}/x`, dest, {md5: MD5, retries: 1, ...fast}).catch((e) => e);
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/ECONNREFUSED.*no network\? Download .* by hand .*and put it at/);
    expect(err.message).toContain(dest);
  });
  it('an HTTP error status is reported', async () => {
    mode = {body: archive, status: 404};
    await expect(downloadFile(`${base}/g`, join(fresh(), 'g'), {...fast})).rejects.toThrow(/answered HTTP 404/);
  });
});

describe('loadCifar10 with download', () => {
  const opts = (cacheDir: string, o: object = {}) => ({url: `${base}/cifar-10-binary.tar.gz`, md5: MD5, cacheDir, sharedDir: false as const, ...fast, ...o});
  const saved = process.env.CIFAR10_DIR;
  beforeAll(() => { delete process.env.CIFAR10_DIR; });
  afterAll(() => { if (saved !== undefined) process.env.CIFAR10_DIR = saved; });

  it('downloads into the cache dir once, then reads the cached archive', async () => {
    mode = {body: archive};
    const cache = fresh();
    seen.length = 0;
    const d = await loadCifar10(opts(cache));
    expect(d.train.count).toBe(20);
    expect(d.test.count).toBe(4);
    expect(d.kind).toBe('archive');
    expect(existsSync(join(cache, 'cifar-10-binary.tar.gz'))).toBe(true);
    const again = await loadCifar10(opts(cache));
    expect(again.test.images).toEqual(d.test.images);
    expect(seen.length).toBe(1);
  });
  it('a truncated archive from the server is caught by the checksum; without one, by the reader', async () => {
    const cut = archive.subarray(0, archive.length - 300);
    mode = {body: cut};
    await expect(loadCifar10(opts(fresh()))).rejects.toThrow(/checksum mismatch.*truncated or corrupt download, deleted/);
    await expect(loadCifar10(opts(fresh(), {md5: false}))).rejects.toThrow(/cifar-10-binary\.tar\.gz is truncated \(gzip: unexpected end of file\)/);
  });
});
