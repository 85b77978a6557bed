import {describe, expect, it} from 'vitest';
import {countViTParams, VIT_B_16} from '../../../lib/vit/configs';
import {vitConfig} from '../../../lib/vit/model';

describe('countViTParams', () => {
  it('ViT-B/16 has 86,567,656 parameters (timm vit_base_patch16_224)', () => {
    expect(countViTParams(VIT_B_16).total).toBe(86_567_656);
  });
  it('counts a tiny ViT by hand: patch 4·4·3·8 + 8, CLS 8, positions 5·8, one block, norm, head', () => {
    const cfg = vitConfig({imageSize: 8, patchSize: 4, channels: 3, dModel: 8, numHeads: 2, numLayers: 1, dFF: 16, numClasses: 10});
    const block = 4 * 8 + (3 * 64 + 24) + (64 + 8) + (8 * 16 + 16) + (16 * 8 + 8);
    expect(countViTParams(cfg).total).toBe(392 + 8 + 40 + block + 16 + 90);
  });
});
