import {execFileSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {assignParams, loadCheckpoint, saveCheckpoint, writeFileAtomic} from '../../lib/io/checkpoint';
import {parseSafetensors, serializeSafetensors} from '../../lib/io/safetensors';
import {AdamW} from '../../lib/optim/adamw';
import {expectAllClose, setupBackend} from '../helpers';

let dir = '';
beforeAll(async () => {
  await setupBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-test-'));
});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

const SHAPES: Record<string, number[]> = {'blocks.0.attn.qkv.weight': [3, 6], 'blocks.0.norm1.weight': [3], 'cls_token': [1, 1, 3], 'head.weight': [3, 2]};
function makeParams(seed: number): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  Object.entries(SHAPES).forEach(([n, s], i) => { out[n] = tf.tidy(() => tf.variable(tf.randomNormal(s, 0, 1, 'float32', seed + i))); });
  return out;
}
function fakeGrads(params: Record<string, tf.Variable>, k: number): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(params).map(([n, p], i) => [n, tf.randomNormal(p.shape, 0, 1, 'float32', 100 * k + i + 1)])); // seed 0 means 'unseeded' in tfjs
}
function trainSteps(params: Record<string, tf.Variable>, opt: AdamW, from: number, to: number): void {
  for (let k = from; k < to; k++) { const g = fakeGrads(params, k); opt.step(g, 0.01 / (k + 1)); tf.dispose(g); }
}
const disposeAll = (p: Record<string, tf.Variable>, o?: AdamW) => { tf.dispose(Object.values(p)); o?.dispose(); };

describe('checkpoint', () => {
  it('round-trips params, AdamW moments, step and meta in one safetensors file', async () => {
    const params = makeParams(1);
    const opt = new AdamW(params, {lr: 0.01, weightDecay: 0.05});
    trainSteps(params, opt, 0, 3);
    const meta = {config: {dModel: 3, patchSize: 4}, epoch: 2, step: 3, rng: 123456789, dataSeed: 7, metrics: {acc: 0.5}};
    const file = path.join(dir, 'a.safetensors');
    await saveCheckpoint(file, params, {optimizer: opt, meta});
    // the file is plain safetensors with the documented names
    const raw = parseSafetensors(fs.readFileSync(file));
    expect(Object.keys(raw.tensors).sort()).toEqual([...Object.keys(SHAPES), ...Object.keys(SHAPES).map((n) => `optim.m.${n}`),
      ...Object.keys(SHAPES).map((n) => `optim.v.${n}`)].sort());
    expect(JSON.parse(raw.metadata.meta!)).toEqual(meta);
    const ck = await loadCheckpoint(file);
    expect(ck.meta).toEqual(meta);
    expect(ck.optimizer!.step).toBe(3);
    const st = opt.getState();
    for (const n of Object.keys(SHAPES)) {
      expect(ck.params[n]!.shape).toEqual(SHAPES[n]);
      await expectAllClose(Array.from(ck.params[n]!.data), params[n]!, 0);
      await expectAllClose(Array.from(ck.optimizer!.m[n]!), st.m[n]!, 0);
      await expectAllClose(Array.from(ck.optimizer!.v[n]!), st.v[n]!, 0);
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    disposeAll(params, opt);
  });

  it('resuming from a checkpoint continues exactly like an uninterrupted run', async () => {
    const a = makeParams(5), oa = new AdamW(a, {lr: 0.01, weightDecay: 0.1});
    trainSteps(a, oa, 0, 6);
    const b = makeParams(5), ob = new AdamW(b, {lr: 0.01, weightDecay: 0.1});
    trainSteps(b, ob, 0, 3);
    const file = path.join(dir, 'resume.safetensors');
    await saveCheckpoint(file, b, {optimizer: ob, meta: {step: 3}});
    disposeAll(b, ob);
    const c = makeParams(99), oc = new AdamW(c, {lr: 0.01, weightDecay: 0.1}); // fresh process: other init
    const ck = await loadCheckpoint(file);
    assignParams(c, ck.params);
    oc.setState(ck.optimizer!);
    trainSteps(c, oc, ck.meta.step as number, 6);
    for (const n of Object.keys(SHAPES)) await expectAllClose(c[n]!, a[n]!, 0);
    disposeAll(a, oa);
    disposeAll(c, oc);
  });

  it('saves params alone (no optimizer) and loads without optimizer state', async () => {
    const params = makeParams(2);
    const file = path.join(dir, 'sub', 'dir', 'plain.safetensors'); // folders are created
    await saveCheckpoint(file, params);
    const ck = await loadCheckpoint(file);
    expect(ck.optimizer).toBeUndefined();
    expect(ck.meta).toEqual({});
    disposeAll(params);
  });

  it('assignParams lists missing, unexpected and mis-shaped names and changes nothing', async () => {
    const params = makeParams(3);
    const before = await params['head.weight']!.data();
    const loaded = {
      'blocks.0.attn.qkv.weight': {shape: [3, 9], data: new Float32Array(27)},   // other width
      'blocks.0.norm1.weight': {shape: [3], data: new Float32Array(3)},
      'head.weight': {shape: [3, 2], data: new Float32Array(6).fill(1)},
      'blocks.1.attn.qkv.weight': {shape: [3, 6], data: new Float32Array(18)},   // deeper model
    };
    expect(() => assignParams(params, loaded)).toThrow(
      /missing in checkpoint: cls_token; unexpected in checkpoint: blocks\.1\.attn\.qkv\.weight; shape mismatch: blocks\.0\.attn\.qkv\.weight \(checkpoint \[3,9\], model \[3,6\]\)/);
    await expectAllClose(params['head.weight']!, Array.from(before), 0);
    disposeAll(params);
  });

  it('assignParams copies values without leaking tensors', async () => {
    const params = makeParams(4);
    const loaded = Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, {shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5)}]));
    const n0 = tf.memory().numTensors;
    assignParams(params, loaded);
    expect(tf.memory().numTensors).toBe(n0);
    await expectAllClose(params.cls_token!, [0.5, 0.5, 0.5], 0);
    disposeAll(params);
  });

  it('saving does not leak tensors', async () => {
    const params = makeParams(6), opt = new AdamW(params, {lr: 0.01, weightDecay: 0.1});
    const n0 = tf.memory().numTensors;
    await saveCheckpoint(path.join(dir, 'leak.safetensors'), params, {optimizer: opt});
    expect(tf.memory().numTensors).toBe(n0);
    disposeAll(params, opt);
  });

  it('clear errors for a missing, truncated, corrupt or foreign file', async () => {
    await expect(loadCheckpoint(path.join(dir, 'nope.safetensors'))).rejects.toThrow(/no checkpoint at .*nope\.safetensors/);
    const params = makeParams(7);
    const file = path.join(dir, 'good.safetensors');
    await saveCheckpoint(file, params, {meta: {epoch: 1}});
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(path.join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 10));
    await expect(loadCheckpoint(path.join(dir, 'cut.safetensors'))).rejects.toThrow(/cut\.safetensors is not a valid checkpoint .*truncated/);
    const bad = Buffer.from(bytes);
    bad[10] = 0x00; // inside the JSON header
    fs.writeFileSync(path.join(dir, 'bad.safetensors'), bad);
    await expect(loadCheckpoint(path.join(dir, 'bad.safetensors'))).rejects.toThrow(/not a valid checkpoint .*(JSON|corrupt)/);
    fs.writeFileSync(path.join(dir, 'foreign.safetensors'), serializeSafetensors({w: {shape: [1], data: new Float32Array(1)}}, {format: 'pt'}));
    await expect(loadCheckpoint(path.join(dir, 'foreign.safetensors'))).rejects.toThrow(/not a course checkpoint/);
    await expect(saveCheckpoint(path.join(dir, 'x.safetensors'), {'optim.m.x': params.cls_token!})).rejects.toThrow(/'optim\.m\.x' is reserved/);
    await expect(saveCheckpoint(path.join(dir, 'x.safetensors'), params, {meta: {n: 1n}})).rejects.toThrow(/meta is not JSON-serialisable/);
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
    disposeAll(params);
  });
});

describe('atomic writes', () => {
  it('the final name never shows a partial file: old content until the rename, tmp removed on failure', async () => {
    const file = path.join(dir, 'atomic.safetensors');
    fs.writeFileSync(file, 'OLD');
    const bytes = new Uint8Array(1 << 20).fill(7);
    await expect(writeFileAtomic(file, bytes, {
      beforeRename: (tmp) => {
        expect(tmp).toBe(`${file}.tmp-${process.pid}`);
        expect(fs.statSync(tmp).size).toBe(bytes.length); // fully written and fsynced before the rename
        expect(fs.readFileSync(file, 'utf8')).toBe('OLD');
        throw new Error('simulated crash');
      },
    })).rejects.toThrow(/simulated crash/);
    expect(fs.readFileSync(file, 'utf8')).toBe('OLD');
    expect(fs.existsSync(`${file}.tmp-${process.pid}`)).toBe(false);
    await writeFileAtomic(file, bytes);
    expect(fs.statSync(file).size).toBe(bytes.length);
  });

  it('a process killed before the rename leaves the previous checkpoint loadable', async () => {
    const params = makeParams(8);
    const file = path.join(dir, 'killed.safetensors');
    await saveCheckpoint(file, params, {meta: {epoch: 1}});
    const child = path.join(dir, 'child.ts');
    fs.writeFileSync(child, `
      import {writeFileAtomic} from ${JSON.stringify(path.resolve('lib/io/checkpoint.ts'))};
      writeFileAtomic(${JSON.stringify(file)}, new Uint8Array(1 << 16).fill(1), {beforeRename: () => { process.kill(process.pid, 'SIGKILL'); }});
    `);
    let status: number | null = 0;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', child], {cwd: process.cwd(), stdio: 'pipe'});
    } catch (e) {
      status = (e as {status: number | null}).status;
      expect((e as {signal: string}).signal).toBe('SIGKILL');
    }
    expect(status).toBeNull(); // killed by the signal
    const ck = await loadCheckpoint(file);
    expect(ck.meta).toEqual({epoch: 1});
    expect(fs.readdirSync(dir).some((f) => f.startsWith('killed.safetensors.tmp-'))).toBe(true); // the orphan tmp, never the final name
    disposeAll(params);
  });
});
