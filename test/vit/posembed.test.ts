import {readFileSync} from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';
import {interpolatePosEmbed, posEmbedCosine, resizeMatrix, resizeViT, sincos2dPosEmbed, useSincosPosEmbed} from '../../lib/vit/posembed';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);
const g = JSON.parse(readFileSync('test/golden/vit-timm.json', 'utf8'));

describe('2-D sin/cos position embeddings', () => {
  it('row half depends only on the row, column half only on the column; CLS row is zero', async () => {
    const pe = await sincos2dPosEmbed(3, 4, 8).array(); // [1, 13, 8]
    const tok = (i: number, j: number) => pe[0]![1 + i * 4 + j]!;
    expect(pe[0]![0]).toEqual(new Array(8).fill(0));
    expect(tok(2, 0).slice(0, 4)).toEqual(tok(2, 3).slice(0, 4));
    expect(tok(0, 1).slice(4)).toEqual(tok(2, 1).slice(4));
    // row 2, frequency k = 1 of D/4 = 2: ω = 10000^(-1/2) → sin(2·0.01), cos(2·0.01)
    expect(tok(2, 0)[1]).toBeCloseTo(Math.sin(0.02), 6);
    expect(tok(2, 0)[3]).toBeCloseTo(Math.cos(0.02), 6);
  });

  it('rejects dModel not divisible by 4', () => {
    expect(() => sincos2dPosEmbed(2, 2, 6)).toThrow(/dModel \(6\) must be divisible by 4/);
  });
});

describe('position-embedding interpolation', () => {
  const pos = tf.tensor(g.pos_embed); // [1, 17, 16]

  it('to the same grid is the identity (both modes)', async () => {
    for (const mode of ['bilinear', 'bicubic'] as const) {
      const same = interpolatePosEmbed(pos, [4, 4], {mode});
      await expectAllClose(same, pos, 1e-6);
      same.dispose();
    }
  });

  it('resampling matrix rows sum to 1 and 2→4 bilinear is [1, .75/.25, .25/.75, 1]', () => {
    const R = resizeMatrix(2, 4, 'bilinear');
    expect(Array.from(R)).toEqual([1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
    const C = resizeMatrix(5, 7, 'bicubic');
    for (let i = 0; i < 7; i++) expect(C.slice(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('matches torch F.interpolate (bicubic and bilinear, up and down; CLS kept)', async () => {
    for (const [grid, mode, want] of [[6, 'bicubic', g.pos_bicubic_6x6], [6, 'bilinear', g.pos_bilinear_6x6], [3, 'bicubic', g.pos_bicubic_3x3]] as const) {
      const r = interpolatePosEmbed(pos, [grid, grid], {mode});
      expect(r.shape).toEqual([1, 1 + grid * grid, 16]);
      await expectAllClose(r, want, 1e-5);
      r.dispose();
    }
  });

  it('the resized model runs at the new size; same size gives the same logits', async () => {
    const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 3});
    const p = initViT(cfg, 0);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 7);
    const same = resizeViT(p, cfg, 8);
    const a = vitForward(p, cfg, x).logits, b = vitForward(same.params, same.config, x).logits;
    await expectAllClose(b, a, 1e-6);
    const big = resizeViT(p, cfg, 16);
    const x16 = tf.image.resizeBilinear(x as tf.Tensor4D, [16, 16]);
    const c = vitForward(big.params, big.config, x16).logits;
    expect(c.shape).toEqual([2, 3]);
    expect(big.params['pos_embed']!.shape).toEqual([1, 17, 8]);
    tf.dispose([x, x16, a, b, c, same.params['pos_embed']!, big.params['pos_embed']!]);
    disposeParams(p);
  });

  it('a conv-tokenizer model with sequence pooling resizes to its tokenizer\'s grid (48 px → 12×12 tokens, no CLS row)', async () => {
    const cfg = vitConfig({imageSize: 32, patchSize: 4, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 3,
      tokenizer: 'conv', convStages: 2, convChannels: 4, pool: 'seq'});
    const p = initViT(cfg, 0);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7);
    const same = resizeViT(p, cfg, 32);
    await expectAllClose(vitForward(same.params, same.config, x).logits, vitForward(p, cfg, x).logits, 1e-6);
    const big = resizeViT(p, cfg, 48);
    expect(big.params['pos_embed']!.shape).toEqual([1, 144, 8]);
    const x48 = tf.image.resizeBilinear(x as tf.Tensor4D, [48, 48]);
    const c = vitForward(big.params, big.config, x48).logits;
    expect(c.shape).toEqual([2, 3]);
    tf.dispose([x, x48, c, same.params['pos_embed']!, big.params['pos_embed']!]);
    disposeParams(p);
  });

  it('bad inputs give clear errors', () => {
    expect(() => interpolatePosEmbed(pos, [4, 4], {prefixTokens: 0})).toThrow(/17 tokens − 0 prefix = 17 patch positions, which is not a 4x4 grid/);
    expect(() => interpolatePosEmbed(tf.zeros([17, 16]), [4, 4])).toThrow(/posEmbed must be \[1, T, D\]/);
    const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 3, pool: 'flatten'});
    const p = initViT(cfg, 0);
    expect(() => resizeViT(p, cfg, 16)).toThrow(/flatten head .* cannot run at another image size/);
    expect(() => resizeViT(p, {...cfg, pool: 'cls'}, 10)).toThrow(/10x10 is not divisible by the patch size 4/);
    disposeParams(p);
  });

  it('does not leak', () => expectNoLeak(() => [interpolatePosEmbed(pos, [5, 3]), sincos2dPosEmbed(2, 2, 4)]));
});

describe('posEmbedCosine', () => {
  it('is 1 on the diagonal and equals the hand value for two vectors', async () => {
    const pe = tf.tensor3d([[[9, 9], [1, 0], [1, 1]]]); // CLS, then (1, 0) and (1, 1): cos = 1/√2
    const s = posEmbedCosine(pe);
    await expectAllClose(s, [[1, Math.SQRT1_2], [Math.SQRT1_2, 1]], 1e-6);
    tf.dispose([pe, s]);
  });
});

describe('useSincosPosEmbed', () => {
  it('puts the fixed table into pos_embed and the model still runs', async () => {
    const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 3});
    const p = initViT(cfg, 0);
    expect(useSincosPosEmbed(p, cfg)).toEqual(['pos_embed']);
    const want = sincos2dPosEmbed(2, 2, 8);
    await expectAllClose(p['pos_embed']!, want, 0);
    const x = tf.zeros([1, 8, 8, 3]);
    const {logits} = vitForward(p, cfg, x);
    expect(logits.shape).toEqual([1, 3]);
    tf.dispose([want, x, logits]);
    expect(() => useSincosPosEmbed(p, {...cfg, imageSize: 12})).toThrow(/pos_embed is \[1,5,8\] but the config needs \[1,10,8\]/);
    disposeParams(p);
  });
});
