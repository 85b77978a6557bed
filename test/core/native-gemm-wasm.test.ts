/**
 * The optional OpenBLAS GEMM (lib/core/native-gemm.ts) against the pure wasm path: every matMul
 * form and a small ViT's loss and gradients within 1e-5 relative. Skipped when the addon is not
 * built (CI); build it with `bash scripts/bench/build-native-gemm.sh`.
 */
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../lib/backend';
import {bmmPath} from '../../lib/core/bmm';
import {disableNativeGemm, enableNativeGemm, nativeGemmActive, nativeGemmAvailable, nativeGemmStatus} from '../../lib/core/native-gemm';
import {disposeParams, Params} from '../../lib/core/params';
import {crossEntropy} from '../../lib/optim/losses';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';
import {refVitForward, relErr} from './reference-vit';

const built = nativeGemmAvailable();

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => disableNativeGemm());

describe('native GEMM availability', () => {
  it('says whether it is built, and is off until enabled', () => {
    expect(nativeGemmStatus()).toMatch(built ? /built, off/ : /not built|failed to load/);
    expect(nativeGemmActive()).toBe(false);
  });
});

describe.skipIf(!built)('native GEMM (OpenBLAS) = pure wasm path', () => {
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
