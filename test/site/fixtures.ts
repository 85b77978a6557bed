/** Fixtures for the site tests: a notebook with every output kind, and a tiny random ViT checkpoint. */
import {existsSync, mkdirSync, rmSync, writeFileSync} from 'node:fs';
import type {Server} from 'node:http';
import {join, resolve} from 'node:path';
/// <reference path="../../lib/types/fast-png.d.ts" />
import {decode} from 'fast-png';
import {encodePng} from '../../lib/viz/vit';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const SHOTS = join(resolve(__dirname, '../..'), 'build/screenshots');

/** Headless Debian Chromium for the browser tests (undefined when it is not installed). */
export async function launchChromium(): Promise<any> {
  mkdirSync(SHOTS, {recursive: true});
  if (!hasChromium) return undefined;
  const {chromium} = await import('playwright-core');
  return chromium.launch({executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']});
}

/** Closes what a browser test's beforeAll opened: the browser, the site server, the temp folder. */
export async function stopSite(browser: any, server: Server | undefined, tmp: string | undefined): Promise<void> {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise(r => server ? server.close(r) : r(undefined));
  if (tmp) rmSync(tmp, {recursive: true, force: true});
}

const code = (source: string, outputs: unknown[], n: number) => ({cell_type: 'code', execution_count: n, metadata: {}, source, outputs});
const md = (source: string) => ({cell_type: 'markdown', metadata: {}, source});

export const FIXTURE_CHART = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: 'weights', width: 240, height: 120,
  data: {values: [{k: 'a', w: 0.66}, {k: 'b', w: 0.24}, {k: 'c', w: 0.1}]},
  mark: 'bar', encoding: {x: {field: 'k', type: 'nominal'}, y: {field: 'w', type: 'quantitative'}},
};

/** A 2×2 red/green/blue/white PNG as base64. */
export function tinyPngBase64(): string {
  return Buffer.from(encodePng({width: 2, height: 2, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])})).toString('base64');
}

export function outputKindsNotebook(): unknown {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#3b5bdb"/></svg>';
  return {
    nbformat: 4, nbformat_minor: 5,
    metadata: {kernelspec: {name: 'tslab-course', display_name: 'TypeScript (course)', language: 'typescript'}, course: {execution_seconds: 1.5}},
    cells: [
      md('# Chapter 5 — Every output kind\n\nA fixture for the site tests: math $\\alpha_j = \\frac{e^{r_j}}{\\sum_k e^{r_k}}$ inline, costs of $5 and $6 stay text.\n\n$$\nc = \\sum_j \\alpha_j v_j\n$$\n\n## Streams and errors\n\n| x | y |\n|---|---|\n| 1 | 2 |'),
      code("import {maskedSoftmax} from '../lib/attention/softmax';\nconsole.log('hello');\nconsole.error('careful');", [
        {output_type: 'stream', name: 'stdout', text: ['hello\n']},
        {output_type: 'stream', name: 'stderr', text: 'careful\n'},
      ], 1),
      code("throw new Error('boom');", [{output_type: 'error', ename: 'Error', evalue: 'boom', traceback: ['\u001b[31mError: boom\u001b[0m', '    at <cell>']}], 2),
      md('## Rich outputs'),
      code('showTable(rows)', [{output_type: 'display_data', metadata: {}, data: {'text/html': '<table><tr><th>k</th><th>w</th></tr><tr><td>a</td><td>0.5</td></tr></table>', 'text/plain': 'k w'}}], 3),
      code('1 + 1', [{output_type: 'execute_result', execution_count: 4, metadata: {}, data: {'text/plain': '2'}}], 4),
      code('md', [{output_type: 'display_data', metadata: {}, data: {'text/markdown': '**bold** and $x^2$', 'text/plain': 'md'}}], 5),
      code('png', [{output_type: 'display_data', metadata: {}, data: {'image/png': tinyPngBase64(), 'text/plain': '<four pixels>'}}], 6),
      code('svg', [{output_type: 'display_data', metadata: {}, data: {'image/svg+xml': svg, 'text/plain': '<a blue box>'}}], 7),
      code('latex', [{output_type: 'display_data', metadata: {}, data: {'text/latex': '$$\\mathrm{softmax}(QK^\\top/\\sqrt{d_k})V$$', 'text/plain': 'latex'}}], 8),
      md('## Charts'),
      code('await showChart(spec)', [{output_type: 'display_data', metadata: {}, data: {'application/vnd.vegalite.v5+json': FIXTURE_CHART, 'image/svg+xml': svg, 'text/plain': '<vega-lite chart: weights>'}}], 9),
      code('await showChart(spec2)', [{output_type: 'display_data', metadata: {}, data: {'application/vnd.vegalite.v5+json': {...FIXTURE_CHART, title: 'no kernel svg'}, 'text/plain': '<vega-lite chart: no kernel svg>'}}], 10),
    ],
  };
}

/** Serialise F32 tensors as safetensors: u64 LE header length, JSON header, raw little-endian data. */
export function safetensorsBytes(tensors: Record<string, {shape: number[]; data: Float32Array}>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = {dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4]};
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'utf8');
  let p = 8 + json.length;
  for (const t of Object.values(tensors)) { Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, p); p += t.data.byteLength; }
  return out;
}

/** A tiny random ViT (timm names, dense kernels [in, out]) + config.json in dir/cifar-vit/. */
export function writeTinyVit(modelsDir: string, o: {dModel?: number; numHeads?: number; numLayers?: number; dFF?: number; patchSize?: number; seed?: number} = {}): void {
  const D = o.dModel ?? 16, H = o.numHeads ?? 2, L = o.numLayers ?? 2, F = o.dFF ?? 32, P = o.patchSize ?? 4, S = 32, C = 10;
  let s = o.seed ?? 1;
  const rand = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 - 0.5; };
  const t = (shape: number[], scale = 0.2, constant?: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return {shape, data: Float32Array.from({length: n}, () => constant ?? rand() * 2 * scale)};
  };
  const N = (S / P) ** 2;
  const tensors: Record<string, {shape: number[]; data: Float32Array}> = {
    'patch_embed.proj.weight': t([P * P * 3, D]), 'patch_embed.proj.bias': t([D]),
    cls_token: t([1, 1, D]), pos_embed: t([1, N + 1, D]),
  };
  for (let l = 0; l < L; l++) {
    const b = `blocks.${l}.`;
    Object.assign(tensors, {
      [`${b}norm1.weight`]: t([D], 0, 1), [`${b}norm1.bias`]: t([D], 0, 0),
      [`${b}attn.qkv.weight`]: t([D, 3 * D], 0.5), [`${b}attn.qkv.bias`]: t([3 * D]),
      [`${b}attn.proj.weight`]: t([D, D]), [`${b}attn.proj.bias`]: t([D]),
      [`${b}norm2.weight`]: t([D], 0, 1), [`${b}norm2.bias`]: t([D], 0, 0),
      [`${b}mlp.fc1.weight`]: t([D, F]), [`${b}mlp.fc1.bias`]: t([F]),
      [`${b}mlp.fc2.weight`]: t([F, D]), [`${b}mlp.fc2.bias`]: t([D]),
    });
  }
  Object.assign(tensors, {'norm.weight': t([D], 0, 1), 'norm.bias': t([D], 0, 0), 'head.weight': t([D, C], 1), 'head.bias': t([C])});
  const dir = join(modelsDir, 'cifar-vit');
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(tensors));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({name: 'tiny-random', model: {imageSize: S, patchSize: P, channels: 3, dModel: D, numHeads: H, numLayers: L, dFF: F, numClasses: C, dropout: 0, pool: 'cls', activation: 'gelu', lnEps: 1e-6}}, null, 1));
}

/** Decode an 8-bit RGB PNG (fast-png, the decoder of the encoder lib/viz/vit.ts uses) → interleaved RGB bytes. */
export function decodeRgbPng(png: Uint8Array): Uint8Array {
  const d = decode(png);
  if (d.channels !== 3 || d.depth !== 8) throw new Error(`decodeRgbPng: expected 8-bit RGB, got ${d.channels} channels of ${d.depth} bits`);
  return d.data as Uint8Array;
}
