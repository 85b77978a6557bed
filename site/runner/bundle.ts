/**
 * Builds the browser runner into a site folder (called by site/build.ts unless run mode is off):
 *   assets/runner/kernel.js (+ chunks)  the kernel worker: lib/ + display/ + tfjs + vega for the
 *                                        browser (esbuild), TypeScript in a chunk loaded at the first run
 *   assets/runner/page.js, runner.css    run mode on a chapter page (loaded when the reader asks)
 *   runner/files.json + runner/files/    the data API: repository files the chapters read (DATA_FILES)
 *   runner/cifar10/                      a compact CIFAR-10 subset, when the data set is on this machine
 * Node-only modules are replaced for the browser (SHIMS); Node's built-in modules other than fs, path
 * and buffer (the `buffer` package) become stubs whose functions throw an error that names them.
 */
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {builtinModules} from 'node:module';
import {dirname, join, relative, resolve} from 'node:path';
import * as esbuild from 'esbuild';
import {CIFAR10_FOLDER, findCifarFolder, RECORD_BYTES, TEST_FILE, TRAIN_FILES} from '../../lib/data/cifar';

const HERE = __dirname;

/** Repository module → its browser replacement (the replacement may import the original). */
export const SHIMS: Record<string, string> = {
  'lib/backend.ts': 'site/runner/shims/backend.ts',
  'lib/core/native-kernels.ts': 'site/runner/shims/native-kernels.ts',
  'lib/esm.cjs': 'site/runner/shims/esm.ts',
  'lib/data/cifar.ts': 'site/runner/shims/cifar.ts',
  'display/bundle.ts': 'site/runner/shims/bundle.ts',
};

/** lib modules that cannot run in a browser at all (a cell importing one gets an error that says so). */
export const NODE_ONLY = ['lib/core/native-kernels', 'lib/core/wasm-threads'];

/**
 * The data API: repository files the site serves to the runner's `fs` (read-only, fetched on
 * demand). Folders are served whole; a chapter that reads another file gets ENOENT naming this list.
 */
export const DATA_FILES = ['models', 'test/golden', 'site/full-runs/run-times.json', 'package.json'];

/** Images of the served CIFAR-10 subset: the first of the training set and of the test set. */
export const CIFAR_SUBSET = {train: 2000, test: 1000};

function walk(dir: string, keep: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return keep(dir) ? [dir] : [];
  return readdirSync(dir, {withFileTypes: true}).flatMap(e => e.isDirectory() ? walk(join(dir, e.name), keep) : keep(e.name) ? [join(dir, e.name)] : []).sort();
}

/** The modules a cell can import: every lib/ and display/ TypeScript module (keys without .ts). */
export function registryModules(root: string): string[] {
  const rel = (f: string) => relative(root, f).split('\\').join('/');
  return [...walk(join(root, 'lib'), f => f.endsWith('.ts') && !f.endsWith('.d.ts')), ...walk(join(root, 'display'), f => f.endsWith('.ts'))]
    .map(rel).filter(f => !NODE_ONLY.includes(f.replace(/\.ts$/, '')));
}

function registrySource(root: string): string {
  const mods = registryModules(root);
  const lines = mods.map((m, i) => `import * as m${i} from ${JSON.stringify(join(root, m))};`);
  lines.push(`import * as fs from ${JSON.stringify(join(HERE, 'shims/fs.ts'))};`, `import * as path from ${JSON.stringify(join(HERE, 'shims/path.ts'))};`);
  lines.push(`export const modules = {${[...mods.map((m, i) => `${JSON.stringify(m.replace(/\.ts$/, ''))}: m${i}`), 'fs', 'path'].join(', ')}};`);
  lines.push(`export const nodeOnly = ${JSON.stringify(NODE_ONLY)};`);
  return lines.join('\n');
}

/** esbuild plugin: the module registry, the shims, and stubs for Node's built-in modules. */
function coursePlugin(root: string): esbuild.Plugin {
  const shimOf = new Map(Object.entries(SHIMS).map(([from, to]) => [resolve(root, from), resolve(root, to)]));
  const shimFiles = new Set(shimOf.values());
  const builtins = new Set(builtinModules.flatMap(m => [m, `node:${m}`]));
  return {
    name: 'course-browser',
    setup(b) {
      b.onResolve({filter: /^course:registry$/}, () => ({path: 'registry', namespace: 'course'}));
      b.onLoad({filter: /.*/, namespace: 'course'}, () => ({contents: registrySource(root), resolveDir: root, loader: 'ts'}));
      b.onResolve({filter: /^(node:)?(fs|path)$/}, a => ({path: join(HERE, 'shims', `${a.path.replace(/^node:/, '')}.ts`)}));
      b.onResolve({filter: /^(node:)?buffer$/}, () => ({path: require.resolve('buffer/')}));
      b.onResolve({filter: /^[\w:./-]+$/}, a => builtins.has(a.path) ? {path: a.path.replace(/^node:/, ''), namespace: 'node-stub'} : undefined);
      b.onLoad({filter: /.*/, namespace: 'node-stub'}, a => {
        // every export of the real Node module, as a function that throws an error naming it
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const names = Object.keys(require(a.path)).filter(k => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
        const fail = `function fail(n) { return function () { throw new Error('${a.path}.' + n + ' is Node-only: not available in the browser runner'); }; }`;
        return {contents: `${fail}\n${names.map(n => `export const ${n} = fail(${JSON.stringify(n)});`).join('\n')}\nexport default {${names.join(', ')}};`, loader: 'js'};
      });
      // a repository module with a browser replacement (not when the replacement imports the original)
      b.onResolve({filter: /^[./]/}, a => {
        if (shimFiles.has(a.importer)) return undefined;
        const base = resolve(a.resolveDir, a.path);
        for (const cand of [base, `${base}.ts`, join(base, 'index.ts')]) {
          const shim = shimOf.get(cand);
          if (shim) return {path: shim};
        }
        return undefined;
      });
    },
  };
}

export interface RunnerBuild { bytes: number; files: number; cifar?: {train: number; test: number}; seconds: number }

/** Bundles the runner and its data into `out` (the site folder). */
export async function buildRunner(root: string, out: string, log: (s: string) => void = () => {}): Promise<RunnerBuild> {
  const t0 = performance.now();
  const assets = join(out, 'assets/runner');
  const r = await esbuild.build({
    entryPoints: {kernel: join(HERE, 'kernel.ts')},
    bundle: true, format: 'esm', splitting: true, platform: 'browser', target: 'es2022', minify: true,
    outdir: assets, chunkNames: 'chunk-[hash]', inject: [join(HERE, 'shims/process.ts')],
    define: {global: 'globalThis'}, plugins: [coursePlugin(root)], logLevel: 'silent', metafile: true,
    legalComments: 'none',
  });
  for (const w of r.warnings.slice(0, 5)) log(`runner bundle: ${w.text}`);
  copyFileSync(join(HERE, 'page.js'), join(assets, 'page.js'));
  copyFileSync(join(HERE, 'runner.css'), join(assets, 'runner.css'));
  // the data API
  const files: Record<string, {url: string; size: number}> = {};
  for (const entry of DATA_FILES) {
    for (const f of walk(join(root, entry), () => true)) {
      const rel = relative(root, f).split('\\').join('/');
      const url = `runner/files/${rel}`;
      mkdirSync(dirname(join(out, url)), {recursive: true});
      copyFileSync(f, join(out, url));
      files[rel] = {url, size: statSync(f).size};
    }
  }
  mkdirSync(join(out, 'runner'), {recursive: true});
  writeFileSync(join(out, 'runner/files.json'), JSON.stringify({files}));
  const cifar = writeCifarSubset(out, log);
  const bytes = Object.values(r.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
  return {bytes, files: Object.keys(files).length, cifar, seconds: (performance.now() - t0) / 1000};
}

/** The first CIFAR_SUBSET images of the training and the test set, as binary records. */
function writeCifarSubset(out: string, log: (s: string) => void): {train: number; test: number} | undefined {
  const dir = findCifarFolder();
  if (!dir) { log(`runner: no CIFAR-10 on this machine (${CIFAR10_FOLDER}): chapters 3 and 4 cannot load it in the browser`); return undefined; }
  const take = (files: string[], n: number) => {
    const parts: Buffer[] = [];
    let left = n;
    for (const f of files) {
      if (left <= 0) break;
      const buf = readFileSync(join(dir, f));
      const k = Math.min(left, buf.length / RECORD_BYTES);
      parts.push(buf.subarray(0, k * RECORD_BYTES));
      left -= k;
    }
    return Buffer.concat(parts);
  };
  const train = take(TRAIN_FILES, CIFAR_SUBSET.train), test = take([TEST_FILE], CIFAR_SUBSET.test);
  const d = join(out, 'runner/cifar10');
  mkdirSync(d, {recursive: true});
  writeFileSync(join(d, 'train.bin'), train);
  writeFileSync(join(d, 'test.bin'), test);
  const nTrain = train.length / RECORD_BYTES, nTest = test.length / RECORD_BYTES;
  const label = `CIFAR-10 subset for the browser (first ${nTrain.toLocaleString('en-US')} training and ${nTest.toLocaleString('en-US')} test images)`;
  writeFileSync(join(d, 'subset.json'), JSON.stringify({train: 'runner/cifar10/train.bin', test: 'runner/cifar10/test.bin', trainCount: nTrain, testCount: nTest,
    label, source: `${label}, served by the site from the copy the site was built with; numbers differ from the chapter's run on the full data set`}));
  return {train: nTrain, test: nTest};
}
