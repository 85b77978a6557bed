import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {attentionRollout, clsAttention, clsAttentionEntropy, clsRollout, mapEntropy, meanAttentionDistance, patchDistances, pooledAttention, pooledRollout, poolWeightMap} from '../../lib/vit/attention-maps';
import {dense} from '../../lib/core/linear';
import {encoderLayer, norm} from '../../lib/transformer/encoder';
import {embed, initViT, layerConfig, vitConfig, vitForward} from '../../lib/vit/model';
import {tokenReceptiveField} from '../../lib/vit/tokenizers';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('attention rollout (Abnar & Zuidema 2020)', () => {
  // two layers, two heads, T = 2; head means: A1 = [[1, 0], [.5, .5]], A2 = [[.5, .5], [0, 1]]
  const A1 = tf.tensor4d([[[[1, 0], [1, 0]], [[1, 0], [0, 1]]]]);
  const A2 = tf.tensor4d([[[[1, 0], [0, 1]], [[0, 1], [0, 1]]]]);

  it('equals the hand-computed product (0.5·I + 0.5·Ā2)(0.5·I + 0.5·Ā1)', async () => {
    // Ā1 = [[1, 0], [.25, .75]], Ā2 = [[.75, .25], [0, 1]]  →  Ā2·Ā1 = [[.8125, .1875], [.25, .75]]
    const R = attentionRollout([A1, A2]);
    await expectAllClose(R, [[[0.8125, 0.1875], [0.25, 0.75]]], 1e-6);
    R.dispose();
  });

  it('with residual 0 is the plain product of the head-averaged maps; one layer is Ā itself', async () => {
    const R0 = attentionRollout([A1, A2], {residual: 0});
    await expectAllClose(R0, [[[0.75, 0.25], [0.5, 0.5]]], 1e-6); // [[.5,.5],[0,1]]·[[1,0],[.5,.5]]
    const R1 = attentionRollout([A1]);
    await expectAllClose(R1, [[[1, 0], [0.25, 0.75]]], 1e-6);
    tf.dispose([R0, R1]);
  });

  it('max head fusion is re-normalised so rows still sum to 1', async () => {
    const R = attentionRollout([A2], {headFusion: 'max'}); // max = [[1, 1], [0, 1]] → 0.5I + 0.5·max = [[1, .5], [0, 1]] → rows [2/3, 1/3], [0, 1]
    await expectAllClose(R, [[[2 / 3, 1 / 3], [0, 1]]], 1e-6);
    R.dispose();
  });

  it('clsRollout takes row 0 without the CLS column, on the grid, summing to 1', async () => {
    const R = tf.tensor3d([[[0.2, 0.1, 0.3, 0.2, 0.2], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]]);
    const m = clsRollout(R, [2, 2]);
    await expectAllClose(m, [[[0.125, 0.375], [0.25, 0.25]]], 1e-6);
    tf.dispose([R, m]);
  });

  it('rejects stacks of different shapes with a clear error', () => {
    const bad = tf.zeros([1, 2, 3, 3]);
    expect(() => attentionRollout([A1, bad])).toThrow(/layer 1 weights must be \[B, H, T, T\] like layer 0 \[1,2,2,2\], got \[1,2,3,3\]/);
    expect(() => attentionRollout([])).toThrow(/at least one layer/);
    expect(() => clsAttention([A1], [2, 2])).toThrow(/2 tokens is not CLS \+ a 2x2 grid/);
    bad.dispose();
  });

  it('does not leak', () => expectNoLeak(() => [attentionRollout([A1, A2]), attentionRollout([A1, A2], {headFusion: 'min'})]));
});

describe('CLS attention and mean attention distance', () => {
  it('clsAttention lays row 0 (patch columns) of every layer on the grid', async () => {
    const a = tf.tensor4d(Array.from({length: 25}, (_, i) => i), [1, 1, 5, 5]);
    const c = clsAttention([a, a], [2, 2]);
    expect(c.shape).toEqual([2, 1, 1, 2, 2]);
    await expectAllClose(tf.slice(c, [1], [1]), [1, 2, 3, 4], 0);
    c.dispose(); a.dispose();
  });

  it('patch distances are P·Euclidean distances of grid cells', async () => {
    const d = patchDistances(2, 2, 4);
    await expectAllClose(d, [[0, 4, 4, 4 * Math.SQRT2], [4, 0, 4 * Math.SQRT2, 4], [4, 4 * Math.SQRT2, 0, 4], [4 * Math.SQRT2, 4, 4, 0]], 1e-5);
    d.dispose();
  });

  it('equals the hand-computed value (CLS dropped, rows re-normalised)', async () => {
    // grid 1x2, P = 4. Head 0: patch 0 → [cls .5, p0 .25, p1 .25] → [.5, .5] → 2 px; patch 1 → p1 only → 0. Mean 1.
    // Head 1: patch 0 → p1 (4 px), patch 1 → p0 (4 px). Mean 4.
    const attn = tf.tensor4d([[[[1, 0, 0], [0.5, 0.25, 0.25], [0, 0, 1]], [[1, 0, 0], [0, 0, 1], [0, 1, 0]]]]);
    const d = meanAttentionDistance(attn, [1, 2], 4);
    await expectAllClose(d, [1, 4], 1e-6);
    tf.dispose([attn, d]);
  });
});

describe('CLS attention entropy', () => {
  it('is ln N for uniform attention, 0 for one patch, and the hand value in between', async () => {
    // B = 2 images, H = 2 heads, T = 5 (CLS + 4 patches); only row 0 matters
    const rows = [
      [[0.2, 0.2, 0.2, 0.2, 0.2], [0.6, 0.4, 0, 0, 0]],        // image 1: head 1 uniform, head 2 one patch
      [[0, 0.5, 0.5, 0, 0], [0.5, 0.125, 0.125, 0.125, 0.125]], // image 2: two patches; uniform after re-normalising
    ];
    const a = tf.tensor4d(rows.map(img => img.map(r => [r, ...Array.from({length: 4}, () => [1, 0, 0, 0, 0])])));
    const h = clsAttentionEntropy(a);
    // head 1: (ln 4 + ln 2) / 2, head 2: (0 + ln 4) / 2
    await expectAllClose(h, [(Math.log(4) + Math.log(2)) / 2, Math.log(4) / 2], 1e-6);
    tf.dispose([a, h]);
  });

  it('rejects a stack without patches and does not leak', () => {
    const a = tf.fill([1, 1, 3, 3], 1 / 3);
    expect(() => clsAttentionEntropy(a, 3)).toThrow(/needs a CLS token and patches \(3 tokens, 3 prefix\)/);
    expectNoLeak(() => [clsAttentionEntropy(a)]);
    a.dispose();
  });
});


describe('sequence pooling maps (pool seq: no CLS token)', () => {
  // the rollout example above: R = [[.8125, .1875], [.25, .75]]; pooling weights w = [.25, .75]
  const A1 = tf.tensor4d([[[[1, 0], [1, 0]], [[1, 0], [0, 1]]]]);
  const A2 = tf.tensor4d([[[[1, 0], [0, 1]], [[0, 1], [0, 1]]]]);
  const w = tf.tensor2d([[0.25, 0.75]]);

  it('pooledRollout is wᵀR, hand-computed, and sums to 1', async () => {
    const R = attentionRollout([A1, A2]);
    const m = pooledRollout(R, w, [1, 2]);
    // .25·[.8125, .1875] + .75·[.25, .75] = [.390625, .609375]
    await expectAllClose(m, [[[0.390625, 0.609375]]], 1e-6);
    tf.dispose([R, m]);
  });

  it('pooledAttention is the w-weighted mix of every layer\'s rows, per head', async () => {
    const a = pooledAttention([A1, A2], w, [1, 2]);
    expect(a.shape).toEqual([2, 1, 2, 1, 2]);
    // layer 1: head 0 rows [1, 0], [1, 0] → [1, 0]; head 1 rows [1, 0], [0, 1] → [.25, .75]
    // layer 2: head 0 rows [1, 0], [0, 1] → [.25, .75]; head 1 rows [0, 1], [0, 1] → [0, 1]
    await expectAllClose(a, [1, 0, 0.25, 0.75, 0.25, 0.75, 0, 1], 1e-6);
    a.dispose();
  });

  it('poolWeightMap lays the weights on the grid; shape errors name the problem', async () => {
    const m = poolWeightMap(tf.tensor2d([[0.125, 0.25, 0.375, 0.25]]), [2, 2]);
    await expectAllClose(m, [[[0.125, 0.25], [0.375, 0.25]]], 0);
    m.dispose();
    expect(() => poolWeightMap(w, [2, 2])).toThrow(/pooling weights must be \[B, 4\], got \[1,2\]/);
    expect(() => pooledRollout(tf.zeros([1, 3, 3]), tf.zeros([1, 3]), [2, 2])).toThrow(/3 tokens is not a 2x2 grid \(sequence pooling has no CLS token\)/);
    expect(() => pooledRollout(tf.zeros([1, 3, 3]), w, [1, 3])).toThrow(/pooling weights must be \[B, 3\], got \[1,2\]/);
    expect(() => pooledAttention([A1], tf.zeros([2, 2]), [1, 2])).toThrow(/2 pooling weight rows for 1 images/);
  });

  it('mapEntropy: ln N uniform, 0 one-hot, ln 2 for two equal entries; rows are re-normalised', async () => {
    const e = mapEntropy(tf.tensor2d([[0.25, 0.25, 0.25, 0.25], [0, 0, 1, 0], [0.5, 0.5, 0, 0], [2, 2, 0, 0]]));
    await expectAllClose(e, [Math.log(4), 0, Math.log(2), Math.log(2)], 1e-6);
    e.dispose();
  });

  it('does not leak', () => expectNoLeak(() => {
    const R = attentionRollout([A1, A2]);
    const out = [pooledRollout(R, w, [1, 2]), pooledAttention([A1, A2], w, [1, 2]), poolWeightMap(w, [1, 2]), mapEntropy(w)];
    R.dispose();
    return out;
  }));
});

describe('vitForward returnPoolWeights on a conv-tokenizer model with sequence pooling', () => {
  const cfg = vitConfig({imageSize: 16, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 2, dFF: 32, numClasses: 3,
    tokenizer: 'conv', convStages: 2, convChannels: 8, pool: 'seq'});

  it('returns softmax(LN(z_L)·w + b) over the 16 tokens, equal to a direct computation; the logits are head(Σ w_t z_t)', async () => {
    const p = initViT(cfg, 3);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 11);
    const out = vitForward(p, cfg, x, {returnPoolWeights: true, returnAttention: true});
    expect(out.poolWeights!.shape).toEqual([2, 16]);
    await expectAllClose(tf.sum(out.poolWeights!, -1), [1, 1], 1e-6);
    // direct: the encoder by hand from the model's parts, then the final tokens' scores
    const [wDirect, logitsDirect] = tf.tidy(() => {
      let z: tf.Tensor = embed(p, cfg, x);
      for (let i = 0; i < cfg.numLayers; i++) z = encoderLayer(p, `blocks.${i}`, layerConfig(cfg), z).output;
      const zL = norm(p, 'norm', z, cfg.lnEps);                                                        // [2, 16, 16]
      const s = tf.squeeze(dense(zL, p['attention_pool.weight']!, p['attention_pool.bias']!), [2]);    // [2, 16]
      const e = tf.exp(tf.sub(s, tf.max(s, -1, true)));
      const wd = tf.div(e, tf.sum(e, -1, true));
      const pooled = tf.sum(tf.mul(tf.expandDims(wd, 2), zL), 1);                                      // [2, 16]
      return [wd, dense(pooled, p['head.weight']!, p['head.bias']!)];
    });
    await expectAllClose(out.poolWeights!, wDirect, 1e-6);
    await expectAllClose(out.logits, logitsDirect, 1e-5);
    // the maps of a real forward pass are distributions over the 16 tokens
    const R = attentionRollout(out.attentions!);
    const roll = pooledRollout(R, out.poolWeights!, [4, 4]);
    await expectAllClose(tf.sum(roll, [1, 2]), [1, 1], 1e-5);
    const last = pooledAttention(out.attentions!, out.poolWeights!, [4, 4]);
    await expectAllClose(tf.sum(last, [3, 4]), new Array(2 * 2 * 2).fill(1), 1e-5);
    // without the option there is no poolWeights, with a CLS model the option is refused
    const plain = vitForward(p, cfg, x);
    expect(plain.poolWeights).toBeUndefined();
    const cls = vitConfig({...cfg, pool: 'cls'});
    expect(() => vitForward(p, cls, x, {returnPoolWeights: true})).toThrow(/returnPoolWeights needs sequence pooling \(pool 'seq'\); this model pools with 'cls'/);
    tf.dispose([x, out.logits, out.poolWeights!, ...out.attentions!, wDirect, logitsDirect, R, roll, last, plain.logits]);
    disposeParams(p);
  });

  it('does not leak', () => {
    const p = initViT(cfg, 3);
    const x = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 12);
    expectNoLeak(() => {
      const o = vitForward(p, cfg, x, {returnPoolWeights: true, returnAttention: true});
      return [o.logits, o.poolWeights!, ...o.attentions!];
    });
    x.dispose();
    disposeParams(p);
  });
});

describe('tokenReceptiveField', () => {
  it('patches: P pixels every P; conv tokenizer: 13 px every 4 (2 stages), 29 every 8 (3 stages)', () => {
    const base = {imageSize: 32, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 1, dFF: 32, numClasses: 3};
    expect(tokenReceptiveField(vitConfig(base))).toEqual({size: 4, stride: 4, firstCentre: 1.5});
    expect(tokenReceptiveField(vitConfig({...base, tokenizer: 'conv', convStages: 2}))).toEqual({size: 13, stride: 4, firstCentre: 0});
    expect(tokenReceptiveField(vitConfig({...base, tokenizer: 'conv', convStages: 3}))).toEqual({size: 29, stride: 8, firstCentre: 0});
    expect(tokenReceptiveField(vitConfig({...base, tokenizer: 'shifted-patch'}))).toEqual({size: 8, stride: 4, firstCentre: 1.5});
  });

  it('the conv tokenizer\'s token (4, 4) depends on exactly the 13×13 pixels centred on (16, 16) (gradients over random images)', async () => {
    const cfg = vitConfig({imageSize: 32, patchSize: 4, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 3,
      tokenizer: 'conv', convStages: 2, convChannels: 8});
    const p = initViT(cfg, 1);
    const {convTokens} = await import('../../lib/vit/tokenizers');
    const hit = new Uint8Array(32 * 32);
    for (let s = 0; s < 6; s++) {
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 20 + s);
      const g = tf.grad((im: tf.Tensor) => tf.sum(tf.slice(convTokens(p, cfg, im), [0, 4 * 8 + 4, 0], [1, 1, 8])))(x); // [1, 32, 32, 3]
      const a = tf.tidy(() => tf.sum(tf.abs(g), [0, 3])).dataSync();                              // [32·32]
      a.forEach((v, i) => { if (v > 0) hit[i] = 1; });
      tf.dispose([x, g]);
    }
    const rows = [...new Set(Array.from(hit.keys()).filter(i => hit[i]).map(i => Math.floor(i / 32)))];
    const cols = [...new Set(Array.from(hit.keys()).filter(i => hit[i]).map(i => i % 32))];
    const {size, stride, firstCentre} = tokenReceptiveField(cfg), c = firstCentre + 4 * stride, r = (size - 1) / 2;
    expect([Math.min(...rows), Math.max(...rows), Math.min(...cols), Math.max(...cols)]).toEqual([c - r, c + r, c - r, c + r]);
    disposeParams(p);
  });
});
