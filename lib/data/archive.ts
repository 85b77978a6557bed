/**
 * Reading `.tar.gz` archives with node:zlib and a small ustar parser (no dependency).
 * Chapter 4 §4.1: the official CIFAR-10 archive `cifar-10-binary.tar.gz` is a gzip'd tar of
 * `cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin` and `batches.meta.txt`.
 * Written by hand on purpose, as teaching code: a tar is 512-byte ustar headers and padded bodies, short enough to read whole.
 */
import {createHash} from 'node:crypto';
import {createReadStream, readFileSync} from 'node:fs';
import {createGunzip, gunzipSync} from 'node:zlib';

export interface TarEntry { name: string; size: number; type: string; data: Uint8Array }

/** An error about an archive file that is unreadable (truncated, corrupt, or lacking a member). */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

function readString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + off, end - off).toString('utf8');
}

function readOctal(b: Uint8Array, off: number, len: number, what: string): number {
  if (b[off]! & 0x80) { // GNU base-256 for sizes >= 8 GiB
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = readString(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new ArchiveError(`corrupt tar header: ${what} field is "${s}", not an octal number`);
  return parseInt(s, 8);
}

function checksumOk(b: Uint8Array, off: number): boolean {
  const stored = readOctal(b, off + 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[off + i]!;
  return sum === stored;
}

/**
 * Parses an uncompressed tar (ustar / GNU, incl. PAX and GNU long names). Returns regular files
 * whose `data` are views into `tar`; `keep(name)` selects which files to return.
 * Throws ArchiveError naming the problem for a truncated or corrupt tar.
 */
export function parseTar(tar: Uint8Array, keep: (name: string) => boolean = () => true): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0, longName: string | undefined;
  while (off + 512 <= tar.length) {
    if (tar.subarray(off, off + 512).every((x) => x === 0)) return out; // end-of-archive block
    if (!checksumOk(tar, off)) throw new ArchiveError(`corrupt tar: bad header checksum at byte ${off}`);
    let name = readString(tar, off, 100);
    const prefix = readString(tar, off + 345, 155);
    if (prefix && readString(tar, off + 257, 6).startsWith('ustar')) name = `${prefix}/${name}`;
    const size = readOctal(tar, off + 124, 12, 'size');
    const type = String.fromCharCode(tar[off + 156] || 48); // '0' regular file
    const body = off + 512;
    if (body + size > tar.length) throw new ArchiveError(`truncated tar: "${name}" needs ${size} bytes at byte ${body}, but the archive ends at ${tar.length}`);
    if (type === 'L') longName = readString(tar, body, size);
    else if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(tar.subarray(body, body + size)).toString('utf8'));
      if (m) longName = m[1];
    } else {
      const fullName = longName ?? name;
      longName = undefined;
      if ((type === '0' || type === '7') && keep(fullName)) out.push({name: fullName, size, type, data: tar.subarray(body, body + size)});
    }
    off = body + Math.ceil(size / 512) * 512;
  }
  if (off < tar.length || out.length === 0) throw new ArchiveError(`truncated tar: ended at byte ${tar.length} without an end-of-archive block`);
  return out; // no end-of-archive blocks: accept what was complete
}

/** Gunzips a whole .tar.gz file and parses it; clear errors for a truncated or corrupt file. */
export function readTarGz(path: string, keep?: (name: string) => boolean): TarEntry[] {
  const gz = readFileSync(path);
  return parseTarGzBytes(gz, path, keep);
}

export function parseTarGzBytes(gz: Uint8Array, label: string, keep?: (name: string) => boolean): TarEntry[] {
  if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b) throw new ArchiveError(`${label} is not a gzip file (${gz.length} bytes, starts with ${Buffer.from(gz.subarray(0, 4)).toString('hex')}): not a .tar.gz archive at all`);
  let tar: Uint8Array;
  try {
    tar = gunzipSync(gz);
  } catch (e) {
    const msg = (e as Error).message;
    const truncated = /unexpected end/i.test(msg);
    throw new ArchiveError(`${label} is ${truncated ? 'truncated' : 'corrupt'} (gzip: ${msg}); delete it and download again`);
  }
  try {
    return parseTar(tar, keep);
  } catch (e) {
    throw new ArchiveError(`${label}: ${(e as Error).message}; delete it and download again`);
  }
}

/** Hex digest of a file, streamed (md5 of 170 MB takes well under a second). */
export function hashFile(path: string, algorithm: 'md5' | 'sha256' = 'md5'): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash(algorithm);
    createReadStream(path, {highWaterMark: 1 << 20})
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function hashBytes(b: Uint8Array, algorithm: 'md5' | 'sha256' = 'md5'): string {
  return createHash(algorithm).update(b).digest('hex');
}

/**
 * Builds an uncompressed ustar archive from files (for tests and fixtures). Directories are
 * implied by the names. Pair with zlib.gzipSync to get a .tar.gz.
 */
export function makeTar(files: {name: string; data: Uint8Array}[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const f of files) {
    const h = new Uint8Array(512);
    const put = (s: string, off: number) => h.set(Buffer.from(s, 'utf8'), off);
    if (Buffer.byteLength(f.name) > 100) throw new Error(`makeTar: name longer than 100 bytes: ${f.name}`);
    put(f.name, 0);
    put('0000644\0', 100); put('0000000\0', 108); put('0000000\0', 116);
    put(f.data.length.toString(8).padStart(11, '0') + '\0', 124);
    put('00000000000\0', 136);
    put('        ', 148);
    h[156] = 48; // '0'
    put('ustar\0', 257); put('00', 263);
    let sum = 0;
    for (const x of h) sum += x;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, f.data, new Uint8Array((512 - (f.data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return new Uint8Array(Buffer.concat(blocks));
}

/**
 * Streams a .tar.gz from disk: the compressed bytes are hashed (MD5) as they are read, gunzipped
 * on libuv's thread pool, and the tar is parsed on the fly, copying only the members `keep`
 * selects (peak memory ≈ the kept members). Same errors as readTarGz.
 */
export function readTarGzStream(path: string, keep: (name: string) => boolean = () => true): Promise<{entries: TarEntry[]; md5: string; bytes: number}> {
  return new Promise((resolve, reject) => {
    const md5 = createHash('md5'), entries: TarEntry[] = [];
    const header = new Uint8Array(512);
    let hFill = 0, body: TarEntry | undefined, bodyFill = 0, skip = 0, pos = 0, longName: string | undefined, meta: Uint8Array | undefined, metaType = '';
    let ended = false, bytes = 0, firstBytes: Buffer | undefined, failed = false;
    const fail = (msg: string) => { if (!failed) { failed = true; src.destroy(); gunzip.destroy(); reject(new ArchiveError(msg)); } };
    const onHeader = () => {
      if (header.every((x) => x === 0)) { ended = true; return; }
      if (!checksumOk(header, 0)) throw new ArchiveError(`corrupt tar: bad header checksum at byte ${pos - 512}`);
      let name = readString(header, 0, 100);
      const prefix = readString(header, 345, 155);
      if (prefix && readString(header, 257, 6).startsWith('ustar')) name = `${prefix}/${name}`;
      const size = readOctal(header, 124, 12, 'size'), type = String.fromCharCode(header[156] || 48);
      const padded = Math.ceil(size / 512) * 512;
      if (type === 'L' || type === 'x') { meta = new Uint8Array(size); metaType = type; body = {name, size, type, data: meta}; bodyFill = 0; skip = padded - size; return; }
      const fullName = longName ?? name;
      longName = undefined;
      if ((type === '0' || type === '7') && keep(fullName)) { body = {name: fullName, size, type, data: new Uint8Array(size)}; bodyFill = 0; skip = padded - size; }
      else skip = padded;
    };
    const onBodyDone = () => {
      const b = body!;
      body = undefined;
      if (b.data === meta) {
        if (metaType === 'L') longName = readString(b.data, 0, b.size);
        else { const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(b.data).toString('utf8')); if (m) longName = m[1]; }
        meta = undefined;
      } else entries.push(b);
    };
    const onData = (c: Buffer) => {
      let i = 0;
      while (i < c.length && !ended) {
        if (body) {
          const n = Math.min(c.length - i, body.size - bodyFill);
          body.data.set(c.subarray(i, i + n), bodyFill);
          bodyFill += n; i += n; pos += n;
          if (bodyFill === body.size) onBodyDone();
        } else if (skip > 0) {
          const n = Math.min(c.length - i, skip);
          skip -= n; i += n; pos += n;
        } else {
          const n = Math.min(c.length - i, 512 - hFill);
          header.set(c.subarray(i, i + n), hFill);
          hFill += n; i += n; pos += n;
          if (hFill === 512) { hFill = 0; onHeader(); }
        }
      }
    };
    const src = createReadStream(path, {highWaterMark: 1 << 20});
    const gunzip = createGunzip({chunkSize: 1 << 20});
    src.on('data', (c) => {
      const b = c as Buffer;
      if (!firstBytes) firstBytes = b.subarray(0, 4);
      bytes += b.length;
      md5.update(b);
    });
    src.on('error', (e) => fail(`cannot read ${path}: ${e.message}`));
    gunzip.on('data', (c: Buffer) => {
      try {
        onData(c);
      } catch (e) {
        fail(`${path}: ${(e as Error).message}; delete it and download again`);
      }
    });
    gunzip.on('error', (e) => {
      if (firstBytes && (firstBytes[0] !== 0x1f || firstBytes[1] !== 0x8b)) return fail(`${path} is not a gzip file (${bytes}+ bytes, starts with ${firstBytes.toString('hex')}): not a .tar.gz archive at all`);
      const truncated = /unexpected end/i.test(e.message);
      fail(`${path} is ${truncated ? 'truncated' : 'corrupt'} (gzip: ${e.message}); delete it and download again`);
    });
    gunzip.on('end', () => {
      if (failed) return;
      if (body || skip > 0 || hFill > 0) return fail(`${path}: truncated tar: the archive ends inside "${body?.name ?? 'a member'}" at byte ${pos}; delete it and download again`);
      if (!ended && entries.length === 0) return fail(`${path}: truncated tar: no complete member; delete it and download again`);
      resolve({entries, md5: md5.digest('hex'), bytes});
    });
    src.pipe(gunzip);
  });
}
