/**
 * ViT options for small data (lib/vit/tokenizers.ts, lib/transformer/encoder.ts): the CCT conv
 * tokenizer against tf.conv2d + tf.maxPool on cpu, shifted patches by hand, locality self-attention
 * (diagonal masked, learnable temperature) against a by-hand attention, sequence pooling, the blog's
 * Linear(1 → D) positions, stochastic depth; shapes, gradients, config validation, no leaks.
 */
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams} from '../../lib/core/params';
import {dropPath} from '../../lib/transformer/encoder';
import {dropPathRate, initViT, numTokens, vitConfig, ViTConfig, vitForward, vitParamShapes} from '../../lib/vit/model';
import {convTokens, shiftedImages} from '../../lib/vit/tokenizers';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

const small = (o: Partial<ViTConfig>) => vitConfig({imageSize: 16, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 2, dFF: 32, numClasses: 3, ...o});

const VARIANTS: [string, ViTConfig][] = [
  ['conv tokenizer (2 stages) + seq pool', small({tokenizer: 'conv', convStages: 2, convChannels: 8, pool: 'seq'})],
  ['conv tokenizer (1 stage) + cls', small({tokenizer: 'conv', convStages: 1, convChannels: 8})],
  ['shifted patches + LSA', small({tokenizer: 'shifted-patch', lsa: true})],
  ['post-norm + index-linear positions + flatten (the blog)', small({norm: 'post', posEmbed: 'index-linear', pool: 'flatten', dropout: 0.1})],
  ['LSA + drop path + mean pool', small({lsa: true, dropPath: 0.2, pool: 'mean'})],
];

describe('ViT small-data variants: shapes, parameter shapes, gradients, no leaks', () => {
  for (const [name, cfg] of VARIANTS) {
    it(name, () => {
      const p = initViT(cfg, 3);
      const shapes: Record<string, number[]> = {};
      for (const [n, v] of Object.entries(p)) shapes[n] = v.shape;
      expect(shapes).toEqual(vitParamShapes(cfg));
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 4), y = tf.oneHot([0, 2], 3);
      const out = vitForward(p, cfg, x, {returnAttention: true});
      expect(out.logits.shape).toEqual([2, 3]);
      expect(out.attentions![0]!.shape).toEqual([2, 2, numTokens(cfg), numTokens(cfg)]);
      const {value, grads} = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, vitForward(p, cfg, x, {training: true, seed: 5}).logits) as tf.Scalar, Object.values(p));
      for (const [n, v] of Object.entries(p)) {
        const g = grads[v.name];
        expect(g, n).toBeDefined();
        expect(tf.tidy(() => tf.sum(tf.abs(g!)).dataSync()[0]), `gradient of ${n}`).toBeGreaterThan(0);
      }
      tf.dispose([x, y, out.logits, ...out.attentions!, value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      disposeParams(p);
    });
  }
  it('token counts: conv 32 px → 16x16 (1 stage), 8x8 (2), 4x4 (3); shifted patches as patches', () => {
    expect(numTokens(vitConfig({tokenizer: 'conv', convStages: 1, pool: 'seq'}))).toBe(256);
    expect(numTokens(vitConfig({tokenizer: 'conv', convStages: 2, pool: 'seq'}))).toBe(64);
    expect(numTokens(vitConfig({tokenizer: 'conv', convStages: 3}))).toBe(17);
    expect(numTokens(vitConfig({tokenizer: 'shifted-patch', patchSize: 4}))).toBe(65);
  });
});

describe('conv tokenizer (CCT) = tf.conv2d → relu → tf.maxPool(3, 2, 1) on cpu, per stage', () => {
  it('tokens equal the reference built from tfjs ops', () => {
    const cfg = small({tokenizer: 'conv', convStages: 2, convChannels: 8});
    const p = initViT(cfg, 1);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 9);
    const tok = convTokens(p, cfg, x);
    expect(tok.shape).toEqual([2, 16, 16]);
    const ref = tf.tidy(() => {
      let h: tf.Tensor4D = x as tf.Tensor4D;
      for (let i = 0; i < 2; i++) h = tf.maxPool(tf.relu(tf.conv2d(h, p[`tokenizer.conv${i}.weight`] as unknown as tf.Tensor4D, 1, 1)), 3, 2, 1);
      return tf.reshape(h, [2, 16, 16]);
    });
    expect(tf.max(tf.abs(tf.sub(tok, ref))).dataSync()[0]).toBeLessThan(1e-5);
    const w = p['tokenizer.conv0.weight']!.dataSync();
    let s2 = 0;
    for (const v of w) s2 += v * v;
    expect(Math.sqrt(s2 / w.length)).toBeGreaterThan(0.8 * Math.sqrt(2 / 27)); // Kaiming normal: std √(2 / fan_in)
    expect(Math.sqrt(s2 / w.length)).toBeLessThan(1.2 * Math.sqrt(2 / 27));
    tf.dispose([x, tok, ref]);
    disposeParams(p);
  });
});

describe('shifted patch tokenization (SPT)', () => {
  it('concatenates the image and its 4 diagonal shifts by s (zeros shifted in), by hand on a 3x3 image, s = 1', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const s = shiftedImages(x, 1);
    expect(s.shape).toEqual([1, 3, 3, 5]);
    const ch = (c: number) => Array.from(tf.tidy(() => tf.slice(s, [0, 0, 0, c], [1, 3, 3, 1]).dataSync()));
    expect(ch(0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ch(1)).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]); // left-up crop x_pad[0:H, 0:W]: content moves down-right
    expect(ch(2)).toEqual([0, 0, 0, 2, 3, 0, 5, 6, 0]); // right-up x_pad[0:H, 2s:]
    expect(ch(3)).toEqual([0, 4, 5, 0, 7, 8, 0, 0, 0]); // left-down x_pad[2s:, 0:W]
    expect(ch(4)).toEqual([5, 6, 0, 8, 9, 0, 0, 0, 0]); // right-down x_pad[2s:, 2s:]
    tf.dispose([x, s]);
  });
});

describe('locality self-attention (LSA)', () => {
  it('masks the diagonal, starts at temperature 1/√d_h, and equals softmax(τ·QKᵀ) computed by hand', () => {
    const cfg = small({lsa: true, numLayers: 1, pool: 'mean'});
    const p = initViT(cfg, 2);
    expect(Array.from(p['blocks.0.attn.temperature']!.dataSync())).toEqual([1 / Math.sqrt(8), 1 / Math.sqrt(8)].map(Math.fround));
    p['blocks.0.attn.temperature']!.assign(tf.tensor1d([0.7, -0.2]));
    const x = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 6);
    const out = vitForward(p, cfg, x, {returnAttention: true});
    const att = out.attentions![0]!;                    // [1, 2, 16, 16]
    const ref = tf.tidy(() => {
      const tokens = tf.add(tf.add(tf.matMul(tf.reshape(tf.tidy(() => {
        const r = tf.reshape(x, [1 * 4, 4, 4, 12]);
        return tf.reshape(tf.transpose(r, [0, 2, 1, 3]), [16, 48]);
      }), [16, 48]), p['patch_embed.proj.weight']!), p['patch_embed.proj.bias']!), tf.reshape(p['pos_embed']!, [16, 16]));
      const m = tf.moments(tokens, -1, true);
      const ln = tf.add(tf.mul(tf.div(tf.sub(tokens, m.mean), tf.sqrt(tf.add(m.variance, cfg.lnEps))), p['blocks.0.norm1.weight']!), p['blocks.0.norm1.bias']!);
      const qkv = tf.add(tf.matMul(ln, p['blocks.0.attn.qkv.weight']!), p['blocks.0.attn.qkv.bias']!); // [16, 48]
      const heads = [0, 1].map((h) => {
        const q = tf.slice(qkv, [0, h * 8], [16, 8]), k = tf.slice(qkv, [0, 16 + h * 8], [16, 8]);
        const scores = tf.mul(tf.matMul(q, k, false, true), [0.7, -0.2][h]!);
        return tf.softmax(tf.add(scores, tf.mul(tf.eye(16), -1e9)));
      });
      return tf.stack(heads).reshape([1, 2, 16, 16]);
    });
    expect(tf.max(tf.abs(tf.sub(att, ref))).dataSync()[0]).toBeLessThan(1e-5);
    const diag = tf.tidy(() => tf.sum(tf.mul(att, tf.eye(16))).dataSync()[0]);
    expect(diag).toBe(0);
    tf.dispose([x, out.logits, att, ref]);
    disposeParams(p);
  });
});

describe('sequence pooling and index-linear positions', () => {
  it('seq pool with a zero scoring vector is the mean of the tokens', () => {
    const cfgSeq = small({pool: 'seq'}), cfgMean = small({pool: 'mean'});
    const p = initViT(cfgSeq, 4);
    p['attention_pool.weight']!.assign(tf.zeros([16, 1]));
    const q = initViT(cfgMean, 4);                      // same seed: same weights except attention_pool and the head (drawn after it)
    q['head.weight']!.assign(p['head.weight']!); q['head.bias']!.assign(p['head.bias']!);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 7);
    const a = vitForward(p, cfgSeq, x).logits, b = vitForward(q, cfgMean, x).logits;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, a, b]);
    disposeParams(p); disposeParams(q);
  });
  it('the blog\'s Linear(1 → D): token t gets t·w + b', async () => {
    const {indexLinearPositions} = await import('../../lib/vit/tokenizers');
    const cfg = small({posEmbed: 'index-linear', pool: 'flatten'});
    const p = initViT(cfg, 5);
    expect(p['pos_embed']).toBeUndefined();
    p['pos_embed_linear.weight']!.assign(tf.tensor2d([Array.from({length: 16}, (_, i) => i)], [1, 16]));
    p['pos_embed_linear.bias']!.assign(tf.fill([16], 0.5));
    const pos = indexLinearPositions(p, 3);
    expect(pos.arraySync()[0]!.map((r) => r.slice(0, 3))).toEqual([[0.5, 0.5, 0.5], [0.5, 1.5, 2.5], [0.5, 2.5, 4.5]]);
    pos.dispose();
    disposeParams(p);
  });
});

describe('stochastic depth', () => {
  it('rate is linear in depth: 0 at the first block, dropPath at the last', () => {
    const cfg = vitConfig({numLayers: 4, dropPath: 0.3});
    const rates = [0, 1, 2, 3].map((i) => dropPathRate(cfg, i));
    [0, 0.1, 0.2, 0.3].forEach((want, i) => expect(rates[i]).toBeCloseTo(want, 12));
    expect(dropPathRate(vitConfig({numLayers: 4}), 3)).toBe(0);
  });
  it('drops whole samples with probability rate and scales the kept ones by 1/(1 − rate)', () => {
    const x = tf.ones([4000, 2, 3]);
    const y = dropPath(x, 0.25, 123);
    const v = y.dataSync();
    let kept = 0;
    for (let b = 0; b < 4000; b++) {
      const s = v.slice(b * 6, b * 6 + 6);
      expect(new Set(s).size).toBe(1);                  // a sample is dropped or kept as a whole
      if (s[0] !== 0) { kept++; expect(s[0]).toBeCloseTo(1 / 0.75, 6); }
    }
    expect(kept / 4000).toBeGreaterThan(0.72);
    expect(kept / 4000).toBeLessThan(0.78);
    expect(dropPath(x, 0)).toBe(x);
    expect(() => dropPath(x, 1)).toThrow(/rate must be in \[0, 1\) \(got 1\)/);
    tf.dispose([x, y]);
  });
  it('is off at evaluation: forward without training is deterministic', () => {
    const cfg = small({dropPath: 0.5});
    const p = initViT(cfg, 8);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 1);
    const a = vitForward(p, cfg, x).logits, b = vitForward(p, cfg, x).logits;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    disposeParams(p);
  });
});

describe('config: new fields are optional and validated', () => {
  it('a config without them stays as it was (older checkpoints load unchanged)', () => {
    expect(Object.keys(vitConfig({}))).toEqual(['imageSize', 'patchSize', 'channels', 'dModel', 'numHeads', 'numLayers', 'dFF', 'numClasses', 'dropout', 'pool', 'activation', 'lnEps']);
  });
  it('rejects bad values with a message naming the field', () => {
    expect(() => vitConfig({tokenizer: 'cnn' as never})).toThrow(/tokenizer must be one of patch, conv, shifted-patch \(got cnn\)/);
    expect(() => vitConfig({norm: 'mid' as never})).toThrow(/norm must be one of pre, post/);
    expect(() => vitConfig({posEmbed: 'sine' as never})).toThrow(/posEmbed must be one of learned, index-linear, none/);
    expect(() => vitConfig({lsa: 'yes' as never})).toThrow(/lsa must be true or false/);
    expect(() => vitConfig({convStages: 0})).toThrow(/convStages must be a positive integer \(got 0\)/);
    expect(() => vitConfig({convChannels: 2.5})).toThrow(/convChannels must be a positive integer/);
    expect(() => vitConfig({dropPath: 1})).toThrow(/dropPath must be in \[0, 1\) \(got 1\)/);
    expect(() => vitConfig({pool: 'max' as never})).toThrow(/pool must be cls, mean, flatten or seq/);
  });
});
