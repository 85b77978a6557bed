import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {Params} from '../../../lib/core/params';
import {embed, vitConfig} from '../../../lib/vit/model';
import {expectAllClose, setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

// 2x2 image, P = 1 (4 patches of 1 pixel), D = 2: projection [1, 2] = [[1, -1]], bias [0.5, 0]
const cfg = vitConfig({imageSize: 2, patchSize: 1, channels: 1, dModel: 2, numHeads: 1, numLayers: 1, dFF: 2, numClasses: 2});
function params(): Params {
  return {
    'patch_embed.proj.weight': tf.variable(tf.tensor2d([[1, -1]])),
    'patch_embed.proj.bias': tf.variable(tf.tensor1d([0.5, 0])),
    cls_token: tf.variable(tf.tensor3d([[[7, 8]]])),
    pos_embed: tf.variable(tf.tensor3d([[[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]])),
  };
}

describe('ViT embed', () => {
  it('prepends the CLS token and adds the position embeddings', async () => {
    const x = embed(params(), cfg, tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
    // tokens: CLS [7, 8] + pos 0; patch p (pixel value v): [v + 0.5, -v] + pos (p + 1)
    await expectAllClose(x, [7, 8, 2.5, 0, 4.5, 0, 6.5, 0, 8.5, 0], 1e-5);
  });
  it('returns tokens [B, N + 1, D]', () => {
    expect(embed(params(), cfg, tf.zeros([3, 2, 2, 1])).shape).toEqual([3, 5, 2]);
  });
});
