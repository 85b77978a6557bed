/**
 * The site's ViT demo (site/client/demo-vit.js, a standalone forward pass for the browser) run in
 * Node on the same weights as lib/vit/model.ts: probabilities and maps must agree, for the plain
 * patch ViT with a CLS token and for the conv-tokenizer model with sequence pooling (the `fast` and
 * `long` recipes). The demo's file exports its functions when it runs under Node (module.exports);
 * site.test.ts checks the same forward pass in headless Chromium on the built site.
 */
import * as tf from '@tensorflow/tfjs';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {disposeParams, Params} from '../../lib/core/params';
import {CIFAR10_MEAN, CIFAR10_STD} from '../../lib/data/normalize';
import {saveCheckpoint} from '../../lib/io/checkpoint';
import {attentionRollout, clsAttention, clsRollout, pooledAttention, pooledRollout} from '../../lib/vit/attention-maps';
import {initViT, ViTConfig, vitConfig, vitForward} from '../../lib/vit/model';
import {vitDemo} from '../../site/demos';
import {expectAllClose, setupBackend} from '../helpers';

const demo = createRequire(__filename)(resolve(__dirname, '../../site/client/demo-vit.js'));
const section = {dataset: {mean: JSON.stringify(CIFAR10_MEAN), std: JSON.stringify(CIFAR10_STD)}};
let tmp: string;

beforeAll(async () => { await setupBackend(); tmp = mkdtempSync(join(tmpdir(), 'demo-vit-')); });
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

const base = {imageSize: 32, patchSize: 4, dModel: 16, numHeads: 2, numLayers: 2, dFF: 32, numClasses: 10};
const MODELS: [string, ViTConfig][] = [
  ['patch 4 + CLS (cifar-small\'s architecture)', vitConfig({...base, pool: 'cls'})],
  ['conv tokenizer + sequence pooling (fast/long\'s architecture)', vitConfig({...base, tokenizer: 'conv', convStages: 2, convChannels: 8, pool: 'seq', dropPath: 0.1})],
];

/** The model as the site ships it: model.safetensors (saveCheckpoint, as export-model) + config.json (the recipe). */
async function shipped(cfg: ViTConfig, params: Params, name: string): Promise<{buf: ArrayBuffer; config: unknown}> {
  const file = join(tmp, `${name}.safetensors`);
  await saveCheckpoint(file, params, {meta: {recipe: {name, model: cfg}}});
  const bytes = readFileSync(file);
  return {buf: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), config: {name, model: cfg}};
}

/** A smooth random image in 0..1, [32·32·3] as the demo gets it from its canvas. */
function pixels(seed: number): Float32Array {
  const t = tf.tidy(() => tf.sigmoid(tf.randomNormal([32 * 32 * 3], 0, 1.5, 'float32', seed)));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

describe('site ViT demo vs lib/vit/model.ts', () => {
  for (const [i, [name, cfg]] of MODELS.entries()) {
    it(`${name}: same probabilities and the same maps`, async () => {
      const params = initViT(cfg, 7 + i);
      // larger weights than the initialisation so that probabilities and maps are far from uniform
      tf.tidy(() => {
        for (const [n, v] of Object.entries(params)) {
          if (v.rank >= 2) v.assign(tf.mul(v, n.startsWith('head') || n.startsWith('attention_pool') ? 50 : 3));
        }
      });
      const {buf, config} = await shipped(cfg, params, `m${i}`);
      const tensors = demo.parseSafetensors(buf);
      const dcfg = demo.readConfig(config, tensors, section);
      expect(dcfg.pool).toBe(cfg.pool);
      expect(dcfg.tokenizer).toBe(cfg.tokenizer ?? 'patch');
      expect(dcfg.grid).toBe(8);
      const before = tf.memory().numTensors;
      const W = demo.loadWeights(tf, tensors, dcfg);
      for (const seed of [1, 2]) {
        const px = pixels(seed);
        const out = demo.forward(tf, W, dcfg, px);
        const maps: Record<string, number[]> = {};
        for (const mode of cfg.pool === 'seq' ? ['pool', 'last', 'rollout'] : ['last', 'rollout']) {
          maps[mode] = demo.attentionMap(tf, out.attn, dcfg, mode, out.poolWeights);
        }
        const x = tf.tidy(() => tf.div(tf.sub(tf.tensor(px, [1, 32, 32, 3]), tf.tensor1d(CIFAR10_MEAN)), tf.tensor1d(CIFAR10_STD)));
        const ref = vitForward(params, cfg, x, {returnAttention: true, returnPoolWeights: cfg.pool === 'seq'});
        const probs = tf.softmax(ref.logits);
        await expectAllClose(out.probs, probs, 1e-5);
        expect(Math.max(...Array.from(await probs.data()))).toBeGreaterThan(0.2);           // not a uniform toy
        const R = attentionRollout(ref.attentions!);
        const want = cfg.pool === 'seq'
          ? {pool: ref.poolWeights!, last: tf.tidy(() => tf.mean(pooledAttention(ref.attentions!.slice(-1), ref.poolWeights!, [8, 8]), 2)),
            rollout: pooledRollout(R, ref.poolWeights!, [8, 8])}
          : {last: tf.tidy(() => tf.mean(clsAttention(ref.attentions!.slice(-1), [8, 8]), 2)), rollout: clsRollout(R, [8, 8])};
        for (const [mode, t] of Object.entries(want)) {
          expect(maps[mode], mode).toHaveLength(64);
          // the demo's CLS map leaves out the CLS column without re-normalising (the overlay rescales
          // to its own range); compare shapes of the maps after normalising both to sum 1
          const a = maps[mode]!, sa = a.reduce((p, q) => p + q, 0);
          const b = Array.from(await t.data()) as number[], sb = b.reduce((p, q) => p + q, 0);
          await expectAllClose(a.map(v => v / sa), b.map(v => v / sb), 1e-5);
          if (cfg.pool === 'seq') expect(sa, `${mode} sums to 1`).toBeCloseTo(1, 5);
        }
        tf.dispose([x, ref.logits, ...ref.attentions!, ...(ref.poolWeights ? [ref.poolWeights] : []), probs, R, ...Object.values(want),
          out.probs, ...out.attn, ...(out.poolWeights ? [out.poolWeights] : [])]);
      }
      const weights: tf.Tensor[] = [];
      JSON.stringify(W, (_k, v) => { if (v instanceof tf.Tensor) { weights.push(v); return undefined; } return v; });
      tf.dispose(weights);
      expect(tf.memory().numTensors, 'tensors alive after disposing the demo\'s weights and outputs').toBe(before);
      disposeParams(params);
    });
  }

  it('refuses what its forward pass does not implement, by name', async () => {
    const cfg = vitConfig({...base, pool: 'cls', norm: 'post'});
    const params = initViT(cfg, 1);
    const {buf, config} = await shipped(cfg, params, 'post');
    expect(() => demo.readConfig(config, demo.parseSafetensors(buf), section)).toThrow(/the demo runs pre-norm blocks, not post/);
    disposeParams(params);
  });
});

describe('the demo\'s page section', () => {
  const samples = [{url: 's.png', label: 'cat', index: 0}];
  it('a sequence-pooling model offers its pooling weights first and names the map for what it is; a CLS model keeps the CLS map', () => {
    const seq = vitDemo({modelUrl: 'm/', samples, pool: 'seq'}).html, cls = vitDemo({modelUrl: 'm/', samples, pool: 'cls'}).html;
    expect(seq).toMatch(/<select data-role="layer"><option value="pool" selected>sequence-pooling weights<\/option><option value="last">[^<]*<\/option><option value="rollout">pooling weights × rollout<\/option>/);
    expect(seq).toContain('<figcaption>where the classifier looks</figcaption>');
    expect(seq).not.toContain('CLS attention map');
    expect(cls).toMatch(/<option value="last" selected>last layer, mean of heads<\/option><option value="rollout">/);
    expect(cls).toContain('<figcaption>CLS attention map</figcaption>');
    expect(cls).not.toContain('value="pool"');
  });
});
