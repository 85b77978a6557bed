/** Tiny CIFAR-10-format data for tests: a few records per file, as a folder or a .tar.gz. */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {makeTar} from '../../lib/data/archive';
import {CIFAR10_CLASSES, TEST_FILE, TRAIN_FILES} from '../../lib/data/cifar';

/** Pixel value of channel c at (y, x) of record n of file f: distinct per plane and position. */
export function pixel(f: number, n: number, c: number, y: number, x: number): number {
  return (f * 31 + n * 17 + c * 85 + y * 3 + x * 5) % 256;
}

/** `count` records in the official layout: label byte, then R, G, B planes (32×32 row-major). */
export function makeRecords(f: number, count: number): Uint8Array {
  const buf = new Uint8Array(count * 3073);
  for (let n = 0; n < count; n++) {
    buf[n * 3073] = (n + f) % 10;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) buf[n * 3073 + 1 + c * 1024 + y * 32 + x] = pixel(f, n, c, y, x);
  }
  return buf;
}

/** Files of a tiny data set: data_batch_k has `perFile` records (file index k-1), test_batch is file 5. */
export function tinyFiles(perFile = 3): {name: string; data: Uint8Array}[] {
  return [
    ...TRAIN_FILES.map((name, f) => ({name, data: makeRecords(f, perFile)})),
    {name: TEST_FILE, data: makeRecords(5, perFile)},
    {name: 'batches.meta.txt', data: new Uint8Array(Buffer.from(CIFAR10_CLASSES.join('\n') + '\n\n'))},
  ];
}

export function writeTinyFolder(dir: string, perFile = 3): string {
  mkdirSync(dir, {recursive: true});
  for (const f of tinyFiles(perFile)) writeFileSync(join(dir, f.name), f.data);
  return dir;
}

/** The official archive layout (`cifar-10-batches-bin/<file>`), gzipped. */
export function tinyTarGz(perFile = 3): Uint8Array {
  return new Uint8Array(gzipSync(makeTar(tinyFiles(perFile).map((f) => ({name: `cifar-10-batches-bin/${f.name}`, data: f.data})))));
}
