/**
 * lib/data/cifar.ts in the browser runner: the same module, except where the data comes from.
 * The site serves a compact subset of CIFAR-10 (runner/cifar10/: the first training and test
 * images, in the official binary record layout), fetched when a cell calls loadCifar10; its label
 * says it is a subset. The repository root is the runner's virtual /course folder (shims/fs.ts).
 */
import {ArchiveError} from '../../../lib/data/archive';
import {CIFAR10_CLASSES, Cifar10, decodeRecords, LoadOptions} from '../../../lib/data/cifar';

export * from '../../../lib/data/cifar';

interface SubsetInfo { train: string; test: string; trainCount: number; testCount: number; label: string; source: string }

export function repoRoot(): string { return '/course'; }
export function findCifarFolder(): string | undefined { return undefined; }
export function sharedCopyDir(): string { return '/course/../shared/datasets/cifar-10-batches-bin'; }
export function defaultCacheDir(): string { return '/course/.cache'; }

let loaded: Promise<Cifar10> | undefined;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new ArchiveError(`CIFAR-10 subset: HTTP ${r.status} for ${url}`);
  return new Uint8Array(await r.arrayBuffer());
}

export async function loadCifar10(opts: LoadOptions = {}): Promise<Cifar10> {
  if (opts.dir !== undefined) throw new Error('loadCifar10({dir}) reads a folder on disk: in the browser the site serves its CIFAR-10 subset (call loadCifar10() without dir)');
  const base = (globalThis as {__courseFiles?: {base: string}}).__courseFiles?.base ?? '';
  loaded ??= (async () => {
    const r = await fetch(`${base}runner/cifar10/subset.json`);
    if (!r.ok) throw new Error(`CIFAR-10 is not served by this build of the site (runner/cifar10/subset.json: HTTP ${r.status}); it is built where the data set is (npm run build:site with CIFAR10_DIR set)`);
    const info = await r.json() as SubsetInfo;
    const [train, test] = await Promise.all([fetchBytes(base + info.train), fetchBytes(base + info.test)]);
    opts.log?.(`CIFAR-10: read the site's subset (${info.source})`);
    return {train: decodeRecords(train, 'train subset'), test: decodeRecords(test, 'test subset'), classes: [...CIFAR10_CLASSES],
      label: info.label, source: info.source, kind: 'folder', path: `${base}runner/cifar10/`};
  })();
  try {
    return await loaded;
  } catch (e) {
    loaded = undefined;
    throw e;
  }
}
