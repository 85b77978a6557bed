import * as tf from '@tensorflow/tfjs';
import {readFileSync} from 'node:fs';
import {beforeAll, describe, expect, it} from 'vitest';
import {Rng} from '../../lib/core/rng';
import {gruCell, GruParams, initGru} from '../../lib/seq2seq/gru';
import {expectAllClose, expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

describe('gruCell', () => {
  it('matches PyTorch nn.GRUCell (golden)', async () => {
    const g = JSON.parse(readFileSync('test/golden/gru-cell.json', 'utf8'));
    const p = Object.fromEntries(Object.entries(g.params as Record<string, number[] | number[][]>).map(([k, v]) => [k, tf.variable(tf.tensor(v))])) as GruParams;
    await expectAllClose(gruCell(p, tf.tensor2d(g.x), tf.tensor2d(g.h)), g.h_next, 1e-5);
    Object.values(p).forEach(v => v.dispose());
  });
  it('with zero weights the state moves halfway to 0 (z = 0.5, n = 0)', async () => {
    const p = initGru(new Rng(0), 3, 2);
    for (const v of Object.values(p)) v.assign(tf.zerosLike(v));
    await expectAllClose(gruCell(p, tf.ones([1, 3]), tf.tensor2d([[1, -2]])), [0.5, -1], 1e-6);
    Object.values(p).forEach(v => v.dispose());
  });
  it('names the shapes of a wrong input or state', () => {
    const p = initGru(new Rng(0), 3, 2);
    expect(() => gruCell(p, tf.ones([1, 4]), tf.zeros([1, 2]))).toThrow(/input must be \[B, In\] with In = 3, got \[1, 4\]/);
    expect(() => gruCell(p, tf.ones([1, 3]), tf.zeros([1, 5]))).toThrow(/state must be \[B, H\] = \[1, 2\], got \[1, 5\]/);
    Object.values(p).forEach(v => v.dispose());
  });
  it('does not leak tensors', () => {
    const p = initGru(new Rng(0), 3, 2);
    const x = tf.ones([2, 3]), h = tf.zeros([2, 2]);
    expectNoLeak(() => gruCell(p, x, h));
    tf.dispose([x, h]); Object.values(p).forEach(v => v.dispose());
  });
});
