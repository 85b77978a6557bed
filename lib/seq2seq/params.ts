/**
 * Initialisers of the seq2seq models' parameters (plain objects of tf.Variables, lib/core/params.ts),
 * drawn from the seeded course RNG so a model is identical on every backend. Counting, disposing and
 * gradient clipping live in lib/core/params.ts and lib/optim/clip.ts.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';
import {xavierUniform} from '../core/params';

/** A trainable variable holding `init` (the initial tensor is disposed: a variable shares no memory with it). */
function toVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

/** Glorot-uniform [fanIn, fanOut] matrix, U(-a, a) with a = √(6 / (fanIn + fanOut)). */
export function glorot(rng: Rng, fanIn: number, fanOut: number): tf.Variable {
  return toVariable(xavierUniform(fanIn, fanOut, rng));
}

/** Embedding table [V, D] with N(0, 1) · scale entries. */
export function normalTable(rng: Rng, rows: number, cols: number, scale: number): tf.Variable {
  const data = Float32Array.from({length: rows * cols}, () => rng.normal() * scale);
  return toVariable(tf.tensor2d(data, [rows, cols]));
}

export function zerosVar(n: number): tf.Variable {
  return toVariable(tf.zeros([n]));
}
