/**
 * A minimal PNG encoder (RGB or RGBA, 8 bit, no interlace) on node:zlib, and the CIFAR-10
 * test-set reader that the site uses to export sample images for the ViT demo.
 */
import {closeSync, existsSync, openSync, readFileSync, readSync} from 'node:fs';
import {join} from 'node:path';
import {deflateSync} from 'node:zlib';
import {crc32 as crc32Raw} from '../lib/viz/vit';

/** The standard (finalised) CRC-32 of PNG chunks; the table loop is lib/viz/vit.ts's. */
export function crc32(bytes: Uint8Array): number {
  return (crc32Raw(bytes) ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode interleaved pixels (row-major, `channels` = 3 RGB or 4 RGBA, values 0..255) as PNG. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): Buffer {
  if (pixels.length !== width * height * channels) {
    throw new Error(`encodePng: expected ${width}x${height}x${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;                          // bit depth
  ihdr[9] = channels === 4 ? 6 : 2;     // colour type RGBA / RGB
  ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, {level: 9})), chunk('IEND', new Uint8Array(0)),
  ]);
}

export interface CifarSample { index: number; label: number; className: string; rgb: Uint8Array }

const RECORD = 1 + 3072;

/** Where the CIFAR-10 binary batches are: $CIFAR10_DIR, ../shared/datasets, data/ — or undefined. */
export function findCifarDir(root: string): string | undefined {
  const candidates = [process.env.CIFAR10_DIR, join(root, '../shared/datasets/cifar-10-batches-bin'),
    join(root, 'data/cifar-10-batches-bin'), '/work/shared/datasets/cifar-10-batches-bin'];
  return candidates.find(d => d && existsSync(join(d, 'test_batch.bin')));
}

/**
 * The first `perClass` test images of every class (record = 1 label byte + 1024 R + 1024 G +
 * 1024 B), converted to interleaved RGB. Reads only the head of test_batch.bin.
 */
export function readCifarSamples(dir: string, perClass = 1): CifarSample[] {
  const names = readFileSync(join(dir, 'batches.meta.txt'), 'utf8').split('\n').map(s => s.trim()).filter(Boolean);
  const fd = openSync(join(dir, 'test_batch.bin'), 'r');
  const out: CifarSample[] = [];
  const counts = new Array(names.length).fill(0);
  const rec = Buffer.alloc(RECORD);
  try {
    for (let i = 0; i < 10000 && out.length < perClass * names.length; i++) {
      if (readSync(fd, rec, 0, RECORD, i * RECORD) !== RECORD) break;
      const label = rec[0]!;
      if (counts[label] >= perClass) continue;
      counts[label]++;
      const rgb = new Uint8Array(3072);
      for (let p = 0; p < 1024; p++) {
        rgb[p * 3] = rec[1 + p]!;
        rgb[p * 3 + 1] = rec[1 + 1024 + p]!;
        rgb[p * 3 + 2] = rec[1 + 2048 + p]!;
      }
      out.push({index: i, label, className: names[label] ?? `class ${label}`, rgb});
    }
  } finally {
    closeSync(fd);
  }
  return out.sort((a, b) => a.label - b.label || a.index - b.index);
}
