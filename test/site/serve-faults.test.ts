/**
 * The site server (`npm start`) under faults, as a classroom sharing one server will produce them:
 * 2,000 downloads cut off by the client against a server started with an open-file limit of 256
 * (the old server leaked one file per cut-off download and died with EMFILE after ~300), an
 * unreadable file and a FIFO in the served folder, other methods than GET/HEAD, byte ranges,
 * compression, revalidation, and symlinks pointing out of the folder.
 * The server runs in its own process (`node --import tsx site/serve.ts DIR`) so its open files can
 * be counted in /proc/<pid>/fd; as root it runs as `nobody` so that a chmod 000 file is unreadable.
 */
import {ChildProcess, spawn, spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {request} from 'node:http';
import {connect, Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {brotliDecompressSync, gunzipSync} from 'node:zlib';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

const ROOT = resolve(__dirname, '../..');
const linux = existsSync('/proc/self/fd');
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const asRoot = process.getuid?.() === 0;
// as root, drop to nobody so that file permissions apply to the server
const dropRoot = asRoot && spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;

let dir: string, outside: string, server: ChildProcess, port = 0;
const BIG = Buffer.alloc(4 << 20, 7);                     // 4 MB: a download that is cut off long before its end
const TEXT = 'attention is all you need\n'.repeat(2000);  // compressible

function get(path: string, opts: {method?: string; headers?: Record<string, string>} = {}): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: Buffer}> {
  return new Promise((ok, fail) => {
    const req = request({host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers}, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks)}));
    });
    req.on('error', fail);
    req.end();
  });
}

/** Starts a download and hangs up after the first bytes arrive. */
function cutOff(path: string): Promise<void> {
  return new Promise((ok, fail) => {
    const s: Socket = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
    s.once('data', () => { s.destroy(); ok(); });
    s.setTimeout(10_000, () => { s.destroy(); fail(new Error(`no answer to GET ${path} within 10 s`)); });
    s.on('error', fail);
  });
}

const openFiles = () => readdirSync(`/proc/${server.pid}/fd`).length;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-faults-'));
  outside = mkdtempSync(join(tmpdir(), 'serve-outside-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>course</title>');
  writeFileSync(join(dir, '404.html'), '<!doctype html><title>not here</title>');
  writeFileSync(join(dir, 'big.bin'), BIG);
  writeFileSync(join(dir, 'text.txt'), TEXT);
  writeFileSync(join(dir, 'locked.js'), 'secret');
  chmodSync(join(dir, 'locked.js'), 0o000);
  spawnSync('mkfifo', [join(dir, 'pipe.js')]);
  mkdirSync(join(dir, 'folder.js'));                        // a directory named like a file, without index.html
  writeFileSync(join(outside, 'secret.txt'), 'outside the site');
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'escape.txt'));
  symlinkSync(outside, join(dir, 'escape-dir'));
  symlinkSync(join(dir, 'text.txt'), join(dir, 'alias.txt'));  // a symlink that stays inside is fine
  const node = [process.execPath, '--import', 'tsx', join(ROOT, 'site/serve.ts'), dir];
  const cmd = [...(hasPrlimit ? ['prlimit', '--nofile=256', '--'] : []), ...(dropRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []), ...node];
  server = spawn(cmd[0]!, cmd.slice(1), {cwd: ROOT, env: {...process.env, PORT: '0'}, stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 60_000);
    const on = (c: Buffer) => {
      out += c.toString();
      const m = /localhost:(\d+)\//.exec(out);
      if (m) { port = Number(m[1]); clearTimeout(t); ok(); }
    };
    server.stdout!.on('data', on);
    server.stderr!.on('data', on);
    server.on('exit', (code) => fail(new Error(`server exited (${code}): ${out}`)));
  });
}, 90_000);

afterAll(() => {
  server?.kill();
  for (const d of [dir, outside]) if (d) rmSync(d, {recursive: true, force: true});
});

describe('site server under faults', () => {
  it.runIf(linux)('keeps its open-file count flat through 2,000 cut-off downloads (limit 256 open files)', async () => {
    if (hasPrlimit) {
      const limits = readFileSync(`/proc/${server.pid}/limits`, 'utf8');
      expect(limits).toMatch(/Max open files\s+256\s/);
    }
    expect((await get('/big.bin')).body.length).toBe(BIG.length);
    const before = openFiles();
    for (let done = 0; done < 2000; done += 50) await Promise.all(Array.from({length: 50}, () => cutOff('/big.bin')));
    let after = openFiles();
    for (let i = 0; i < 50 && after > before + 4; i++) { await new Promise((r) => setTimeout(r, 100)); after = openFiles(); }
    console.log(`open files of the server: ${before} before, ${after} after 2,000 cut-off downloads`);
    expect(after).toBeLessThanOrEqual(before + 4);
    const r = await get('/big.bin');
    expect(r.status).toBe(200);
    expect(r.body.equals(BIG)).toBe(true);
    expect(server.exitCode).toBeNull();
  }, 120_000);

  it.runIf(!asRoot || dropRoot)('answers an unreadable file with an error and keeps serving', async () => {
    const r = await get('/locked.js');
    expect([403, 500]).toContain(r.status);
    expect(r.body.toString()).not.toContain('secret');
    expect((await get('/')).status).toBe(200);
    expect(server.exitCode).toBeNull();
  });

  it('does not hang on a FIFO or serve a directory named like a file', async () => {
    expect((await get('/pipe.js')).status).toBe(404);
    const d = await get('/folder.js');
    expect(d.status).toBe(404);
    expect(d.body.toString()).toContain('not here'); // the site's own 404 page
    expect((await get('/')).status).toBe(200);
  });

  it('refuses other methods than GET and HEAD with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await get('/index.html', {method});
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.body.toString()).not.toContain('<title>course');
    }
    const h = await get('/index.html', {method: 'HEAD'});
    expect(h.status).toBe(200);
    expect(h.body.length).toBe(0);
  });

  it('serves byte ranges', async () => {
    const r = await get('/text.txt', {headers: {range: 'bytes=10-19', 'accept-encoding': 'gzip, br'}});
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 10-19/${TEXT.length}`);
    expect(r.body.toString()).toBe(TEXT.slice(10, 20));
    expect((await get('/text.txt', {headers: {range: `bytes=${TEXT.length + 5}-`}})).status).toBe(416);
  });

  it('compresses text with gzip or brotli and revalidates with ETag and Last-Modified', async () => {
    const gz = await get('/text.txt', {headers: {'accept-encoding': 'gzip'}});
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(TEXT);
    const br = await get('/text.txt', {headers: {'accept-encoding': 'br'}});
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(TEXT);
    expect(br.body.length).toBeLessThan(TEXT.length / 10);
    const plain = await get('/text.txt');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(TEXT);
    const etag = plain.headers.etag as string, lastModified = plain.headers['last-modified'] as string;
    expect(etag).toBeTruthy();
    expect((await get('/text.txt', {headers: {'if-none-match': etag}})).status).toBe(304);
    expect((await get('/text.txt', {headers: {'if-modified-since': lastModified}})).status).toBe(304);
  });

  it('does not follow symlinks out of the folder', async () => {
    for (const p of ['/escape.txt', '/escape-dir/secret.txt', '/escape-dir/']) {
      const r = await get(p);
      expect(r.status, p).toBe(403);
      expect(r.body.toString()).not.toContain('outside the site');
    }
    expect((await get('/alias.txt')).body.toString()).toBe(TEXT);
    for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd']) expect([400, 403, 404], p).toContain((await get(p)).status);
  });
});
