/**
 * PyTorch goldens (scripts/golden/transformer.py → test/golden/transformer.json): weights are
 * loaded through loadTorchStateDict with PyTorch's names, so the name mapping is tested too.
 */
import * as tf from '@tensorflow/tfjs';
import {readFileSync} from 'node:fs';
import {beforeAll, describe, expect, it} from 'vitest';
import {disposeParams, Params} from '../../lib/core/params';
import {Rng} from '../../lib/core/rng';
import {initMultiHeadAttention, multiHeadAttention} from '../../lib/transformer/attention';
import {decoderLayer, initDecoderLayer} from '../../lib/transformer/decoder';
import {EncoderLayerConfig, encoderLayer, initEncoderLayer} from '../../lib/transformer/encoder';
import {loadTorchStateDict, TorchStateDict, toTorchStateDict} from '../../lib/transformer/torch';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);

const golden = JSON.parse(readFileSync('test/golden/transformer.json', 'utf8'));
const D: number = golden.dModel;
const cases = golden.cases;

const prefixed = (sd: TorchStateDict, p: string) => Object.fromEntries(Object.entries(sd).map(([k, v]) => [`${p}.${k}`, v]));

describe('multi-head attention against nn.MultiheadAttention', () => {
  for (const name of ['mha_self', 'mha_self_masked', 'mha_cross_padded']) {
    for (const fused of [true, false]) {
      it(`${name} (${fused ? 'fused' : 'separate'} QKV): output and per-head weights within 1e-4`, async () => {
        const c = cases[name];
        const p: Params = {};
        initMultiHeadAttention(p, 'mha', D, new Rng(0), {fused});
        loadTorchStateDict(p, prefixed(c.state_dict, 'mha'));
        const x = tf.tensor(c.x), mem = c.memory ? tf.tensor(c.memory) : null, keep = tf.tensor(c.keep);
        const r = multiHeadAttention(p, 'mha', x, mem, c.numHeads, {mask: name === 'mha_self' ? undefined : keep, returnWeights: true});
        expect(r.weights!.shape).toEqual([2, c.numHeads, c.x[0].length, (c.memory ?? c.x)[0].length]);
        await expectAllClose(r.output, c.output, 1e-4);
        await expectAllClose(r.weights!, c.weights, 1e-4);
        tf.dispose([x, mem!, keep, r.output, r.weights!].filter(Boolean));
        disposeParams(p);
      });
    }
  }
});

function layerCfg(c: any): EncoderLayerConfig {
  return {dModel: D, numHeads: c.numHeads, dFF: c.dFF, dropout: 0, activation: c.activation, norm: c.norm};
}

describe('encoder layer against nn.TransformerEncoderLayer', () => {
  for (const name of ['encoder_post_relu', 'encoder_pre_gelu']) {
    it(`${name}: output within 1e-4 (padding mask on the keys)`, async () => {
      const c = cases[name];
      const p: Params = {};
      initEncoderLayer(p, 'layer', layerCfg(c), new Rng(0));
      loadTorchStateDict(p, prefixed(c.state_dict, 'layer'));
      const x = tf.tensor(c.x), keep = tf.tensor(c.keep);
      const r = encoderLayer(p, 'layer', layerCfg(c), x, {mask: keep});
      await expectAllClose(r.output, c.output, 1e-4);
      tf.dispose([x, keep, r.output]);
      disposeParams(p);
    });
  }
});

describe('decoder layer against nn.TransformerDecoderLayer', () => {
  for (const name of ['decoder_post_relu', 'decoder_pre_gelu']) {
    it(`${name}: output within 1e-4 (causal self-attention, padded memory)`, async () => {
      const c = cases[name];
      const p: Params = {};
      initDecoderLayer(p, 'layer', layerCfg(c), new Rng(0));
      loadTorchStateDict(p, prefixed(c.state_dict, 'layer'));
      const x = tf.tensor(c.x), mem = tf.tensor(c.memory), sk = tf.tensor(c.selfKeep), mk = tf.tensor(c.memoryKeep);
      const r = decoderLayer(p, 'layer', layerCfg(c), x, mem, {selfMask: sk, memoryMask: mk});
      await expectAllClose(r.output, c.output, 1e-4);
      tf.dispose([x, mem, sk, mk, r.output]);
      disposeParams(p);
    });
  }
});

describe('PyTorch state_dict export', () => {
  it('round-trips: exporting the loaded decoder layer gives back the PyTorch arrays under the same names', async () => {
    const c = cases.decoder_pre_gelu;
    const p: Params = {};
    initDecoderLayer(p, 'layer', layerCfg(c), new Rng(0), {fused: false});
    const sd = prefixed(c.state_dict, 'layer');
    loadTorchStateDict(p, sd);
    const out = toTorchStateDict(p);
    expect(Object.keys(out).sort()).toEqual(Object.keys(sd).sort());
    for (const k of Object.keys(sd)) await expectAllClose(out[k] as number[], sd[k], 1e-7);
    disposeParams(p);
  });

  it('names what is missing, mis-shaped or unused', () => {
    const p: Params = {};
    initEncoderLayer(p, 'layer', layerCfg(cases.encoder_post_relu), new Rng(0));
    const sd = prefixed(cases.encoder_post_relu.state_dict, 'layer');
    const bad = {...sd, 'layer.extra.weight': [1]} as TorchStateDict;
    delete bad['layer.linear2.bias'];
    bad['layer.self_attn.out_proj.weight'] = [[1, 2], [3, 4]];
    expect(() => loadTorchStateDict(p, bad)).toThrow(/missing "layer.linear2.bias"/);
    expect(() => loadTorchStateDict(p, bad)).toThrow(/"layer.self_attn.out_proj.weight" has shape \[2,2\], expected \[8,8\]/);
    expect(() => loadTorchStateDict(p, bad)).toThrow(/unused PyTorch entries: layer.extra.weight/);
    disposeParams(p);
  });
});
