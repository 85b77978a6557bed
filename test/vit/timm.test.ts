import {readFileSync} from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams, Params} from '../../lib/core/params';
import {parseSafetensors, serializeSafetensors} from '../../lib/io/safetensors';
import {initViT, vitConfig, vitForward} from '../../lib/vit/model';
import {patchEmbedConv} from '../../lib/vit/patches';
import {resizeViT} from '../../lib/vit/posembed';
import {convToDense, denseToConv, inferTimmConfig, loadTimmViT, oursToTimm, paramsFromArrays, RawTensor, timmToOurs} from '../../lib/vit/timm';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);

const g = JSON.parse(readFileSync('test/golden/vit-timm.json', 'utf8'));
const bytes = new Uint8Array(Buffer.from(g.safetensors_base64, 'base64'));

describe('loading timm ViT weights from .safetensors', () => {
  it('infers the config from the tensor shapes', () => {
    const {config} = loadTimmViT(bytes, {numHeads: 2});
    expect(config).toMatchObject({...g.config, pool: 'cls', lnEps: 1e-6, activation: 'gelu'});
  });

  it('matches PyTorch logits and attention weights (golden) within 1e-4', async () => {
    const {config, params: arrays} = loadTimmViT(bytes, {numHeads: 2});
    const params = paramsFromArrays(arrays);
    const x = tf.tensor(g.images_nhwc);
    const out = vitForward(params, config, x, {returnAttention: true});
    await expectAllClose(out.logits, g.logits, 1e-4);
    for (let l = 0; l < 2; l++) await expectAllClose(out.attentions![l]!, g.attentions[l], 1e-5);
    tf.dispose([x, out.logits, ...out.attentions!]);
    disposeParams(params);
  });

  it('runs at 24x24 after bicubic resampling of pos_embed and matches PyTorch', async () => {
    const {config, params: arrays} = loadTimmViT(bytes, {numHeads: 2});
    const params = paramsFromArrays(arrays);
    const big = resizeViT(params, config, 24, 'bicubic');
    const x = tf.tensor(g.images24_nhwc);
    const {logits} = vitForward(big.params, big.config, x);
    await expectAllClose(logits, g.logits24_bicubic, 1e-4);
    tf.dispose([x, logits, big.params['pos_embed']!]);
    disposeParams(params);
  });

  it('conv weight [D, C, P, P] → dense [P·P·C, D] gives the same patch embedding as the conv', async () => {
    const {tensors} = parseSafetensors(bytes);
    const w = tensors['patch_embed.proj.weight']!;
    const dense = convToDense(w.data, 16, 3, 4);
    expect(Array.from(denseToConv(dense, 16, 3, 4))).toEqual(Array.from(w.data));
    // the PyTorch conv (OIHW) as a tfjs conv filter (HWIO) = transpose [2, 3, 1, 0]
    const filter = tf.transpose(tf.tensor4d(w.data, [16, 3, 4, 4]), [2, 3, 1, 0]);
    const x = tf.tensor4d(g.images_nhwc);
    const conv = tf.conv2d(x, filter as tf.Tensor4D, 4, 'valid');
    const ours = patchEmbedConv(x, tf.tensor2d(dense, [48, 16]), tf.zeros([16]), 4);
    await expectAllClose(tf.reshape(conv, [2, 16, 16]), ours, 1e-5);
    tf.dispose([filter, x, conv, ours]);
  });

  it('round-trips: ours → timm tensors → safetensors bytes → ours', async () => {
    const cfg = vitConfig({imageSize: 8, patchSize: 4, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 3});
    const p = initViT(cfg, 3);
    const file = serializeSafetensors(await oursToTimm(p, cfg));
    const back = loadTimmViT(file, {numHeads: 2});
    expect(back.config).toEqual(cfg);
    for (const [n, v] of Object.entries(p)) expect(Array.from(back.params[n]!.data), n).toEqual(Array.from(await v.data()));
    disposeParams(p);
  });

  it('lists missing, unexpected and mis-shaped names in one error', () => {
    const {tensors} = parseSafetensors(bytes);
    const t: Record<string, RawTensor> = {...tensors};
    delete t['blocks.1.mlp.fc2.bias'];
    t['dist_token'] = {shape: [1, 1, 16], data: new Float32Array(16)};
    t['head.weight'] = {shape: [16, 5], data: new Float32Array(80)};
    const cfg = inferTimmConfig(tensors, {numHeads: 2});
    expect(() => timmToOurs(t, cfg)).toThrow(/missing 1: blocks\.1\.mlp\.fc2\.bias; unexpected 1: dist_token; mis-shaped 1: head\.weight \(file \[16, 5\], expected \[5, 16\]\)/);
    const wrongCfg = vitConfig({...cfg, numLayers: 3});
    expect(() => timmToOurs(tensors, wrongCfg)).toThrow(/missing 12: blocks\.2\.norm1\.weight/);
  });

  it('asks for numHeads when the width is not a published one', () => {
    expect(() => loadTimmViT(bytes)).toThrow(/dModel 16 is not a published width; pass numHeads/);
    expect(() => inferTimmConfig({cls_token: {shape: [1, 1, 4]}})).toThrow(/"patch_embed\.proj\.weight" is missing/);
  });

  it('does not leave tensors behind', () => {
    const before = tf.memory().numTensors;
    const p: Params = paramsFromArrays(loadTimmViT(bytes, {numHeads: 2}).params);
    disposeParams(p);
    expect(tf.memory().numTensors).toBe(before);
  });
});
