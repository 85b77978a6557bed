/**
 * Checkpoints — Chapter 4 §4.4: ONE .safetensors file holding
 *   params under their own names, AdamW moments under `optim.m.<name>` / `optim.v.<name>`, an
 *   exponential moving average of the weights (when the recipe keeps one) under `ema.<name>`,
 *   and in __metadata__: format, version, `optim.step` and the caller's meta as JSON (`meta`)
 *   (config, epoch, step, RNG state, data-order seed, metrics …).
 * Writes are atomic: the bytes go to `<path>.tmp-<pid>`, are fsynced, then renamed over `path`,
 * so a crash leaves either the old checkpoint or the new one under `path`, never a partial file.
 */
import * as fs from 'fs';
import * as nodePath from 'path';
import * as tf from '@tensorflow/tfjs';
import type {AdamW} from '../optim/adamw';
import {decodeSafetensors, readSafetensorsHeader, serializeSafetensors} from './safetensors';

export interface CheckpointMeta {
  [k: string]: unknown;
}

export interface LoadedCheckpoint {
  params: Record<string, {shape: number[]; data: Float32Array}>;
  optimizer?: {step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array>};
  /** EMA weights `ema.<name>`, by parameter name (present only if saved with `ema`). */
  ema?: Record<string, {shape: number[]; data: Float32Array}>;
  meta: CheckpointMeta;
}

export const CHECKPOINT_FORMAT = 'attention-course-checkpoint';
const M = 'optim.m.', V = 'optim.v.', E = 'ema.';

async function tensorEntry(t: tf.Tensor): Promise<{shape: number[]; data: Float32Array}> {
  const d = await t.data();
  return {shape: t.shape.slice(), data: d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>)};
}

/**
 * Writes `bytes` to `path` atomically (tmp file, fsync, rename, fsync of the folder). `hooks` lets
 * tests simulate a crash between writing and renaming.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, hooks: {beforeRename?: (tmp: string) => void | Promise<void>} = {}): Promise<void> {
  const dir = nodePath.dirname(nodePath.resolve(path));
  await fs.promises.mkdir(dir, {recursive: true});
  const tmp = `${path}.tmp-${process.pid}`;
  let renamed = false;
  try {
    try {
      const fh = await fs.promises.open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) { // ENOSPC and EACCES messages do not say which file
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EDQUOT' ? 'the disk quota is exceeded' : code === 'EACCES' || code === 'EPERM' ? 'no permission to write there' : (e as Error).message;
      throw Object.assign(new Error(`cannot write ${path} (${bytes.length.toLocaleString('en-US')} bytes): ${why}${code ? ` (${code})` : ''}; the previous version of the file, if any, is unchanged`), {code});
    }
    if (hooks.beforeRename) await hooks.beforeRename(tmp);
    await fs.promises.rename(tmp, path);
    renamed = true;
    try { // persist the rename itself; not possible on every platform
      const dh = await fs.promises.open(dir, 'r');
      try { await dh.sync(); } finally { await dh.close(); }
    } catch { /* ignore */ }
  } finally {
    if (!renamed) await fs.promises.rm(tmp, {force: true});
  }
}

/**
 * Removes `<path>.tmp-<pid>` files left by writeFileAtomic in a process that was killed mid-write
 * (0 bytes or complete, never renamed). A temp file of a process that is still running is kept.
 * Returns the removed paths.
 */
export function cleanStaleTemps(path: string): string[] {
  const dir = nodePath.dirname(nodePath.resolve(path)), base = nodePath.basename(path) + '.tmp-';
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(base) || !/^\d+$/.test(n.slice(base.length))) continue;
    const pid = Number(n.slice(base.length));
    if (pid !== process.pid && isRunning(pid)) continue;
    try {
      fs.rmSync(nodePath.join(dir, n), {force: true});
      removed.push(nodePath.join(dir, n));
    } catch { /* not ours to remove */ }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
  // a reused pid after a reboot: on Linux, only a node process can be writing our checkpoint
  try {
    return /node|tsx/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/** Saves params (+ optional AdamW state and meta) as one safetensors file, atomically. */
export async function saveCheckpoint(
  path: string,
  params: Record<string, tf.Tensor>,
  opts: {optimizer?: AdamW; meta?: CheckpointMeta; ema?: Record<string, tf.Tensor>} = {},
): Promise<void> {
  const tensors: Record<string, {shape: number[]; data: Float32Array}> = {};
  for (const [name, t] of Object.entries(params)) {
    if (name.startsWith('optim.') || name.startsWith(E) || name === '__metadata__') throw new Error(`saveCheckpoint: param name '${name}' is reserved`);
    if (t.isDisposed) throw new Error(`saveCheckpoint: param '${name}' is disposed`);
    tensors[name] = await tensorEntry(t);
  }
  for (const [name, t] of Object.entries(opts.ema ?? {})) {
    if (!(name in params)) throw new Error(`saveCheckpoint: EMA tensor '${name}' has no parameter of that name`);
    if (t.isDisposed) throw new Error(`saveCheckpoint: EMA tensor '${name}' is disposed`);
    tensors[E + name] = await tensorEntry(t);
  }
  const metadata: Record<string, string> = {format: CHECKPOINT_FORMAT, version: '1'};
  if (opts.optimizer) {
    const s = opts.optimizer.getState();
    for (const [n, t] of Object.entries(s.m)) tensors[M + n] = await tensorEntry(t);
    for (const [n, t] of Object.entries(s.v)) tensors[V + n] = await tensorEntry(t);
    metadata['optim.step'] = String(s.step);
    metadata['optim.type'] = 'AdamW';
  }
  let metaJson: string;
  try {
    metaJson = JSON.stringify(opts.meta ?? {});
  } catch (e) {
    throw new Error(`saveCheckpoint: meta is not JSON-serialisable: ${(e as Error).message}`);
  }
  metadata.meta = metaJson;
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** What a checkpoint holds, known from its header alone (before any tensor is decoded). */
export interface CheckpointHeader {
  meta: CheckpointMeta;
  /** Shapes of the parameters (optimizer moments excluded). */
  shapes: Record<string, number[]>;
  /** Shapes of the AdamW moments `optim.m.<name>` / `optim.v.<name>`, by parameter name. */
  moments: {m: Record<string, number[]>; v: Record<string, number[]>};
  hasOptimizer: boolean;
  /** Shapes of the EMA weights `ema.<name>`, by parameter name (empty if none). */
  ema: Record<string, number[]>;
}

/**
 * Reads a checkpoint written by saveCheckpoint. Clear errors for a missing, truncated or corrupt file.
 * `check` sees the metadata and every tensor's shape BEFORE any tensor is decoded: a caller that
 * knows what the file must hold (a recipe's model) refuses a crafted or foreign file there, before
 * anything is allocated; its error is reported with the file's path.
 */
export async function loadCheckpoint(path: string, opts: {check?: (h: CheckpointHeader) => void} = {}): Promise<LoadedCheckpoint> {
  let buf: Uint8Array;
  try {
    buf = await fs.promises.readFile(path);
  } catch (e) {
    const code = (e as {code?: string}).code;
    if (code === 'ENOENT') throw new Error(`loadCheckpoint: no checkpoint at ${path}`);
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`loadCheckpoint: no permission to read ${path}`);
    if (code === 'EISDIR') throw new Error(`loadCheckpoint: ${path} is a folder, not a checkpoint file`);
    throw new Error(`loadCheckpoint: cannot read ${path}: ${(e as Error).message}`);
  }
  let header: ReturnType<typeof readSafetensorsHeader>;
  try {
    header = readSafetensorsHeader(buf);
  } catch (e) {
    throw new Error(`loadCheckpoint: ${path} is not a valid checkpoint (${(e as Error).message})`);
  }
  const {entries, metadata, dataStart} = header;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`loadCheckpoint: ${path} is a safetensors file but not a course checkpoint (no format '${CHECKPOINT_FORMAT}' in its metadata)`);
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metadata.meta ?? '{}') as CheckpointMeta;
  } catch {
    throw new Error(`loadCheckpoint: ${path} has corrupt meta JSON`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new Error(`loadCheckpoint: ${path} has corrupt meta JSON (not an object)`);
  let step: number | undefined;
  if (metadata['optim.step'] !== undefined) {
    step = Number(metadata['optim.step']);
    if (!Number.isInteger(step) || step < 0) throw new Error(`loadCheckpoint: ${path} has a corrupt optim.step '${metadata['optim.step']}'`);
  }
  if (opts.check) {
    const h: CheckpointHeader = {meta, shapes: {}, moments: {m: {}, v: {}}, hasOptimizer: step !== undefined, ema: {}};
    for (const [name, e] of Object.entries(entries)) {
      if (name.startsWith(M)) h.moments.m[name.slice(M.length)] = e.shape;
      else if (name.startsWith(E)) h.ema[name.slice(E.length)] = e.shape;
      else if (name.startsWith(V)) h.moments.v[name.slice(V.length)] = e.shape;
      else h.shapes[name] = e.shape;
    }
    try {
      opts.check(h);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
  }
  const tensors = decodeSafetensors(buf, entries, dataStart);
  const params: LoadedCheckpoint['params'] = {};
  const m: Record<string, Float32Array> = {}, v: Record<string, Float32Array> = {};
  const ema: NonNullable<LoadedCheckpoint['ema']> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(M)) m[name.slice(M.length)] = t.data;
    else if (name.startsWith(E)) ema[name.slice(E.length)] = {shape: t.shape, data: t.data};
    else if (name.startsWith(V)) v[name.slice(V.length)] = t.data;
    else params[name] = {shape: t.shape, data: t.data};
  }
  const out: LoadedCheckpoint = {params, meta};
  if (step !== undefined) out.optimizer = {step, m, v};
  if (Object.keys(ema).length > 0) out.ema = ema;
  return out;
}

/**
 * Compares the tensors a checkpoint holds with the ones a model needs (names and shapes) and throws
 * one error listing the differences; used on headers, before anything is allocated.
 */
export function checkShapes(have: Record<string, number[]>, want: Record<string, number[]>, what = 'checkpoint'): void {
  const missing = Object.keys(want).filter((n) => !(n in have));
  const unexpected = Object.keys(have).filter((n) => !(n in want));
  const misShaped = Object.keys(want).filter((n) => n in have && shapeStr(have[n]!) !== shapeStr(want[n]!))
    .map((n) => `${n} (${what} ${shapeStr(have[n]!)}, expected ${shapeStr(want[n]!)})`);
  if (missing.length + unexpected.length + misShaped.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing: ${list(missing)}`);
  if (unexpected.length > 0) parts.push(`unexpected: ${list(unexpected)}`);
  if (misShaped.length > 0) parts.push(`shape mismatch: ${list(misShaped)}`);
  throw new Error(`the ${what}'s tensors do not match ${what === 'checkpoint' ? 'its recipe' : 'the model'} — ${parts.join('; ')}`);
}

function shapeStr(s: number[]): string {
  return `[${s.join(',')}]`;
}

/**
 * Copies loaded arrays into the model's variables. Checks everything first and throws one error
 * listing missing, unexpected and mis-shaped names (e.g. a checkpoint of another architecture);
 * on error no variable is changed.
 */
export function assignParams(params: Record<string, tf.Variable>, loaded: Record<string, {shape: number[]; data: Float32Array}>): void {
  const missing = Object.keys(params).filter((n) => !(n in loaded));
  const unexpected = Object.keys(loaded).filter((n) => !(n in params));
  const misShaped: string[] = [];
  for (const [n, p] of Object.entries(params)) {
    const l = loaded[n];
    if (l === undefined) continue;
    const size = l.shape.reduce((a, b) => a * b, 1);
    if (l.shape.length !== p.shape.length || l.shape.some((d, i) => d !== p.shape[i]) || l.data.length !== size) {
      misShaped.push(`${n} (checkpoint ${shapeStr(l.shape)}, model ${shapeStr(p.shape)})`);
    }
  }
  if (missing.length + unexpected.length + misShaped.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing in checkpoint: ${list(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected in checkpoint: ${list(unexpected)}`);
    if (misShaped.length > 0) parts.push(`shape mismatch: ${list(misShaped)}`);
    throw new Error(`assignParams: checkpoint does not match the model (another architecture or config?) — ${parts.join('; ')}`);
  }
  for (const [n, p] of Object.entries(params)) {
    tf.tidy(() => p.assign(tf.tensor(loaded[n]!.data, p.shape, 'float32')));
  }
}

function list(names: string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}
