import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {Params} from '../../../lib/core/params';
import {embed, vitConfig} from '../../../lib/vit/model';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('ViT embed (hidden)', () => {
  it('every batch entry gets the same CLS token and positions', async () => {
    const cfg = vitConfig({imageSize: 2, patchSize: 2, channels: 1, dModel: 1, numHeads: 1, numLayers: 1, dFF: 1, numClasses: 2});
    const p: Params = {
      'patch_embed.proj.weight': tf.variable(tf.tensor2d([[1], [1], [1], [1]])),
      'patch_embed.proj.bias': tf.variable(tf.tensor1d([0])),
      cls_token: tf.variable(tf.tensor3d([[[-1]]])),
      pos_embed: tf.variable(tf.tensor3d([[[10], [20]]])),
    };
    const x = embed(p, cfg, tf.tensor4d([1, 1, 1, 1, 2, 2, 2, 2], [2, 2, 2, 1]));
    await expectAllClose(x, [9, 24, 9, 28], 1e-5);
  });
  it('mean pooling has no CLS token: tokens [B, N, D]', async () => {
    const cfg = vitConfig({imageSize: 2, patchSize: 1, channels: 1, dModel: 1, numHeads: 1, numLayers: 1, dFF: 1, numClasses: 2, pool: 'mean'});
    const p: Params = {
      'patch_embed.proj.weight': tf.variable(tf.tensor2d([[2]])),
      'patch_embed.proj.bias': tf.variable(tf.tensor1d([1])),
      pos_embed: tf.variable(tf.tensor3d([[[0], [0], [0], [100]]])),
    };
    const x = embed(p, cfg, tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
    expect(x.shape).toEqual([1, 4, 1]);
    await expectAllClose(x, [3, 5, 7, 109], 1e-5);
  });
});
