/**
 * Resumable, verified download of one file — Chapter 4 §4.1 (used for cifar-10-binary.tar.gz).
 *
 * - Writes to `<dest>.part`, verifies the MD5, then renames to `dest` (atomic: `dest` is either
 *   absent or complete and verified).
 * - After an interruption the `.part` file is kept; the next attempt (automatic retries, or the
 *   next run) asks for the rest with an HTTP `Range` request. A server that ignores Range (200)
 *   or answers with a different range makes it restart from byte 0.
 * - Clear errors (DownloadError.kind): 'network' (no connection: says where to put the file by
 *   hand), 'http' (status), 'interrupted' (kept for resuming), 'checksum' (file deleted).
 */
import {createHash} from 'node:crypto';
import {createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, unlinkSync} from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import {dirname} from 'node:path';

export type DownloadErrorKind = 'network' | 'http' | 'interrupted' | 'checksum';

export class DownloadError extends Error {
  constructor(message: string, readonly kind: DownloadErrorKind) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  /** Expected MD5 (hex) of the whole file; false/undefined skips the check. */
  md5?: string | false;
  /** Called as bytes arrive; `total` is 0 when the server sends no length. */
  onProgress?: (received: number, total: number) => void;
  log?: (msg: string) => void;
  /** Extra attempts after an interruption or network error (default 3). */
  retries?: number;
  /** Wait before retry k: retryDelayMs · 2^k (default 1000). */
  retryDelayMs?: number;
  /** Socket inactivity timeout (default 30 s). */
  timeoutMs?: number;
}

export interface DownloadResult { path: string; bytes: number; md5: string; resumedFrom: number; attempts: number }

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ENETDOWN', 'ESOCKETTIMEDOUT', 'ECONNABORTED']);

function fileSize(p: string): number {
  return existsSync(p) ? statSync(p).size : 0;
}

function md5File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(path, {highWaterMark: 1 << 20}).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

function get(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, {headers: {'user-agent': 'attention-course', ...headers}}, (res) => {
      const loc = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && loc) {
        res.resume();
        if (redirects <= 0) return reject(new DownloadError(`too many redirects fetching ${url}`, 'http'));
        return resolve(get(new URL(loc, url).toString(), headers, timeoutMs, redirects - 1));
      }
      resolve(res);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), {code: 'ETIMEDOUT'})));
    req.on('error', reject);
  });
}

/** One attempt: appends to `part` (or restarts it); resolves when the body is complete. */
async function attempt(url: string, part: string, opts: DownloadOptions, log: (m: string) => void): Promise<{from: number}> {
  let from = fileSize(part);
  const res = await get(url, from > 0 ? {range: `bytes=${from}-`} : {}, opts.timeoutMs ?? 30_000);
  const status = res.statusCode ?? 0;
  if (status === 416 && from > 0) { // we already have everything (or more): let the checksum decide
    res.resume();
    return {from};
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new DownloadError(`${url} answered HTTP ${status} ${res.statusMessage ?? ''}`.trim(), 'http');
  }
  if (from > 0 && status === 206) {
    const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== from) {
      res.resume();
      log(`server answered range "${res.headers['content-range']}" instead of bytes=${from}-: restarting`);
      unlinkSync(part);
      return attempt(url, part, opts, log);
    }
    log(`resuming at byte ${from}`);
  } else if (from > 0) {
    log(`server ignored the Range request (HTTP ${status}): restarting from byte 0`);
    from = 0;
  }
  const length = Number(res.headers['content-length'] ?? NaN);
  const total = Number.isFinite(length) ? from + length : 0;
  let received = from;
  const out = createWriteStream(part, {flags: from > 0 ? 'a' : 'w'});
  opts.onProgress?.(received, total);
  await new Promise<void>((resolve, reject) => {
    let failed: Error | undefined;
    res.on('data', (c: Buffer) => { received += c.length; opts.onProgress?.(received, total); });
    res.on('aborted', () => { failed = failed ?? new Error('connection closed by the server'); });
    res.on('error', (e) => { failed = failed ?? e; });
    res.pipe(out);
    out.on('error', reject);
    out.on('close', () => {
      if (!failed && total > 0 && received < total) failed = new Error('connection closed early');
      if (failed) reject(new DownloadError(`download of ${url} interrupted after ${received} of ${total || '?'} bytes (${failed.message}); partial file kept at ${part}`, 'interrupted'));
      else resolve();
    });
    res.on('close', () => { if (!res.complete) { failed = failed ?? new Error('connection closed early'); out.end(); } });
  });
  return {from};
}

/** Downloads `url` to `dest` (see the module comment). */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const log = opts.log ?? (() => {});
  const retries = opts.retries ?? 3, delay = opts.retryDelayMs ?? 1000;
  const part = `${dest}.part`;
  try {
    mkdirSync(dirname(dest), {recursive: true});
  } catch (e) {
    throw new Error(`cannot create the cache folder ${dirname(dest)}: ${(e as Error).message}; pick another with --cache-dir or COURSE_CACHE_DIR`);
  }
  const byHand = `Download ${url} by hand (e.g. in a browser) and put it at ${dest}`;
  let resumedFrom = 0, attempts = 0;
  for (;;) {
    attempts++;
    try {
      log(`downloading ${url} -> ${dest}${attempts > 1 ? ` (attempt ${attempts})` : ''}`);
      const r = await attempt(url, part, opts, log);
      if (r.from > 0) resumedFrom = r.from;
      break;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const network = err.code !== undefined && NETWORK_CODES.has(err.code);
      // an unknown host will not appear by waiting: fail at once instead of after the back-off
      const retriable = (network && err.code !== 'ENOTFOUND') || (e instanceof DownloadError && e.kind === 'interrupted');
      if (!retriable || attempts > retries) {
        if (e instanceof DownloadError) throw e.kind === 'interrupted' ? new DownloadError(`${e.message}. Run again to resume, or: ${byHand}`, e.kind) : e;
        if (network) throw new DownloadError(`cannot download ${url}: ${err.code} (${err.message}) — no network? ${byHand}, or set CIFAR10_DIR to an extracted cifar-10-batches-bin folder.`, 'network');
        throw e;
      }
      log(`${err.code ?? ''} ${err.message}: retrying in ${delay * 2 ** (attempts - 1)} ms`);
      await new Promise((r) => setTimeout(r, delay * 2 ** (attempts - 1)));
    }
  }
  const bytes = fileSize(part);
  const md5 = await md5File(part);
  if (opts.md5 && md5 !== opts.md5.toLowerCase()) {
    unlinkSync(part);
    throw new DownloadError(`checksum mismatch for ${url}: MD5 ${md5}, expected ${opts.md5} (${bytes} bytes; truncated or corrupt download, deleted). Run again, or: ${byHand}`, 'checksum');
  }
  renameSync(part, dest);
  log(`saved ${dest} (${bytes} bytes${opts.md5 ? ', MD5 verified' : ''})`);
  return {path: dest, bytes, md5, resumedFrom, attempts};
}
