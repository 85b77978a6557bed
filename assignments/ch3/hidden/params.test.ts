import {describe, expect, it} from 'vitest';
import {countViTParams, VIT_L_16} from '../../../lib/vit/configs';
import {vitConfig} from '../../../lib/vit/model';

describe('countViTParams (hidden)', () => {
  it('ViT-L/16 has 304,326,632 parameters (timm vit_large_patch16_224)', () => {
    expect(countViTParams(VIT_L_16).total).toBe(304_326_632);
  });
  it('mean pooling drops the CLS token and one position', () => {
    const base = {imageSize: 8, patchSize: 4, channels: 3, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 10};
    const cls = countViTParams(vitConfig(base)), mean = countViTParams(vitConfig({...base, pool: 'mean'}));
    expect(cls.total - mean.total).toBe(16);
    expect(mean.clsToken).toBe(0);
  });
  it('blocks scale linearly with numLayers', () => {
    const c = (L: number) => countViTParams(vitConfig({imageSize: 32, patchSize: 4, dModel: 64, numHeads: 4, numLayers: L, dFF: 128, numClasses: 10}));
    expect(c(6).total - c(2).total).toBe(4 * c(1).perBlock);
  });
});
