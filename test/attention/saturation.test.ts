import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {entropyVsDim, weightEntropy} from '../../lib/attention/saturation';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('softmax saturation', () => {
  it('entropy of a uniform row is log(n), of a one-hot row 0', async () => {
    await expectAllClose(weightEntropy(tf.tensor2d([[0.25, 0.25, 0.25, 0.25], [0, 1, 0, 0]])), [Math.log(4), 0], 1e-6);
  });
  it('unscaled dot products saturate as d grows; scaled ones do not', () => {
    const before = tf.memory().numTensors;
    const rows = entropyVsDim({dims: [4, 256], numKeys: 16, numQueries: 128, seed: 3});
    expect(tf.memory().numTensors).toBe(before);
    const get = (d: number, s: string) => rows.find(r => r.d === d && r.scaling.startsWith(s))!;
    expect(get(256, 'unscaled').entropy).toBeLessThan(0.3);               // nearly one-hot
    expect(get(256, 'unscaled').maxWeight).toBeGreaterThan(0.85);
    expect(get(256, 'scaled').entropy).toBeGreaterThan(2.0);              // log 16 = 2.77
    expect(Math.abs(get(256, 'scaled').entropy - get(4, 'scaled').entropy)).toBeLessThan(0.3);
  });
  it('is deterministic for a seed', () => {
    expect(entropyVsDim({dims: [8], seed: 1, numQueries: 32})).toEqual(entropyVsDim({dims: [8], seed: 1, numQueries: 32}));
  });
});
