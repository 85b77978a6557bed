/**
 * CIFAR-10 — Chapter 4 §4.1. Reads the official binary format, from the archive
 * `cifar-10-binary.tar.gz` or its extracted folder `cifar-10-batches-bin/`:
 * a record is 1 label byte (0-9) then 3,072 pixel bytes (red plane, green plane, blue plane, each
 * 32×32 row-major). Images are returned NHWC uint8 `[N, 32, 32, 3]` in one flat Uint8Array.
 *
 * Where the data comes from (first hit wins), see `loadCifar10`:
 *   1. `opts.dir` (a folder, its parent, or a .tar.gz)      2. env `CIFAR10_DIR` (same)
 *   3. the cache dir: `cifar-10-batches-bin/` or `cifar-10-binary.tar.gz` in it
 *   4. the shared copy `../shared/datasets/cifar-10-batches-bin` next to the repository
 *   5. download of the official archive into the cache dir (unless `download: false`)
 * Cache dir: `opts.cacheDir`, else env `COURSE_CACHE_DIR`, else `$XDG_CACHE_HOME/attention-course`
 * (default `~/.cache/attention-course`).
 */
import {closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, statSync, writeFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {basename, dirname, isAbsolute, join, relative, resolve, sep} from 'node:path';
import {ArchiveError, hashBytes, hashFile, readTarGzStream} from './archive';
import {downloadFile} from './download';

export const CIFAR10_CLASSES: string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const TEST_FILE = 'test_batch.bin';
export const META_FILE = 'batches.meta.txt';
export const IMAGE_SIZE = 32;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE; // 1024 per channel plane
export const IMAGE_BYTES = PIXELS * 3;          // 3072
export const RECORD_BYTES = IMAGE_BYTES + 1;    // 3073

/** images: NHWC uint8, `count * 32 * 32 * 3` bytes; labels: `count` class ids 0-9. */
export interface ImageSet { images: Uint8Array; labels: Uint8Array; count: number }

export interface Cifar10 {
  train: ImageSet;
  test: ImageSet;
  classes: string[];
  /** Human-readable provenance, e.g. "CIFAR-10, JPEG-reconstructed copy (/…/cifar-10-batches-bin, SHA256SUMS verified; …)". */
  source: string;
  /** Short label to print next to every reported number: "CIFAR-10", "CIFAR-10, JPEG-reconstructed copy" or "CIFAR-10 (unverified …)". */
  label: string;
  kind: 'archive' | 'folder' | 'reconstructed';
  /** Path of the folder or archive that was read. */
  path: string;
  /** For the reconstructed copy: test records 0..exactTestCount-1 have the exact official pixels (1017). */
  exactTestCount?: number;
}

export interface LoadOptions {
  dir?: string;
  cacheDir?: string;
  download?: boolean;
  url?: string;
  /** Expected MD5 of the archive (default the official one); `false` skips the check (tests only). */
  md5?: string | false;
  onProgress?: (received: number, total: number) => void;
  log?: (msg: string) => void;
  /** Where the shared copy is looked for (default sharedCopyDir()); false skips it (tests). */
  sharedDir?: string | false;
  /** Passed to downloadFile (tests use small values). */
  retries?: number;
  retryDelayMs?: number;
}

/** `opts.cacheDir` ?? env COURSE_CACHE_DIR ?? `$XDG_CACHE_HOME/attention-course` ?? `~/.cache/attention-course`. */
export function defaultCacheDir(): string {
  const env = process.env.COURSE_CACHE_DIR;
  if (env && env.trim() !== '') return resolve(env.trim());
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.trim() !== '' ? resolve(xdg) : join(homedir(), '.cache'), 'attention-course');
}

/** The repository root (folder with the course's package.json). */
export function repoRoot(): string {
  const isRoot = (d: string) => {
    try {
      return JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === 'attention-course';
    } catch {
      return false;
    }
  };
  const starts: string[] = [];
  if (typeof __dirname !== 'undefined') starts.push(__dirname);
  starts.push(process.cwd());
  for (const s of starts) {
    let d = resolve(s);
    for (;;) {
      if (isRoot(d)) return d;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  return process.cwd();
}

/**
 * A path as a committed file (results, notebook outputs) may show it — never an absolute path of
 * the machine: relative to the repository root (`../shared/datasets/…`, `models/…`), or `~/…` for a
 * path in the home directory outside the repository's folder (the download cache).
 */
export function displayPath(p: string, o: {root?: string; home?: string} = {}): string {
  const abs = resolve(p), root = resolve(o.root ?? repoRoot()), home = resolve(o.home ?? homedir());
  const inside = (dir: string, q: string) => { const r = relative(dir, q); return r === '' || (!r.startsWith('..') && !isAbsolute(r)); };
  // the shared folder beside the repository may be a link (a worktree's ../shared): name data in it by that name
  const shared = resolve(root, '..', 'shared');
  const real = (q: string) => { try { return realpathSync(q); } catch { return undefined; } };
  const sharedReal = real(shared), absReal = real(abs);
  if (sharedReal && absReal && sharedReal !== shared && inside(sharedReal, absReal)) {
    return ['..', 'shared', ...relative(sharedReal, absReal).split(sep).filter((x) => x !== '')].join('/');
  }
  const rel = relative(root, abs);
  if (!inside(dirname(root), abs) && inside(home, abs) && home !== sep) return abs === home ? '~' : `~/${relative(home, abs).split(sep).join('/')}`;
  return rel === '' ? '.' : rel.split(sep).join('/');
}

/** `../shared/datasets/cifar-10-batches-bin` relative to the repository root. */
export function sharedCopyDir(): string {
  return resolve(repoRoot(), '..', 'shared', 'datasets', CIFAR10_FOLDER);
}

function recordCount(buf: Uint8Array, name: string): number {
  if (buf.length === 0 || buf.length % RECORD_BYTES !== 0) {
    throw new ArchiveError(`${name}: ${buf.length} bytes is not a whole number of ${RECORD_BYTES}-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)`);
  }
  return buf.length / RECORD_BYTES;
}

/** Decodes records into `set` starting at image `at` (no intermediate copy); returns the count. */
function decodeInto(buf: Uint8Array, name: string, set: ImageSet, at: number): number {
  const count = recordCount(buf, name), {images, labels} = set;
  for (let n = 0; n < count; n++) {
    const src = n * RECORD_BYTES, r = src + 1, g = r + PIXELS, b = g + PIXELS;
    const label = buf[src]!;
    if (label > 9) throw new ArchiveError(`${name}: record ${n} has label ${label}, expected 0-9 (corrupt file?)`);
    labels[at + n] = label;
    let d = (at + n) * IMAGE_BYTES;
    for (let i = 0; i < PIXELS; i++, d += 3) {
      images[d] = buf[r + i]!;
      images[d + 1] = buf[g + i]!;
      images[d + 2] = buf[b + i]!;
    }
  }
  return count;
}

/** Decodes concatenated binary records (label + CHW planes) into NHWC; `name` is used in errors. */
export function decodeRecords(buf: Uint8Array, name: string): ImageSet {
  return decodeFiles([{buf, name}]);
}

/** Decodes several batch files into one set, in order (train = data_batch_1..5). */
export function decodeFiles(files: {buf: Uint8Array; name: string}[]): ImageSet {
  const count = files.reduce((s, f) => s + recordCount(f.buf, f.name), 0);
  const set = {images: new Uint8Array(count * IMAGE_BYTES), labels: new Uint8Array(count), count};
  let at = 0;
  for (const f of files) at += decodeInto(f.buf, f.name, set, at);
  return set;
}

/** Concatenates image sets (train = data_batch_1..5). */
export function concatSets(sets: ImageSet[]): ImageSet {
  const count = sets.reduce((s, x) => s + x.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES), labels = new Uint8Array(count);
  let n = 0;
  for (const s of sets) {
    images.set(s.images.subarray(0, s.count * IMAGE_BYTES), n * IMAGE_BYTES);
    labels.set(s.labels.subarray(0, s.count), n);
    n += s.count;
  }
  return {images, labels, count};
}

function parseMeta(text: string | undefined): string[] {
  if (text === undefined) return CIFAR10_CLASSES.slice();
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length !== 10) throw new ArchiveError(`${META_FILE} lists ${names.length} class names, expected 10`);
  return names;
}

// ---- verification cache: digests keyed on path + device + inode + size + mtime + ctime ----
// ctime (status change time) is set by the kernel on every write and on every utimes() call, so a
// file modified with its mtime restored afterwards (touch -d) gets a new ctime and is re-hashed.
// Re-hashing the six files costs ~0.8 s (SHA-256 of 184 MB); a cache hit costs one stat per file.

interface VerifyEntry { dev: string; ino: string; size: number; mtimeNs: string; ctimeNs: string; algorithm: string; digest: string }
interface VerifyCache { [path: string]: VerifyEntry }
function cacheFile(cacheDir: string) { return join(cacheDir, 'verified.json'); }
function readVerifyCache(cacheDir: string): VerifyCache {
  try {
    return JSON.parse(readFileSync(cacheFile(cacheDir), 'utf8'));
  } catch {
    return {};
  }
}
function writeVerifyCache(cacheDir: string, c: VerifyCache): void {
  try {
    mkdirSync(cacheDir, {recursive: true});
    const tmp = `${cacheFile(cacheDir)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(c, null, 1));
    renameSync(tmp, cacheFile(cacheDir));
  } catch {
    // a read-only cache only costs a re-hash next time
  }
}

function identity(path: string): Omit<VerifyEntry, 'algorithm' | 'digest'> {
  const st = statSync(path, {bigint: true});
  return {dev: String(st.dev), ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs)};
}

/** Digest of a file whose bytes are already in memory, reusing a cached digest if the file's identity (inode, size, mtime, ctime) is unchanged. */
function cachedDigest(path: string, bytes: Uint8Array, algorithm: 'md5' | 'sha256', cache: VerifyCache): string {
  const id = identity(path), key = resolve(path);
  const c = cache[key];
  if (c && c.algorithm === algorithm && c.size === bytes.length && (['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'] as const).every((k) => c[k] === id[k])) return c.digest;
  const digest = hashBytes(bytes, algorithm);
  cache[key] = {...id, algorithm, digest};
  return digest;
}

function readSums(path: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const hit = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/i.exec(line.trim());
    if (hit) m.set(hit[2]!, hit[1]!.toLowerCase());
  }
  return m;
}

/** SHA-256 of the files of the JPEG-reconstructed copy in ../shared/datasets (its SHA256SUMS). */
export const RECONSTRUCTED_SHA256: Record<string, string> = {
  'data_batch_1.bin': 'a3a3700e69c0a2ce00ca882dd11d4b329e24bb53fafd4cfe8c11d7cf76db2988',
  'data_batch_2.bin': 'bc3c714df5f74d0eccca51e159f86e4079a000b4bded6559e90e468c3e3bd61b',
  'data_batch_3.bin': '9c3f63d1770bf55848b6e57be7d5a13b65f7a1c7fbf3d11243314050b7843240',
  'data_batch_4.bin': '7fdd298136e9bc6de891304f315a7f5568b2a61928d9912b0335bb28e1db3319',
  'data_batch_5.bin': '9891ac8f5d1401a28efd4d35bbb1d128d1bf2c228aab3c8ce974a55b6139bb11',
  'test_batch.bin': '226ca9c158f52d5e071bd3f04e2c04a58ff91832526defec75ed85e04d634631',
};
/** Records 0..1016 of every official file: SHA-256 of the first 1017 × 3073 bytes (EXACT-PREFIX-SHA256SUMS). */
export const OFFICIAL_PREFIX_RECORDS = 1017;
export const OFFICIAL_PREFIX_SHA256: Record<string, string> = {
  'data_batch_1.bin': 'ea2c7a46f23371a3f814ce8e198838201147e8e6d1f8a84baa3583ebbec03247',
  'data_batch_2.bin': '57dc4e8db7ddc925938d1f2821ee0b499020fa077bedd98d88e6459c7cacb2ab',
  'data_batch_3.bin': 'be335161c2afa9c985a48c2dec47238b9438dd6686773cc9725a5bfc8217e3f2',
  'data_batch_4.bin': '34046a49d60fa18b42147571ad4e995a81c77fb47b46fef2e0798d19c0a30303',
  'data_batch_5.bin': 'e04d47eac99eb22c5406c696680423d9d7ff080be029363b6c6b947c5165f985',
  'test_batch.bin': 'c77ad46116beb3508f55d38aa34893560beae9515f9aca4a4dd0ea3617ac289e',
};

/** Records per file in the official data (5 training files and the test file). */
export const OFFICIAL_RECORDS_PER_FILE = 10_000;

/** `name: N records` for every file whose count differs from the official 10,000. */
function countProblems(counts: Map<string, number>): string[] {
  return [...counts].filter(([, n]) => n !== OFFICIAL_RECORDS_PER_FILE).map(([f, n]) => `${f} has ${n.toLocaleString('en-US')} records`);
}

async function readChecked(p: string): Promise<Uint8Array> {
  try {
    return await readFile(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new ArchiveError(`cannot read ${p}: permission denied (check the file's permissions)`);
    if (code === 'EISDIR') throw new ArchiveError(`${p} is a folder, not a CIFAR-10 batch file`);
    throw new ArchiveError(`cannot read ${p}: ${(e as Error).message}`);
  }
}

/**
 * Reads an extracted `cifar-10-batches-bin` folder and says what it is. The record count of every
 * file is always checked (10,000 in the official data). Labels:
 * - "CIFAR-10, JPEG-reconstructed copy": the files of the shared reconstruction (RECONSTRUCTED_SHA256,
 *   wherever the folder lives), or a copy whose own SHA256SUMS (folder or parent) verify every file
 *   with EXACT-PREFIX-SHA256SUMS beside it; a SHA256SUMS mismatch is an error;
 * - a copy that claims to be the official data (records 0-1016 of every file equal the official
 *   bytes, OFFICIAL_PREFIX_SHA256) must have 10,000 records per file (else: error, truncated copy);
 *   it is still labelled "CIFAR-10 (unverified copy)": the only full official checksum is the
 *   archive's MD5, so only the archive can earn the label "CIFAR-10";
 * - anything else: "CIFAR-10 (unverified copy)".
 * File digests are cached in the cache dir (see cachedDigest), so a copy is hashed once.
 */
export async function readCifarFolder(dir: string, opts: {cacheDir?: string; log?: (m: string) => void} = {}): Promise<Cifar10> {
  const missing = [...TRAIN_FILES, TEST_FILE].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new ArchiveError(`CIFAR-10 folder ${dir} lacks ${missing.join(', ')} (expected data_batch_1..5.bin and test_batch.bin)`);
  const sumsPath = [join(dir, 'SHA256SUMS'), join(dirname(dir), 'SHA256SUMS')].find((p) => existsSync(p));
  const sums = sumsPath ? readSums(sumsPath) : undefined;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const vcache = readVerifyCache(cacheDir);
  const digests = new Map<string, string>(), prefixOk = new Map<string, boolean>(), counts = new Map<string, number>();
  const sumsChecked = new Set<string>();
  const read = async (f: string): Promise<Uint8Array> => {
    const p = join(dir, f);
    const bytes = await readChecked(p);
    const got = cachedDigest(p, bytes, 'sha256', vcache);
    digests.set(f, got);
    const want = sums?.get(f);
    if (want !== undefined) {
      if (got !== want) throw new ArchiveError(`${p} does not match ${sumsPath}: SHA-256 ${got}, expected ${want} (corrupt or modified copy)`);
      sumsChecked.add(f);
    }
    const prefixLen = OFFICIAL_PREFIX_RECORDS * RECORD_BYTES;
    if (f in OFFICIAL_PREFIX_SHA256) {
      prefixOk.set(f, bytes.length >= prefixLen && hashBytes(bytes.subarray(0, prefixLen), 'sha256') === OFFICIAL_PREFIX_SHA256[f]);
      counts.set(f, recordCount(bytes, p));
    }
    return bytes;
  };
  const trainFiles = await Promise.all(TRAIN_FILES.map(async (name) => ({buf: await read(name), name})));
  const testFile = await read(TEST_FILE);
  const classes = parseMeta(existsSync(join(dir, META_FILE)) ? Buffer.from(await read(META_FILE)).toString() : undefined);
  writeVerifyCache(cacheDir, vcache);
  const bins = [...TRAIN_FILES, TEST_FILE];
  const wrongCounts = countProblems(counts);
  const claimsOfficial = bins.every((f) => prefixOk.get(f));
  if (claimsOfficial && wrongCounts.length > 0) {
    throw new ArchiveError(`CIFAR-10 folder ${dir}: ${wrongCounts.join(', ')}, where the official data has ${OFFICIAL_RECORDS_PER_FILE.toLocaleString('en-US')} per file: a truncated copy (its first records match the official data); copy or extract it again`);
  }
  const train = decodeFiles(trainFiles.map((f) => ({buf: f.buf, name: join(dir, f.name)})));
  const test = decodeRecords(testFile, join(dir, TEST_FILE));
  const prefixSums = join(dirname(dir), 'EXACT-PREFIX-SHA256SUMS');
  const allSummed = bins.every((f) => sumsChecked.has(f));
  let exactTestCount: number | undefined, label: string, note: string;
  if (wrongCounts.length === 0 && bins.every((f) => digests.get(f) === RECONSTRUCTED_SHA256[f])) {
    exactTestCount = OFFICIAL_PREFIX_RECORDS;
    label = 'CIFAR-10, JPEG-reconstructed copy';
    note = `the files of ../shared/datasets (SHA-256 checked); pixels exact for records 0-${exactTestCount - 1} of each file, JPEG-reconstructed after`;
  } else if (wrongCounts.length === 0 && allSummed && existsSync(prefixSums)) {
    const m = /test_batch\.bin records 0\.\.(\d+)/.exec(readFileSync(prefixSums, 'utf8'));
    exactTestCount = m ? Number(m[1]) + 1 : undefined;
    label = 'CIFAR-10, JPEG-reconstructed copy';
    note = `${sumsChecked.size} files SHA256SUMS-verified; pixels exact for records 0-${(exactTestCount ?? 0) - 1} of each file, JPEG-reconstructed after`;
  } else if (claimsOfficial) {
    label = 'CIFAR-10 (unverified copy)';
    note = `records 0-${OFFICIAL_PREFIX_RECORDS - 1} of every file match the official data and every file has ${OFFICIAL_RECORDS_PER_FILE.toLocaleString('en-US')} records, ` +
      `but the rest cannot be verified: the only full official checksum is the MD5 of ${CIFAR10_ARCHIVE}; read that archive instead to report numbers as "CIFAR-10"`;
  } else {
    label = 'CIFAR-10 (unverified copy)';
    note = [wrongCounts.length > 0 ? `${wrongCounts.join(', ')} (CIFAR-10 has ${OFFICIAL_RECORDS_PER_FILE.toLocaleString('en-US')} per file)` : 'does not match the official checksums',
      sumsChecked.size > 0 ? `${sumsChecked.size} files SHA256SUMS-verified` : ''].filter((x) => x !== '').join('; ');
  }
  opts.log?.(`CIFAR-10: read ${dir} (${label}: ${note})`);
  return {train, test, classes, label, kind: exactTestCount !== undefined ? 'reconstructed' : 'folder', path: dir, exactTestCount, source: `${label} (${displayPath(dir)}; ${note})`};
}

/**
 * Reads the official archive `cifar-10-binary.tar.gz` (or a small one in the same layout).
 * `md5`: expected MD5 (default the official one); `false` skips the check.
 */
export async function readCifarArchive(path: string, opts: {md5?: string | false; cacheDir?: string; log?: (m: string) => void} = {}): Promise<Cifar10> {
  const want = opts.md5 === undefined ? CIFAR10_MD5 : opts.md5;
  const wanted = new Set([...TRAIN_FILES, TEST_FILE, META_FILE]);
  let read: {entries: {name: string; data: Uint8Array}[]; md5: string; bytes: number};
  try {
    read = await readTarGzStream(path, (n) => wanted.has(basename(n)));
  } catch (e) { // a wrong checksum explains a broken archive better than the gzip error does (not for a file that is no gzip at all)
    if (want !== false && e instanceof ArchiveError && isGzip(path)) {
      const got = await hashFile(path, 'md5');
      if (got !== want.toLowerCase()) throw md5Error(path, got, want, statSync(path).size);
    }
    throw e;
  }
  if (want !== false && read.md5 !== want.toLowerCase()) throw md5Error(path, read.md5, want, read.bytes);
  const official = want !== false && want.toLowerCase() === CIFAR10_MD5;
  const verified = want === false ? 'MD5 not checked' : official ? 'official MD5 verified' : `MD5 ${want} verified, which is not the official archive's`;
  const entries = new Map<string, Uint8Array>();
  for (const e of read.entries) entries.set(basename(e.name), e.data);
  const missing = [...TRAIN_FILES, TEST_FILE].filter((f) => !entries.has(f));
  if (missing.length > 0) throw new ArchiveError(`${path} lacks ${missing.join(', ')}: not a CIFAR-10 binary archive`);
  const counts = new Map([...TRAIN_FILES, TEST_FILE].map((f) => [f, recordCount(entries.get(f)!, `${path}: ${f}`)]));
  const wrongCounts = countProblems(counts);
  if (official && wrongCounts.length > 0) throw new ArchiveError(`${path}: ${wrongCounts.join(', ')}, expected ${OFFICIAL_RECORDS_PER_FILE} per file`);
  const label = official ? 'CIFAR-10' : 'CIFAR-10 (unverified archive)';
  const note = wrongCounts.length > 0 ? `${verified}; ${wrongCounts.join(', ')} (CIFAR-10 has ${OFFICIAL_RECORDS_PER_FILE.toLocaleString('en-US')} per file)` : verified;
  const train = decodeFiles(TRAIN_FILES.map((name) => ({buf: entries.get(name)!, name})));
  const test = decodeRecords(entries.get(TEST_FILE)!, TEST_FILE);
  const meta = entries.get(META_FILE);
  const classes = parseMeta(meta ? Buffer.from(meta).toString('utf8') : undefined);
  opts.log?.(`CIFAR-10: read ${path} (${note})`);
  return {train, test, classes, label, kind: 'archive', path, source: `${label} (${displayPath(path)}; ${note})`};
}

function isGzip(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(2);
      return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function md5Error(path: string, got: string, want: string, bytes: number): ArchiveError {
  return new ArchiveError(`${path} has MD5 ${got}, expected ${want} (${bytes} bytes: truncated, corrupt or a different file); delete it and download again`);
}

/** Throws a clear error if `dir` (or a folder on the way to it) cannot be listed. */
function checkReadable(dir: string, what: string): void {
  try {
    readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`${what}${dir}: no permission to read this folder (${code}); fix its permissions (chmod a+rx) or point to a readable copy`);
    throw e;
  }
}

/** A folder, a folder containing `cifar-10-batches-bin/` or the archive, or a .tar.gz path. */
function resolveGiven(p: string, what = ''): {folder?: string; archive?: string} | undefined {
  const abs = resolve(p);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`${what}${abs}: no permission to reach it (${code}): a folder on the way cannot be searched`);
    return undefined;
  }
  if (st.isFile()) return {archive: abs};
  checkReadable(abs, what);
  if (existsSync(join(abs, TEST_FILE))) return {folder: abs};
  if (existsSync(join(abs, CIFAR10_FOLDER))) checkReadable(join(abs, CIFAR10_FOLDER), what);
  if (existsSync(join(abs, CIFAR10_FOLDER, TEST_FILE))) return {folder: join(abs, CIFAR10_FOLDER)};
  if (existsSync(join(abs, CIFAR10_ARCHIVE))) return {archive: join(abs, CIFAR10_ARCHIVE)};
  return {};
}

/**
 * The data set loaded last from each source, while it is still in use (a WeakRef: it holds no memory
 * by itself). Re-running a notebook cell `const data = await loadCifar10()` then gets the arrays it
 * already holds instead of a second 184 MB copy next to the first (which doubled the peak and left
 * the process's resident memory ~180 MB higher after every "Run All"). Keyed on the files' identity,
 * so changed files are read again. Treat the returned arrays as read-only.
 */
const inUse = new Map<string, WeakRef<Cifar10>>();

function sourceKey(r: {folder?: string; archive?: string}, md5: string | false | undefined): string {
  const files = r.folder ? [...TRAIN_FILES, TEST_FILE].map(f => join(r.folder!, f)) : [r.archive!];
  return JSON.stringify([md5 ?? null, ...files.map(f => {
    try { const st = statSync(f); return [f, st.dev, st.ino, st.size, st.mtimeMs]; } catch { return [f]; }
  })]);
}

/** Loads CIFAR-10 (train 50,000 + test 10,000), downloading it if needed; see the module comment. */
export async function loadCifar10(opts: LoadOptions = {}): Promise<Cifar10> {
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const read = async (r: {folder?: string; archive?: string}) => {
    const key = opts.log === undefined ? sourceKey(r, opts.md5) : undefined;   // callers that log get a fresh read
    const alive = key === undefined ? undefined : inUse.get(key)?.deref();
    if (alive) return alive;
    const d = await (r.folder ? readCifarFolder(r.folder, {cacheDir, log: opts.log}) : readCifarArchive(r.archive!, {md5: opts.md5, cacheDir, log: opts.log}));
    if (key !== undefined) inUse.set(key, new WeakRef(d));
    return d;
  };
  for (const [what, p] of [['opts.dir', opts.dir], ['CIFAR10_DIR', process.env.CIFAR10_DIR]] as const) {
    if (p === undefined || p.trim() === '') continue;
    const r = resolveGiven(p, `${what} is `);
    if (r === undefined) throw new Error(`${what} is ${p}, which does not exist`);
    if (!r.folder && !r.archive) throw new Error(`${what} is ${p}, which holds neither ${TEST_FILE} nor ${CIFAR10_FOLDER}/ nor ${CIFAR10_ARCHIVE}`);
    return read(r);
  }
  const cached = resolveGiven(cacheDir);
  if (cached && (cached.folder || cached.archive)) return read(cached);
  const shared = opts.sharedDir === false ? '(shared copy skipped)' : opts.sharedDir ?? sharedCopyDir();
  if (opts.sharedDir !== false && existsSync(join(shared, TEST_FILE))) return read({folder: shared});
  const target = join(cacheDir, CIFAR10_ARCHIVE);
  if (opts.download === false) {
    throw new Error(`CIFAR-10 not found (looked at CIFAR10_DIR, ${cacheDir}, ${shared}) and download is off. ` +
      `Download ${opts.url ?? CIFAR10_URL} by hand and put it at ${target}, or set CIFAR10_DIR to an extracted ${CIFAR10_FOLDER} folder.`);
  }
  await downloadFile(opts.url ?? CIFAR10_URL, target, {
    md5: opts.md5 === undefined ? CIFAR10_MD5 : opts.md5, onProgress: opts.onProgress, log: opts.log, retries: opts.retries, retryDelayMs: opts.retryDelayMs,
  });
  return read({archive: target});
}

/**
 * An extracted CIFAR-10 folder that loadCifar10 would read without downloading (CIFAR10_DIR, the
 * cache dir, the shared copy, in that order), or undefined.
 */
export function findCifarFolder(opts: {cacheDir?: string} = {}): string | undefined {
  for (const p of [process.env.CIFAR10_DIR, opts.cacheDir ?? defaultCacheDir(), sharedCopyDir()]) {
    if (p === undefined || p.trim() === '') continue;
    const folder = resolveGiven(p)?.folder;
    if (folder) return folder;
  }
  return undefined;
}

export interface CifarSample { index: number; label: number; className: string; rgb: Uint8Array }

/**
 * The first `perClass` test images of every class (HWC RGB, 3,072 bytes each), sorted by class then
 * index. Reads only the head of test_batch.bin, 100 records at a time (the site's demo samples).
 */
export function firstTestImages(dir: string, perClass = 1): CifarSample[] {
  const metaPath = join(dir, META_FILE);
  const classes = parseMeta(existsSync(metaPath) ? readFileSync(metaPath, 'utf8') : undefined);
  const want = perClass * classes.length, counts = new Array<number>(classes.length).fill(0);
  const out: CifarSample[] = [];
  const chunk = new Uint8Array(100 * RECORD_BYTES);
  const fd = openSync(join(dir, TEST_FILE), 'r');
  try {
    for (let first = 0; out.length < want; first += 100) {
      const n = readSync(fd, chunk, 0, chunk.length, first * RECORD_BYTES);
      if (n < RECORD_BYTES) break;
      const set = decodeRecords(chunk.subarray(0, n - (n % RECORD_BYTES)), TEST_FILE);
      for (let i = 0; i < set.count && out.length < want; i++) {
        const label = set.labels[i]!;
        if (counts[label]! >= perClass) continue;
        counts[label]!++;
        out.push({index: first + i, label, className: classes[label]!, rgb: set.images.slice(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES)});
      }
    }
  } finally {
    closeSync(fd);
  }
  return out.sort((a, b) => a.label - b.label || a.index - b.index);
}

/** The first `n` records of a set (views, no copy); e.g. the exact-pixel test subset. */
export function headOf(set: ImageSet, n: number): ImageSet {
  const k = Math.min(n, set.count);
  return {images: set.images.subarray(0, k * IMAGE_BYTES), labels: set.labels.subarray(0, k), count: k};
}

/** Number of images per class. */
export function classCounts(labels: ArrayLike<number>, numClasses = 10): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]!]!++;
  return c;
}
