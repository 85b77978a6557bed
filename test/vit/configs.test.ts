import {beforeAll, describe, expect, it} from 'vitest';
import {countParams, disposeParams} from '../../lib/core/params';
import {countViTParams, findViTConfig, VIT_B_16, VIT_CIFAR_TINY, VIT_H_14, VIT_L_16, VIT_MODELS, VIT_S_16, VIT_TI_16} from '../../lib/vit/configs';
import {initViT, numTokens, vitConfig} from '../../lib/vit/model';
import {setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('ViT sizes and the parameter counter', () => {
  it('equals the published (timm) counts exactly', () => {
    expect(countViTParams(VIT_TI_16).total).toBe(5_717_416);
    expect(countViTParams(VIT_S_16).total).toBe(22_050_664);
    expect(countViTParams(VIT_B_16).total).toBe(86_567_656);
    expect(countViTParams(VIT_L_16).total).toBe(304_326_632);
    expect(countViTParams(VIT_H_14).total).toBe(632_045_800);
    expect(VIT_MODELS.map(m => m.name)).toEqual(['ViT-Ti/16', 'ViT-S/16', 'ViT-B/16', 'ViT-L/16', 'ViT-H/14']);
  });

  it('ViT-B/16 breaks down as 197 tokens, 7,087,872 per block and a 769,000 head', () => {
    const b = countViTParams(VIT_B_16);
    expect(numTokens(VIT_B_16)).toBe(197);
    expect(b.perBlock).toBe(7_087_872);
    expect(b.head).toBe(768 * 1000 + 1000);
    expect(b.patchEmbed).toBe(16 * 16 * 3 * 768 + 768);
  });

  for (const pool of ['cls', 'mean', 'flatten'] as const) {
    it(`matches the variables of a built model (pool ${pool})`, () => {
      const cfg = vitConfig({...VIT_CIFAR_TINY, numLayers: 2, pool});
      const p = initViT(cfg, 0);
      expect(countViTParams(cfg).total).toBe(countParams(p));
      disposeParams(p);
    });
  }

  it('flatten head costs numTokens·dModel·classes weights', () => {
    const mean = countViTParams(vitConfig({...VIT_CIFAR_TINY, pool: 'mean'}));
    const flat = countViTParams(vitConfig({...VIT_CIFAR_TINY, pool: 'flatten'}));
    expect(flat.head - mean.head).toBe((64 - 1) * 64 * 10);
  });
});

describe('findViTConfig', () => {
  it('finds the config nested in checkpoint meta and validates it', () => {
    const c = findViTConfig({epoch: 3, recipe: {name: 'x', model: {...VIT_CIFAR_TINY, numLayers: 2}}});
    expect(c).toEqual({...VIT_CIFAR_TINY, numLayers: 2});
    expect(findViTConfig({epoch: 3})).toBeUndefined();
    expect(() => findViTConfig({dModel: 10, numHeads: 3, patchSize: 4, numLayers: 1})).toThrow(/dModel \(10\) must be divisible by numHeads \(3\)/);
  });
});
