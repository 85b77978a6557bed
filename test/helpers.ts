import {spawn} from 'node:child_process';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {expect} from 'vitest';
import {initBackend} from '../lib/backend';
import {Rng} from '../lib/core/rng';
import type {ImageSet} from '../lib/data/cifar';

/** Use the backend the test run asks for (vitest.config sets COURSE_BACKEND=cpu by default). */
export async function setupBackend(): Promise<void> {
  await initBackend();
}

/** Max-abs comparison of a tensor (or array) against reference numbers. */
export async function expectAllClose(actual: tf.Tensor | number[] | number[][] | ArrayLike<number>, expected: unknown, tol = 1e-5): Promise<void> {
  const a = actual instanceof tf.Tensor ? Array.from(await actual.data()) : (actual as any[]).flat(Infinity as 1) as number[];
  const e = expected instanceof tf.Tensor ? Array.from(await expected.data()) : [expected].flat(Infinity as 1) as number[];
  expect(a.length, 'number of elements').toBe(e.length);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  if (!(worst <= tol)) throw new Error(`max |actual - expected| = ${worst} at flat index ${at} (actual ${a[at]}, expected ${e[at]}) > tol ${tol}`);
}

/** Runs fn, disposes what it returns, and checks that no tensor was left behind. */
export function expectNoLeak(fn: () => tf.TensorContainer): void {
  const before = tf.memory().numTensors;
  const out = fn();
  tf.dispose(out);
  expect(tf.memory().numTensors, 'tensors alive after disposing the outputs').toBe(before);
}

/**
 * Runs a repository script (`node --import tsx <script> …args`) from the repository root, without
 * blocking the test process (so two can run at once); resolves with its exit code and its stdout +
 * stderr, interleaved as they arrived.
 */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<{code: number | null; log: string}> {
  const root = resolve(__dirname, '..');
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, script), ...args], {cwd: root, env: {...process.env, ...env}});
    let log = '';
    p.stdout.on('data', (d) => { log += d; });
    p.stderr.on('data', (d) => { log += d; });
    p.on('close', (code) => done({code, log}));
  });
}

/** n random 32×32 RGB images (seeded) with labels 0, 1, …, 9, 0, …: a training set for trainer tests. */
export function fakeSet(n: number, seed = 1): ImageSet {
  const r = new Rng(seed), images = new Uint8Array(n * 3072), labels = new Uint8Array(n);
  for (let i = 0; i < images.length; i++) images[i] = r.int(256);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return {images, labels, count: n};
}
