/**
 * Parameters of the seq2seq models: plain objects of tf.Variables, initialised from the seeded
 * course RNG (identical on every backend), plus global-norm gradient clipping.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';

export type Params = Record<string, tf.Variable>;

/** A trainable variable holding `init` (the initial tensor is disposed: a variable shares no memory with it). */
function toVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

/** Glorot-uniform [fanIn, fanOut] matrix, U(-a, a) with a = √(6 / (fanIn + fanOut)). */
export function glorot(rng: Rng, fanIn: number, fanOut: number): tf.Variable {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  const data = Float32Array.from({length: fanIn * fanOut}, () => (2 * rng.next() - 1) * a);
  return toVariable(tf.tensor2d(data, [fanIn, fanOut]));
}

/** Embedding table [V, D] with N(0, 1) · scale entries. */
export function normalTable(rng: Rng, rows: number, cols: number, scale: number): tf.Variable {
  const data = Float32Array.from({length: rows * cols}, () => rng.normal() * scale);
  return toVariable(tf.tensor2d(data, [rows, cols]));
}

export function zerosVar(n: number): tf.Variable {
  return toVariable(tf.zeros([n]));
}

export function countParams(p: Params): number {
  return Object.values(p).reduce((s, v) => s + v.size, 0);
}

export function disposeParams(p: Params): void {
  for (const v of Object.values(p)) v.dispose();
}

/**
 * Scales all gradients by min(1, maxNorm / ‖g‖) where ‖g‖ is the global L2 norm. Returns the new
 * gradients (the inputs are disposed) and the norm before clipping.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): {grads: Record<string, tf.Tensor>; norm: number} {
  const names = Object.keys(grads);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map(n => grads[n]!.square().sum()))).dataSync()[0]!);
  if (!(norm > maxNorm)) return {grads, norm};
  const scale = maxNorm / norm;
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) { out[n] = grads[n]!.mul(scale); grads[n]!.dispose(); }
  return {grads: out, norm};
}
