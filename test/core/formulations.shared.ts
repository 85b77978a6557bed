/**
 * Every fast formulation in lib/core (and the ViT built from them) against the straightforward
 * version (test/core/reference-vit.ts): outputs, loss and gradients within 1e-5 relative.
 * Run on cpu (formulations.test.ts) and on wasm (formulations-wasm.test.ts).
 */
import {nativeKernelsActive} from '../../lib/core/kernel-path';
import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {activation, gelu, geluTanh} from '../../lib/core/activations';
import {bmm, bmmPath, setBmmImpl} from '../../lib/core/bmm';
import {layerNorm} from '../../lib/core/layernorm';
import {dense} from '../../lib/core/linear';
import {disposeParams, Params} from '../../lib/core/params';
import {crossEntropy} from '../../lib/optim/losses';
import {multiHeadAttention} from '../../lib/transformer/attention';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';
import {patchify} from '../../lib/vit/patches';
import {refAttention, refGelu, refLayerNorm, refLinear, refPatchify, refVitForward, relErr} from './reference-vit';

const TOL = 1e-5;

/** Compare value and gradients (w.r.t. every input) of fast vs ref for loss = sum(f(xs) · r). */
async function compare(fast: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): Promise<number[]> {
  const before = tf.memory().numTensors;
  const errs = await (async () => {
    const out = tf.tidy(() => ref(...xs));
    const r = tf.randomNormal(out.shape, 0, 1, 'float32', 11);
    const loss = (f: (...a: tf.Tensor[]) => tf.Tensor) => (...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r));
    const fo = tf.tidy(() => fast(...xs));
    const e = [await relErr(fo, out)];
    const gf = tf.grads(loss(fast))(xs), gr = tf.grads(loss(ref))(xs);
    for (let i = 0; i < xs.length; i++) e.push(await relErr(gf[i]!, gr[i]!));
    tf.dispose([out, r, fo, ...gf, ...gr]);
    return e;
  })();
  expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
  tf.dispose(xs);
  return errs;
}

/** Re-key tf.variableGrads' result (keyed by variable name) by parameter name. */
function byName(params: Params, r: {value: tf.Scalar; grads: tf.NamedTensorMap}): {value: tf.Scalar; grads: tf.NamedTensorMap} {
  const grads: tf.NamedTensorMap = {};
  for (const [n, v] of Object.entries(params)) if (r.grads[v.name]) grads[n] = r.grads[v.name]!;
  return {value: r.value, grads};
}

const rn = (shape: number[], seed: number, mean = 0, std = 1) => tf.randomNormal(shape, mean, std, 'float32', seed);

export function formulationTests(backend: 'cpu' | 'wasm'): void {
  describe(`formulations on ${backend}: each op against the straightforward version (1e-5 relative)`, () => {
    it('backend is the one asked for', () => {
      expect(tf.getBackend()).toBe(backend);
      expect(bmmPath()).toBe(backend === 'wasm' ? (nativeKernelsActive() ? 'native' : 'fast') : 'stock'); // native: the default when built; COURSE_NATIVE=0: FastBMM
    });
    it('dense: x·W + b with autograd (the kernels underneath) = the reference matMul + add', async () => {
      const errs = await compare(dense, (x, w, b) => refLinear(x, w!, b!), [rn([4, 7, 24], 1), rn([24, 40], 2), rn([40], 3)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
    });
    it('layerNorm: analytic gradient = tf.moments with autograd', async () => {
      const errs = await compare((x, g, b) => layerNorm(x, g!, b!, 1e-6), (x, g, b) => refLayerNorm(x, g!, b!, 1e-6), [rn([4, 7, 24], 4, 1, 2), rn([24], 5, 1, 0.3), rn([24], 6)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
    });
    it('gelu: exact erf GELU with a custom gradient = composed erf GELU with autograd', async () => {
      const errs = await compare(gelu, refGelu, [rn([6, 50], 7, 0, 2)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
    });
    it('column sums tf.sum(x, 0) (bias gradients; a GEMM or one native pass on wasm) = a last-axis sum of the transpose', async () => {
      const errs = await compare((x) => tf.sum(x, 0), (x) => tf.sum(tf.transpose(x), 1), [rn([300, 17], 19, 1, 3)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
    });
    it('geluTanh: custom gradient = autograd of the tanh formula; max error vs exact GELU ≈ 4.7e-4 (why it is not the default)', async () => {
      const k = Math.sqrt(2 / Math.PI);
      const ref = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), k))));
      const errs = await compare(geluTanh, ref, [rn([6, 50], 20, 0, 2)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
      const x = tf.linspace(-6, 6, 12001);
      const worst = (await tf.max(tf.abs(tf.sub(activation('gelu_tanh', x), gelu(x)))).data())[0]!;
      expect(worst).toBeGreaterThan(4e-4);
      expect(worst).toBeLessThan(5e-4);
      expect(() => activation('swish' as never, x)).toThrow(/unknown activation "swish"/);
      x.dispose();
    });
    it('patchify: rank-4 transpose = rank-6 transpose', async () => {
      const errs = await compare((x) => patchify(x, 4), (x) => refPatchify(x, 4), [rn([2, 16, 16, 3], 8)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
    });
    it('bmm (tf.matMul on the kernels underneath) = broadcast multiply + sum with autograd, odd shapes included', async () => {
      // Σ_k a[n,m,k]·b[n,k,p] without any matMul kernel
      const ref = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.expandDims(a, 3), tf.expandDims(b, 1)), 2);
      for (const [n, m, k, p] of [[6, 9, 8, 5], [1, 1, 3, 1], [3, 17, 1, 4], [12, 65, 16, 65]]) {
        const errs = await compare(bmm, (a, b) => ref(a, b!), [rn([n!, m!, k!], 9), rn([n!, k!, p!], 10)]);
        for (const e of errs) expect(e, `shape ${[n, m, k, p]}`).toBeLessThan(TOL);
      }
    });
    it('multi-head attention: column-block QKV + rank-4 split + bmm = fused QKV + rank-5 split + flag matMuls', async () => {
      const D = 24, H = 3;
      const params = {
        'a.qkv.weight': tf.variable(rn([D, 3 * D], 12, 0, 0.3)), 'a.qkv.bias': tf.variable(rn([3 * D], 13, 0, 0.1)),
        'a.proj.weight': tf.variable(rn([D, D], 14, 0, 0.3)), 'a.proj.bias': tf.variable(rn([D], 15, 0, 0.1)),
      };
      const errs = await compare((x) => multiHeadAttention(params, 'a', x, null, H).output, (x) => refAttention(params, 'a', x, H), [rn([3, 9, D], 16)]);
      for (const e of errs) expect(e).toBeLessThan(TOL);
      disposeParams(params);
    });
  });

  describe(`a small ViT on ${backend}: lib forward/backward = straightforward version`, () => {
    it('loss and the gradient of every parameter agree within 1e-5 relative', async () => {
      const cfg = vitConfig({imageSize: 16, patchSize: 4, dModel: 32, numHeads: 4, numLayers: 2, dFF: 64, numClasses: 10});
      const params = initViT(cfg, 3);
      const images = rn([6, 16, 16, 3], 17), labels = tf.tensor1d([0, 1, 2, 3, 4, 9], 'int32');
      const vars = Object.values(params);
      const before = tf.memory().numTensors;
      const lib = byName(params, tf.variableGrads(() => crossEntropy(vitForward(params, cfg, images).logits, labels), vars));
      const ref = byName(params, tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), refVitForward(params, cfg, images)) as tf.Scalar, vars));
      expect(await relErr(lib.value, ref.value)).toBeLessThan(TOL);
      const names = Object.keys(params);
      expect(Object.keys(lib.grads).sort()).toEqual([...names].sort());
      const worst: [string, number][] = [];
      for (const n of names) worst.push([n, await relErr(lib.grads[n]!, ref.grads[n]!)]);
      for (const [n, e] of worst) expect(e, `gradient of ${n}`).toBeLessThan(TOL);
      tf.dispose([lib.value, ref.value, ...Object.values(lib.grads), ...Object.values(ref.grads)]);
      expect(tf.memory().numTensors).toBe(before);
      disposeParams(params);
      tf.dispose([images, labels]);
    });
    it('the stock and the fast pure-wasm matMul kernels give the same ViT gradients (setBmmImpl)', async () => {
      const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 1, dFF: 32, numClasses: 3});
      const params = initViT(cfg, 5);
      const images = rn([4, 8, 8, 3], 18), labels = tf.tensor1d([0, 1, 2, 1], 'int32');
      const run = () => byName(params, tf.variableGrads(() => crossEntropy(vitForward(params, cfg, images).logits, labels), Object.values(params)));
      setBmmImpl('stock');
      expect(bmmPath()).toBe(nativeKernelsActive() ? 'native' : 'stock');
      const a = run();
      setBmmImpl('auto');
      const b = run();
      expect(await relErr(b.value, a.value)).toBeLessThan(TOL);
      for (const n of Object.keys(params)) expect(await relErr(b.grads[n]!, a.grads[n]!), n).toBeLessThan(TOL);
      tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), images, labels]);
      disposeParams(params);
    });
    it('setBmmImpl rejects an unknown name', () => {
      expect(() => setBmmImpl('fast' as never)).toThrow(/expected 'auto' or 'stock'/);
    });
  });
}
