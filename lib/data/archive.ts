/**
 * Reading `.tar.gz` archives with node:zlib and a small ustar parser (no dependency).
 * Chapter 4 §Data: the official CIFAR-10 archive `cifar-10-binary.tar.gz` is a gzip'd tar of
 * `cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin` and `batches.meta.txt`.
 */
import {createHash} from 'node:crypto';
import {createReadStream, readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';

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
  if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b) throw new ArchiveError(`${label} is not a gzip file (${gz.length} bytes, starts with ${Buffer.from(gz.subarray(0, 4)).toString('hex')}); delete it and download again`);
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
