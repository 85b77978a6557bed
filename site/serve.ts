/**
 * Serves the built site on localhost with correct MIME types (.wasm included).
 * Usage: `npm run serve [-- DIR]` (default build/site); PORT=8000 by default, PORT=0 picks a free port.
 */
import {createReadStream, existsSync, statSync} from 'node:fs';
import {createServer, Server} from 'node:http';
import {AddressInfo} from 'node:net';
import {extname, join, normalize, resolve, sep} from 'node:path';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.ipynb': 'application/x-ipynb+json',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.gif': 'image/gif', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8', '.map': 'application/json', '.safetensors': 'application/octet-stream',
};

export function createSiteServer(dir: string): Server {
  const root = resolve(dir);
  return createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) { res.writeHead(403).end('forbidden'); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      const nf = join(root, '404.html');
      res.writeHead(404, {'content-type': MIME['.html']!});
      if (existsSync(nf)) createReadStream(nf).pipe(res); else res.end('not found');
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, {'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache'});
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
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
  const dir = resolve(process.argv[2] ?? join(__dirname, '..', 'build', 'site'));
  if (!existsSync(join(dir, 'index.html'))) {
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
