/**
 * Serves the built site on localhost (`npm start`): correct MIME types (.wasm included),
 * gzip/brotli compression, ETag/Last-Modified revalidation and byte ranges.
 * Usage: `npm start [-- DIR]` (default build/site); PORT=8000 by default, PORT=0 picks a free port.
 *
 * The file serving itself is `send` (the engine of express.static: Range, conditional GET, and
 * the file stream is destroyed when the client hangs up or a read fails) and `compression`
 * (express' compression middleware: br, gzip, deflate). What is checked here, before `send`:
 * only GET and HEAD (405 otherwise), the path stays inside the folder after resolving symlinks,
 * and only regular files are served (a FIFO or device would block a thread reading it).
 */
import {realpathSync, statSync} from 'node:fs';
import {createServer, IncomingMessage, Server, ServerResponse} from 'node:http';
import {AddressInfo} from 'node:net';
import {extname, join, resolve, sep} from 'node:path';
import compression from 'compression';
import send from 'send';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.ipynb': 'application/x-ipynb+json',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.gif': 'image/gif', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8', '.map': 'application/json', '.safetensors': 'application/octet-stream',
};

type Found = {file: string} | {status: number};

/** The regular file a URL path names inside `root` (a real path), after symlinks; or the status to answer. */
function locate(root: string, urlPath: string): Found {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return {status: 400};
  }
  if (decoded.includes('\0')) return {status: 400};
  const lexical = resolve(root, '.' + (decoded.startsWith('/') ? decoded : '/' + decoded));
  if (lexical !== root && !lexical.startsWith(root + sep)) return {status: 403};
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  try {
    let real = realpathSync(lexical);
    if (!inside(real)) return {status: 403}; // a symlink pointing out of the site
    let st = statSync(real);
    if (st.isDirectory()) {
      real = realpathSync(join(real, 'index.html'));
      if (!inside(real)) return {status: 403};
      st = statSync(real);
    }
    return st.isFile() ? {file: real} : {status: 404};
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {status: code === 'EACCES' || code === 'EPERM' ? 403 : 404};
  }
}

function statSafe(file: string): number | string {
  try { return statSync(file).size; } catch { return '*'; }
}

function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) { res.destroy(); return; }
  for (const h of res.getHeaderNames()) res.removeHeader(h); // send's headers describe the file, not this answer
  res.writeHead(status, {'content-type': 'text/plain; charset=utf-8', ...headers}).end(body + '\n');
}

const REASON: Record<number, string> = {400: 'bad request', 403: 'forbidden', 404: 'not found', 405: 'method not allowed', 500: 'cannot read the file'};

export function createSiteServer(dir: string): Server {
  const root = realpathSync(resolve(dir));
  const compress = compression({
    // ranges are byte offsets into the file as stored, so a partial response is never compressed
    filter: (req, res) => !req.headers.range && compression.filter(req, res),
  });
  const respond = (req: IncomingMessage, res: ServerResponse, found: Found, status = 200): void => {
    if ('status' in found) {
      if (found.status === 404 && status === 200) {
        const nf = locate(root, '/404.html');
        if ('file' in nf) { respond(req, res, nf, 404); return; }
      }
      plain(res, found.status, REASON[found.status] ?? 'error');
      return;
    }
    res.statusCode = status;
    res.setHeader('content-type', MIME[extname(found.file).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('cache-control', 'no-cache'); // always revalidate (ETag / Last-Modified make that a 304)
    send(req, found.file, {dotfiles: 'allow', index: false, cacheControl: false, acceptRanges: status === 200, etag: status === 200, lastModified: status === 200})
      .on('error', (e: {status?: number}) => {
        const s = e.status !== undefined && e.status >= 400 && e.status < 500 ? e.status : 500; // 404 (vanished), 416 (range), 412
        plain(res, s, REASON[s] ?? 'request not satisfiable', s === 416 ? {'content-range': `bytes */${statSafe(found.file)}`} : {});
      })
      .pipe(res);
  };
  return createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, REASON[405]!, {allow: 'GET, HEAD'});
      return;
    }
    let urlPath: string;
    try {
      urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      plain(res, 400, REASON[400]!);
      return;
    }
    compress(req as never, res as never, () => respond(req, res, locate(root, urlPath)));
  });
}

/** Starts the server; resolves with the URL once listening. */
export function serve(dir: string, port: number, host = '127.0.0.1'): Promise<{server: Server; url: string}> {
  const server = createSiteServer(dir);
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      ok({server, url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${a.port}/`});
    });
  });
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h') || args.length > 1) {
    console.log('usage: npm start [-- DIR]   serves DIR (default build/site) at http://localhost:$PORT/ (PORT=8000; PORT=0 picks a free port)');
    process.exit(args.length > 1 ? 2 : 0);
  }
  const dir = resolve(args[0] ?? join(__dirname, '..', 'build', 'site'));
  let ok = false;
  try { ok = statSync(join(dir, 'index.html')).isFile(); } catch { /* reported below */ }
  if (!ok) {
    console.error(`serve: no built site in ${dir} (run npm run build:site first)`);
    process.exit(1);
  }
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 8000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) { console.error(`serve: PORT must be 0..65535 (got ${process.env.PORT})`); process.exit(1); }
  serve(dir, port).then(({url}) => {
    console.log(`Serving the course site at ${url}  (Ctrl-C to stop)`);
  }, (e: NodeJS.ErrnoException) => {
    console.error(e.code === 'EADDRINUSE' ? `serve: port ${port} is in use; try PORT=0 (any free port) or another PORT` : `serve: ${e.message}`);
    process.exit(1);
  });
}
