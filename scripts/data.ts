/**
 * `npm run data -- [--cache-dir D] [--dir D] [--fetch] [--no-download] [--url U]`
 * Finds (or downloads) CIFAR-10 the way training does, verifies it and prints a summary.
 *   --cache-dir D   cache folder (default: env COURSE_CACHE_DIR, else ~/.cache/attention-course)
 *   --dir D         read this folder / archive instead (like env CIFAR10_DIR)
 *   --fetch         download the official archive into the cache dir even if another copy exists
 *   --no-download   never download; fail with instructions instead
 *   --url U         download from this URL (must serve the official archive: MD5 is checked)
 */
import {existsSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {CIFAR10_ARCHIVE, CIFAR10_MD5, CIFAR10_URL, classCounts, defaultCacheDir, loadCifar10, readCifarArchive, type Cifar10} from '../lib/data/cifar';
import {downloadFile} from '../lib/data/download';
import {downloadProgress} from '../lib/progress';
import {CliSpec, parseCli, runCli} from './cli-args';

export const DATA_CLI = {
  command: 'npm run data --',
  summary: 'Finds (or downloads) CIFAR-10 the way training does, verifies it and prints a summary with the label to report numbers under.',
  options: {
    'cache-dir': {kind: 'string', arg: 'DIR', help: 'cache folder (default: env COURSE_CACHE_DIR, else ~/.cache/attention-course)'},
    'dir': {kind: 'string', arg: 'DIR', help: 'read this folder or archive instead (like env CIFAR10_DIR)'},
    'fetch': {kind: 'boolean', help: 'download the official archive into the cache dir even if another copy exists'},
    'no-download': {kind: 'boolean', help: 'never download; fail with instructions instead'},
    'url': {kind: 'string', arg: 'URL', help: 'download from this URL (must serve the official archive: its MD5 is checked)'},
  },
} as const satisfies CliSpec;

function summary(d: Cifar10, ms: number): void {
  const t = d.test;
  console.log(`source : ${d.source}`);
  console.log(`label  : report numbers as "${d.label}"`);
  console.log(`train  : ${d.train.count} images, per class ${classCounts(d.train.labels).join(' ')}`);
  console.log(`test   : ${t.count} images, per class ${classCounts(t.labels).join(' ')}`);
  if (d.exactTestCount) console.log(`exact  : test records 0-${d.exactTestCount - 1} have the official pixels (exact-pixel subset of ${d.exactTestCount})`);
  console.log(`classes: ${d.classes.join(', ')}`);
  console.log(`check  : test[0] = ${d.classes[t.labels[0]!]} (label ${t.labels[0]}), red ${t.images[0]}, ${t.images[3]}, ${t.images[6]}; train[0] = ${d.classes[d.train.labels[0]!]}`);
  console.log(`loaded in ${(ms / 1000).toFixed(2)} s`);
}

async function main(): Promise<void> {
  const parsed = parseCli(DATA_CLI);
  if (!parsed) return;
  const args = parsed.values;
  const cacheDir = resolve(args['cache-dir'] ?? defaultCacheDir());
  const log = (m: string) => console.error(m);
  const t0 = Date.now();
  if (args.fetch) {
    const target = join(cacheDir, CIFAR10_ARCHIVE);
    if (!existsSync(target)) await downloadFile(args.url ?? CIFAR10_URL, target, {md5: CIFAR10_MD5, onProgress: downloadProgress(), log});
    summary(await readCifarArchive(target, {cacheDir, log}), Date.now() - t0);
    return;
  }
  const d = await loadCifar10({dir: args.dir, cacheDir, download: !args['no-download'], url: args.url, onProgress: downloadProgress(), log});
  summary(d, Date.now() - t0);
}

runCli('data', main);
