/**
 * The native kernels (lib/core/native-kernels.ts: OpenBLAS GEMM, vectorised exp/erf) against the
 * pure wasm path: every matMul form, exp/erf, and a small ViT's loss and gradients within 1e-5
 * relative; the start-up checks (version drift, self-check, switch). In CI (CI=true) the addon must
 * be built (npm run setup builds it), so nothing here is skipped; elsewhere the numeric part is
 * skipped only when it is not built.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {describeBackend, initBackend} from '../../lib/backend';
import {gelu} from '../../lib/core/activations';
import {bmmPath} from '../../lib/core/bmm';
import {fusedAdamWStep} from '../../lib/core/fused';
import {layerNorm} from '../../lib/core/layernorm';
import {AdamW} from '../../lib/optim/adamw';
import {FusedAdamW} from '../../lib/optim/fused-adamw';
import {leanBackpropInstalled, uninstallLeanBackprop} from '../../lib/core/lean-backprop';
import {nativeKernelsActive} from '../../lib/core/kernel-path';
import {defaultNativeThreads, disableNativeKernels, enableNativeKernels, NativeAddon, nativeAddonAvailable, nativeRequested, nativeStatus,
  nativeThreads, NATIVE_ADDON_PATH, NATIVE_TFJS_WASM_VERSION, setThreads} from '../../lib/core/native-kernels';
import {disposeParams, Params} from '../../lib/core/params';
import {crossEntropy} from '../../lib/optim/losses';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';
import {refVitForward, relErr} from './reference-vit';

const built = nativeAddonAvailable();
const enableNativeGemm = () => enableNativeKernels().active;
const disableNativeGemm = () => disableNativeKernels();

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => { enableNativeKernels(); });

describe('native kernels: availability and start-up checks', () => {
  it('are built in CI (npm run setup builds them), so no native test is skipped there', () => {
    if (process.env.CI === 'true') expect(built, nativeStatus()).toBe(true);
  });
  it('are on by default after initBackend(\'wasm\') when built, and the backend line says so', async () => {
    const info = await initBackend('wasm');
    if (built && process.env.COURSE_NATIVE !== '0') {
      expect(nativeKernelsActive()).toBe(true);
      expect(describeBackend(info)).toMatch(/backend wasm \(SIMD, 1 thread\) \+ native OpenBLAS kernels \(\d+ threads?\)/);
    } else {
      expect(nativeKernelsActive()).toBe(false);
      expect(describeBackend(info)).toMatch(/pure wasm \(native kernels off: /);
    }
  });
  it('the switch: COURSE_NATIVE=0 off, 1 / unset on, the deprecated COURSE_NATIVE_GEMM as an alias; bad values are named', () => {
    expect(nativeRequested({}).on).toBe(true);
    expect(nativeRequested({COURSE_NATIVE: '0'})).toEqual({on: false, why: 'COURSE_NATIVE=0'});
    expect(nativeRequested({COURSE_NATIVE: '1'}).on).toBe(true);
    expect(nativeRequested({COURSE_NATIVE_GEMM: '0'})).toEqual({on: false, why: 'COURSE_NATIVE_GEMM=0'});
    expect(nativeRequested({COURSE_NATIVE: '1', COURSE_NATIVE_GEMM: '0'}).on).toBe(true);
    expect(() => nativeRequested({COURSE_NATIVE: 'maybe'})).toThrow(/COURSE_NATIVE must be 0 \(pure wasm\) or 1/);
  });
  it('COURSE_THREADS sets the OpenBLAS threads; bad values are named', () => {
    expect(defaultNativeThreads({COURSE_THREADS: '3'})).toBe(3);
    expect(defaultNativeThreads({})).toBeGreaterThanOrEqual(1);
    expect(defaultNativeThreads({}, 0.3, 2)).toBe(2);      // quiet 2-CPU machine
    expect(defaultNativeThreads({}, 1.8, 2)).toBe(2);      // our own earlier runs in the load: still quiet
    expect(defaultNativeThreads({}, 2.0, 2)).toBe(1);      // every core taken by others
    expect(defaultNativeThreads({}, 7.5, 2)).toBe(1);      // busy: OpenBLAS's threads would wait for cores
    expect(defaultNativeThreads({}, 0, 1)).toBe(1);
    expect(defaultNativeThreads({COURSE_THREADS: '2'}, 30, 2)).toBe(2);
    expect(() => defaultNativeThreads({COURSE_THREADS: 'two'})).toThrow(/COURSE_THREADS must be a positive integer \(got "two"\)/);
    expect(() => defaultNativeThreads({COURSE_THREADS: '0'})).toThrow(/COURSE_THREADS/);
  });
  it('the pinned tfjs-backend-wasm is installed: the addon reads its internals (fails loudly on an upgrade)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../node_modules/@tensorflow/tfjs-backend-wasm/package.json'), 'utf8'));
    const ours = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    expect(pkg.version, 'tfjs-backend-wasm changed: re-check lib/core/native-kernels.ts and wasm-kernels.ts against its internals, then bump NATIVE_TFJS_WASM_VERSION').toBe(NATIVE_TFJS_WASM_VERSION);
    expect(ours.dependencies['@tensorflow/tfjs-backend-wasm']).toBe(NATIVE_TFJS_WASM_VERSION);
    expect(tf.version.tfjs).toBe(NATIVE_TFJS_WASM_VERSION);
  });
  it('another tfjs-backend-wasm version at run time: the pure wasm path and a message naming both versions', () => {
    const r = enableNativeKernels({wasmVersion: '4.23.0'});
    expect(r.active).toBe(false);
    expect(r.reason).toBe(`@tensorflow/tfjs-backend-wasm is 4.23.0, but the native kernels read the internals of ${NATIVE_TFJS_WASM_VERSION}`);
    expect(nativeKernelsActive()).toBe(false);
    expect(nativeStatus()).toMatch(/^pure wasm \(native kernels off: @tensorflow\/tfjs-backend-wasm is 4\.23\.0/);
    expect(bmmPath()).toBe('fast');
  });
  it('an addon that computes wrong numbers fails the self-check: the stock kernels stay, the reason names the case', async () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]), b = tf.tensor2d([[5, 6], [7, 8]]);
    const wrong: NativeAddon = {
      version: 5, setThreads: () => {}, getThreads: () => 1, unary: () => {}, fused: () => {}, transpose: () => {}, setKernelThreads: () => {},
      sgemmBatch: () => {}, // leaves the output as it was: not the product
    };
    const r = enableNativeKernels({addon: wrong});
    expect(r.active).toBe(false);
    expect(r.reason).toMatch(/^self-check against the wasm kernels failed: matMul \[33,17\]·\[17,29\]: /);
    expect(nativeKernelsActive()).toBe(false);
    expect(Array.from(await tf.matMul(a, b).data())).toEqual([19, 22, 43, 50]); // stock kernel back in place
    tf.dispose([a, b]);
  });
  it('a missing addon file is reported with what to run', () => {
    // the loader's message for a missing build (what a fresh clone without npm run setup sees)
    expect(fs.existsSync(path.join(__dirname, '../../lib/core/native/build.sh'))).toBe(true);
    if (!built) expect(nativeStatus()).toMatch(/not built .* run npm run setup/);
  });
});

describe.skipIf(!built && process.env.CI !== 'true')('native kernels (OpenBLAS GEMM, exp, erf) = pure wasm path', () => {
  beforeEach(() => disableNativeGemm()); // each case computes its reference on the stock kernels first
  const rn = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['rank 2', [37, 19], [19, 23], false, false],
    ['rank 2, transposeA', [19, 37], [19, 23], true, false],
    ['rank 2, transposeB', [37, 19], [23, 19], false, true],
    ['rank 2, both flags', [19, 37], [23, 19], true, true],
    ['batched', [6, 9, 8], [6, 8, 5], false, false],
    ['batched, transposeB', [6, 9, 8], [6, 5, 8], false, true],
    ['rank 4', [2, 3, 9, 8], [2, 3, 8, 5], false, false],
    ['broadcast b', [6, 9, 8], [1, 8, 5], false, false],
    ['broadcast rank-2 b', [6, 9, 8], [8, 5], false, false],
    ['K = 1', [4, 1], [1, 3], false, false],
  ];
  it('every matMul form, forward', async () => {
    for (const [name, sa, sb, ta, tb] of cases) {
      const a = rn(sa, 1), b = rn(sb, 2);
      const ref = tf.matMul(a, b, ta, tb);
      expect(enableNativeGemm()).toBe(true);
      const nat = tf.matMul(a, b, ta, tb);
      disableNativeGemm();
      expect(nat.shape, name).toEqual(ref.shape);
      expect(await relErr(nat, ref), name).toBeLessThan(1e-5);
      tf.dispose([a, b, ref, nat]);
    }
  });
  it('exp and erf (vectorised in the addon): stock wasm values within 1e-6 relative / 5e-7 absolute; NaN, ±inf, overflow', async () => {
    const xs = Array.from({length: 20001}, (_, i) => -10 + i * 1e-3).concat([-200, -104, -87.5, -87.3, 88.3, 88.8, 200, 0, -0, NaN, Infinity, -Infinity]);
    const x = tf.tensor1d(xs);
    const refExp = await tf.exp(x).data(), refErf = await tf.erf(x).data();
    expect(enableNativeGemm()).toBe(true);
    const e = tf.exp(x), f = tf.erf(x), e2 = tf.exp(tf.reshape(x, [1, -1]));
    const natExp = await e.data(), natErf = await f.data();
    disableNativeGemm();
    expect(e2.shape).toEqual([1, xs.length]);
    let relExp = 0, absErf = 0;
    for (let i = 0; i < xs.length; i++) {
      const t = xs[i]!;
      if (Number.isNaN(t)) { expect(natExp[i]).toBeNaN(); expect(natErf[i]).toBeNaN(); continue; }
      if (t > 88.73) expect(natExp[i]).toBe(Infinity);
      else if (t < -87.34) expect(natExp[i]).toBeLessThan(1.2e-38);     // flushed below the smallest normal float
      else relExp = Math.max(relExp, Math.abs(natExp[i]! - refExp[i]!) / refExp[i]!);
      absErf = Math.max(absErf, Math.abs(natErf[i]! - refErf[i]!));
    }
    expect(relExp).toBeLessThan(1e-6);
    expect(absErf).toBeLessThan(5e-7);
    expect(natErf[xs.indexOf(Infinity)]).toBe(1);
    expect(natErf[xs.indexOf(-Infinity)]).toBe(-1);
    tf.dispose([x, e, f, e2]);
  });
  it('the addon names a wrong argument count, a heap that is not an ArrayBuffer and a non-number', () => {
    const addon = require(NATIVE_ADDON_PATH);
    const heap = new ArrayBuffer(64);
    expect(() => addon.sgemmBatch(heap, 1, 1)).toThrow('course_gemm.sgemmBatch: expected 12 arguments');
    expect(() => addon.unary(new Uint8Array(4), 0, 0, 0, 1)).toThrow('course_gemm.unary: heap must be an ArrayBuffer');
    expect(() => addon.unary(heap, 0, 'x', 0, 1)).toThrow('course_gemm.unary: argument 3 must be a number');
    expect(() => addon.sgemmBatch(heap, 1, 2, 2, 2, 0, 16, 32, 0, 0, false, false)).not.toThrow();
  });
  // value and gradients of f on the stock kernels (composed ops) and on the native kernels
  const both = async (f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor) => {
    const g = tf.grads((...a: tf.Tensor[]) => tf.mul(f(...a), dy));
    const ref = [f(...xs), ...g(xs)];
    expect(enableNativeGemm()).toBe(true);
    const nat = [f(...xs), ...g(xs)];
    disableNativeGemm();
    const errs = [];
    for (let i = 0; i < ref.length; i++) { expect(nat[i]!.shape).toEqual(ref[i]!.shape); errs.push(await relErr(nat[i]!, ref[i]!)); }
    tf.dispose([...ref, ...nat]);
    return errs;
  };
  it('fused LayerNorm (one kernel forward, one backward) = the composed layerNorm: value, dx, dgamma, dbeta', async () => {
    const x = rn([37, 48], 3), g = rn([48], 4), b = rn([48], 5), dy = rn([37, 48], 6);
    for (const e of await both((x, g, b) => layerNorm(x!, g!, b!), [tf.add(tf.mul(x, 3), 2), g, b], dy)) expect(e).toBeLessThan(1e-5);
    for (const e of await both((x, g, b) => layerNorm(x!, g!, b!, 1e-6), [rn([2, 5, 48], 7), g, b], rn([2, 5, 48], 8))) expect(e).toBeLessThan(1e-5);
    tf.dispose([x, g, b, dy]);
  });
  it('fused GELU = the composed exact GELU: value and gradient (incl. large |x|)', async () => {
    const x = tf.concat([tf.mul(rn([1000], 9), 3), tf.tensor1d([-12, -6, 0, 6, 12])]), dy = rn([1005], 10);
    for (const e of await both((x) => gelu(x!), [x], dy)) expect(e).toBeLessThan(1e-5);
    tf.dispose([x, dy]);
  });
  it('native softmax and its one-kernel gradient = tfjs\'s softmax and its composed gradient', async () => {
    const x = tf.mul(rn([6, 9, 65], 11), 4), dy = rn([6, 9, 65], 12);
    for (const e of await both((x) => tf.softmax(x!), [x], dy)) expect(e).toBeLessThan(1e-5);
    const masked = tf.concat([tf.fill([1, 65], -1e9), rn([1, 65], 13)]); // a fully masked row stays uniform
    for (const e of await both((x) => tf.softmax(x!), [masked], tf.ones([2, 65]))) expect(e).toBeLessThan(1e-5);
    tf.dispose([x, dy, masked]);
  });
  it('Identity shares the buffer instead of copying; disposing either tensor leaves the other intact', async () => {
    expect(enableNativeGemm()).toBe(true);
    const x = tf.tensor1d([1, 2, 3]);
    const y = x.clone(), z = tf.clone(x);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    y.dispose();
    expect(Array.from(await z.data())).toEqual([1, 2, 3]);
    z.dispose();
    disableNativeGemm();
  });
  it('native Transpose = the wasm Transpose bit for bit: ranks 1-6, every kind of permutation, empty and int32 (stock)', async () => {
    const cases: [number[], number[]][] = [[[7], [0]], [[5, 3], [1, 0]], [[4, 65, 32], [0, 2, 1]], [[2, 9, 4, 8], [0, 2, 1, 3]], [[2, 9, 4, 8], [3, 2, 1, 0]],
      [[2, 3, 4, 5, 6], [4, 0, 3, 1, 2]], [[2, 3, 2, 3, 2, 3], [5, 4, 3, 2, 1, 0]], [[3, 0, 2], [2, 0, 1]]];
    for (const [shape, perm] of cases) {
      const x = rn(shape, 21);
      const ref = tf.transpose(x, perm);
      expect(enableNativeGemm()).toBe(true);
      const nat = tf.transpose(x, perm);
      const ints = tf.transpose(tf.cast(tf.mul(x, 10), 'int32'), perm);
      disableNativeGemm();
      expect(nat.shape).toEqual(ref.shape);
      expect(Array.from(await nat.data())).toEqual(Array.from(await ref.data()));
      expect(Array.from(await ints.data())).toEqual(Array.from(await tf.transpose(tf.cast(tf.mul(x, 10), 'int32'), perm).data()));
      tf.dispose([x, ref, nat, ints]);
    }
  });
  it('lean backprop: the same ViT gradients bit for bit, no leaks, and a backward peak near the saved activations (not twice)', async () => {
    const cfg = vitConfig({imageSize: 16, patchSize: 4, dModel: 32, numHeads: 4, numLayers: 2, dFF: 64, numClasses: 10});
    const params: Params = initViT(cfg, 5);
    const vars = Object.values(params);
    const images = rn([16, 16, 16, 3], 31), labels = tf.tensor1d(Array.from({length: 16}, (_, i) => i % 10), 'int32');
    const be = tf.backend() as unknown as {wasm: {_malloc: (n: number) => number; _free: (p: number) => void}};
    const m0 = be.wasm._malloc, f0 = be.wasm._free, sizes = new Map<number, number>();
    let live = 0, peak = 0;
    be.wasm._malloc = (n) => { const p = m0(n); sizes.set(p, n); live += n; peak = Math.max(peak, live); return p; };
    be.wasm._free = (p) => { live -= sizes.get(p) ?? 0; sizes.delete(p); f0(p); };
    const run = () => {
      const before = tf.memory().numTensors;
      peak = live;
      const start = live;
      const r = tf.variableGrads(() => crossEntropy(vitForward(params, cfg, images, {training: true}).logits, labels), vars);
      expect(tf.memory().numTensors - before).toBe(1 + vars.length);
      return {r, peak: peak - start};
    };
    expect(enableNativeGemm()).toBe(true);
    const lean = run();
    uninstallLeanBackprop();
    expect(leanBackpropInstalled()).toBe(false);
    const stockRun = run();
    disableNativeGemm();
    be.wasm._malloc = m0;
    be.wasm._free = f0;
    expect(await lean.r.value.data()).toEqual(await stockRun.r.value.data());
    for (const v of vars) expect(await lean.r.grads[v.name]!.data(), v.name).toEqual(await stockRun.r.grads[v.name]!.data());
    expect(lean.peak).toBeLessThan(0.7 * stockRun.peak);
    tf.dispose([lean.r.value, stockRun.r.value, ...Object.values(lean.r.grads), ...Object.values(stockRun.r.grads), images, labels]);
    disposeParams(params);
  });
  it('lean backprop keeps a caller\'s dy, gradients that pass dy through, and second-order gradients working', async () => {
    expect(enableNativeGemm()).toBe(true);
    expect(leanBackpropInstalled()).toBe(true);
    const x = tf.tensor1d([0.5, -1, 2]), dy = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((a: tf.Tensor) => tf.add(tf.add(a, 1), tf.mul(a, a)))(x, dy);   // dy·(1 + 2a)
    expect(Array.from(await g.data())).toEqual([2, -2, 15]);
    expect(Array.from(await dy.data())).toEqual([1, 2, 3]);                          // not freed
    const g2 = tf.grad((a: tf.Tensor) => tf.sum(tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.mul(b, b), b)))(a)))(x); // d/da Σ 3a² = 6a
    expect(Array.from(await g2.data())).toEqual([3, -6, 12]);
    disableNativeGemm();
    tf.dispose([x, dy, g, g2]);
  });
  it('fused AdamW step = lib/optim/adamw.ts\'s update (3 steps, with and without decay)', async () => {
    const shape = [7, 5];
    for (const wd of [0, 0.05]) {
      const p0 = rn(shape, 41);
      const ref = {w: tf.variable(p0.clone())};
      const opt = new AdamW(ref, {lr: 0.01, weightDecay: wd, decay: () => true});
      let p = p0.clone(), m = tf.zerosLike(p0), v = tf.zerosLike(p0);
      expect(enableNativeGemm()).toBe(true);
      for (let t = 1; t <= 3; t++) {
        const g = rn(shape, 50 + t);
        disableNativeGemm();
        opt.step({w: g});
        expect(enableNativeGemm()).toBe(true);
        const [p2, m2, v2] = fusedAdamWStep(p, m, v, g, {beta1: 0.9, beta2: 0.999, keep: 1 - 0.01 * wd, stepSize: 0.01 / (1 - 0.9 ** t), bc2: Math.sqrt(1 - 0.999 ** t), eps: 1e-8});
        tf.dispose([p, m, v, g]);
        [p, m, v] = [p2, m2, v2];
      }
      disableNativeGemm();
      expect(await relErr(p, ref.w)).toBeLessThan(1e-6);
      expect(await relErr(m, opt.getState().m.w!)).toBeLessThan(1e-6);
      expect(await relErr(v, opt.getState().v.w!)).toBeLessThan(1e-6);
      opt.dispose();
      tf.dispose([p, m, v, p0, ref.w]);
    }
  });
  it('native Sum over leading axes (bias gradients) = the wasm Sum: axes, negative axes, keepDims, many chunks; other axes and int32 stock', async () => {
    const x = rn([37, 5, 24], 61), big = rn([50000, 3], 62), ints = tf.cast(tf.mul(x, 10), 'int32');
    const fs: ((t: tf.Tensor) => tf.Tensor)[] = [(t) => tf.sum(t, 0), (t) => tf.sum(t, [1, 0]), (t) => tf.sum(t, [-3, -2], true), (t) => tf.sum(t),
      (t) => tf.sum(t, -1), (t) => tf.sum(t, [0, 2])];
    const ref = [...fs.map((f) => f(x)), tf.sum(big, 0), tf.sum(ints, 0)];
    expect(enableNativeGemm()).toBe(true);
    const nat = [...fs.map((f) => f(x)), tf.sum(big, 0), tf.sum(ints, 0)];
    disableNativeGemm();
    for (let i = 0; i < ref.length; i++) {
      expect(nat[i]!.shape).toEqual(ref[i]!.shape);
      expect(nat[i]!.dtype).toBe(ref[i]!.dtype);
      expect(await relErr(nat[i]!, ref[i]!), `case ${i}`).toBeLessThan(1e-5);
    }
    // against float64 sums: the chunked native sum is at least as close as the wasm one
    const b = await big.data(), want = [0, 1, 2].map((j) => { let s = 0; for (let i = j; i < b.length; i += 3) s += b[i]!; return s; });
    const err = async (t: tf.Tensor) => Math.max(...Array.from(await t.data()).map((v, j) => Math.abs(v - want[j]!)));
    expect(await err(nat[6]!)).toBeLessThanOrEqual(await err(ref[6]!) + 1e-4);
    tf.dispose([x, big, ints, ...ref, ...nat]);
  });
  it('native Add, Sub, Multiply = the wasm kernels bit for bit: same shape, scalar, bias row, column, either side; other broadcasts and int32 stock', async () => {
    const x = rn([6, 7, 33], 63), y = rn([6, 7, 33], 64), row = rn([33], 65), row3 = rn([1, 1, 33], 66), col = rn([6, 7, 1], 67), s = tf.scalar(-1.25);
    const other = rn([6, 1, 33], 68), ints = tf.cast(tf.mul(x, 10), 'int32');
    const pairs: [tf.Tensor, tf.Tensor][] = [[x, y], [x, s], [s, x], [x, row], [row, x], [row3, x], [x, col], [col, x], [x, other], [rn([4, 1], 69), rn([1, 5], 70)], [ints, ints], [s, s]];
    const ops = [tf.add, tf.sub, tf.mul];
    const ref = pairs.flatMap(([a, b]) => ops.map((op) => op(a, b)));
    expect(enableNativeGemm()).toBe(true);
    const nat = pairs.flatMap(([a, b]) => ops.map((op) => op(a, b)));
    disableNativeGemm();
    for (let i = 0; i < ref.length; i++) {
      expect(nat[i]!.shape, `case ${i}`).toEqual(ref[i]!.shape);
      expect(Array.from(await nat[i]!.data()), `case ${i}`).toEqual(Array.from(await ref[i]!.data()));
    }
    tf.dispose([x, y, row, row3, col, s, other, ints, ...pairs.flat(), ...ref, ...nat]);
  });
  it('the elementwise kernels and per-head GEMMs give the same numbers bit for bit on 1, 2 and 3 threads (chunking depends on the size only)', async () => {
    expect(enableNativeGemm()).toBe(true);
    const before = nativeThreads();
    const x = rn([1200, 130], 71), g = rn([130], 72), b = rn([130], 73), dy = rn([1200, 130], 74), big = rn([70000, 3], 75);
    const run = () => tf.tidy(() => {
      const ln = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.mul(layerNorm(a, c, d), dy))([x, g, b], dy);
      const ge = tf.grad((a: tf.Tensor) => tf.mul(gelu(a), dy))(tf.mul(x, 3));
      const sm = tf.grad((a: tf.Tensor) => tf.mul(tf.softmax(a), dy))(x);
      const heads = tf.matMul(tf.reshape(x.slice([0, 0], [1200, 128]), [75, 64, 32]), tf.reshape(dy.slice([0, 0], [1200, 128]), [75, 32, 64])); // per-item GEMMs
      return [...ln, ge, sm, tf.sum(big, 0), tf.transpose(tf.reshape(x, [120, 10, 130]), [1, 2, 0]), tf.add(x, b), tf.exp(x), tf.erf(x), heads];
    });
    const outs: Float32Array[][] = [];
    for (const t of [1, 2, 3]) {
      setThreads(t);
      const r = run();
      outs.push(await Promise.all(r.map(async (z) => (await z.data()) as Float32Array)));
      tf.dispose(r);
    }
    setThreads(before);
    disableNativeGemm();
    for (const o of outs.slice(1)) o.forEach((a, i) => expect(Array.from(a), `output ${i}`).toEqual(Array.from(outs[0]![i]!)));
    tf.dispose([x, g, b, dy, big]);
  });
  it('FusedAdamW (one kernel per parameter) = AdamW.step: decayed and undecayed params, a step-wise lr, 3 steps; AdamW itself when native is off', async () => {
    const init = () => ({'blocks.0.w': tf.variable(rn([9, 4], 81)), 'blocks.0.bias': tf.variable(rn([4], 82))});
    const a = init(), f = init(), off = init();
    const cfg = {lr: 0.01, weightDecay: 0.05};
    const ref = new AdamW(a, cfg), fused = new FusedAdamW(f, cfg), fallback = new FusedAdamW(off, cfg);
    expect(fused.decayedNames()).toEqual(['blocks.0.w']);
    for (let t = 1; t <= 3; t++) {
      const grads = {'blocks.0.w': rn([9, 4], 90 + t), 'blocks.0.bias': rn([4], 95 + t)};
      ref.step(grads, 0.01 * t);
      fallback.step(grads, 0.01 * t);            // native off: AdamW.step itself
      expect(enableNativeGemm()).toBe(true);
      const before = tf.memory().numTensors;
      fused.step(grads, 0.01 * t);
      expect(tf.memory().numTensors).toBe(before); // no leaks
      disableNativeGemm();
      tf.dispose(Object.values(grads));
    }
    expect(fused.stepCount).toBe(3);
    for (const n of Object.keys(a) as (keyof typeof a)[]) {
      expect(await relErr(f[n], a[n]), n).toBeLessThan(1e-6);
      expect(await relErr(fused.getState().m[n]!, ref.getState().m[n]!), n).toBeLessThan(1e-6);
      expect(await relErr(fused.getState().v[n]!, ref.getState().v[n]!), n).toBeLessThan(1e-6);
      expect(Array.from(await off[n].data())).toEqual(Array.from(await a[n].data()));
    }
    expect(enableNativeGemm()).toBe(true);
    expect(() => fused.step({'blocks.0.w': tf.zeros([9, 4])})).toThrow(/no gradient for 1 param\(s\): blocks.0.bias/);
    disableNativeGemm();
    for (const o of [ref, fused, fallback]) o.dispose();
    tf.dispose([...Object.values(a), ...Object.values(f), ...Object.values(off)]);
  });
  it('Tile\'s gradient (one reshape + Sum) = tfjs\'s slice-and-add gradient: ranks 1-4, one or several tiled axes, the CLS token', async () => {
    const cases: [number[], number[]][] = [[[5], [3]], [[3, 4], [2, 3]], [[1, 1, 16], [128, 1, 1]], [[2, 3, 4], [2, 1, 3]], [[2, 1, 3, 2], [1, 4, 1, 2]], [[3, 2], [1, 1]]];
    for (const [shape, reps] of cases) {
      const x = rn(shape, 101), dy = rn(shape.map((d, i) => d * reps[i]!), 102);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.tile(a, reps), dy)));
      const ref = g(x);
      expect(enableNativeGemm()).toBe(true);
      const nat = g(x);
      disableNativeGemm();
      expect(nat.shape).toEqual(shape);
      expect(await relErr(nat, ref), `${shape} × ${reps}`).toBeLessThan(1e-6);
      tf.dispose([x, dy, ref, nat]);
    }
  });
  it('bad shapes still give tfjs\'s error', () => {
    enableNativeGemm();
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow(/inner shapes/);
    disableNativeGemm();
  });
  it('a small ViT: loss and every gradient agree with the straightforward model on pure wasm (1e-5 relative)', async () => {
    const cfg = vitConfig({imageSize: 16, patchSize: 4, dModel: 32, numHeads: 4, numLayers: 2, dFF: 64, numClasses: 10});
    const params: Params = initViT(cfg, 3);
    const names = Object.keys(params), vars = names.map((n) => params[n]!);
    const images = rn([6, 16, 16, 3], 17), labels = tf.tensor1d([0, 1, 2, 3, 4, 9], 'int32');
    const ref = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), refVitForward(params, cfg, images)) as tf.Scalar, vars);
    expect(enableNativeGemm()).toBe(true);
    expect(bmmPath()).toBe('native');
    const before = tf.memory().numTensors;
    const nat = tf.variableGrads(() => crossEntropy(vitForward(params, cfg, images).logits, labels), vars);
    expect(tf.memory().numTensors - before).toBe(1 + names.length); // the loss and one gradient per parameter
    disableNativeGemm();
    expect(bmmPath()).toBe('fast');
    expect(await relErr(nat.value, ref.value)).toBeLessThan(1e-5);
    for (const v of vars) expect(await relErr(nat.grads[v.name]!, ref.grads[v.name]!), v.name).toBeLessThan(1e-5);
    tf.dispose([nat.value, ref.value, ...Object.values(nat.grads), ...Object.values(ref.grads), images, labels]);
    disposeParams(params);
  });
});
