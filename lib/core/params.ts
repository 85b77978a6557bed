/**
 * Parameters are plain objects of named tf.Variables: `{'blocks.0.attn.qkv.weight': Variable, …}`.
 * Dense kernels are [inDim, outDim]. Initialisers are seeded (lib/core/rng.ts) so a model is the
 * same for the same seed on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from './rng';

export type Params = Record<string, tf.Variable>;

/** Truncated normal (|z| ≤ 2) with the given std, as timm's trunc_normal_(std=0.02). */
export function truncNormal(shape: number[], std: number, rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    v[i] = z * std;
  }
  return tf.tensor(v, shape);
}

/** Xavier/Glorot uniform for a [fanIn, fanOut] kernel. */
export function xavierUniform(fanIn: number, fanOut: number, rng: Rng): tf.Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  const v = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < v.length; i++) v[i] = (rng.next() * 2 - 1) * a;
  return tf.tensor(v, [fanIn, fanOut]);
}

export function addParam(params: Params, name: string, init: tf.Tensor): tf.Variable {
  if (params[name]) throw new Error(`parameter "${name}" defined twice`);
  const v = tf.variable(init, true);
  init.dispose();
  params[name] = v;
  return v;
}

export type DenseInit = 'trunc_normal' | 'xavier';

/** Adds `${name}.weight` [inDim, outDim] and `${name}.bias` [outDim] (zeros). */
export function addDense(params: Params, name: string, inDim: number, outDim: number, rng: Rng, init: DenseInit = 'trunc_normal', bias = true): void {
  addParam(params, `${name}.weight`, init === 'xavier' ? xavierUniform(inDim, outDim, rng) : truncNormal([inDim, outDim], 0.02, rng));
  if (bias) addParam(params, `${name}.bias`, tf.zeros([outDim]));
}

/** Adds `${name}.weight` (ones) and `${name}.bias` (zeros) of a LayerNorm over dim. */
export function addLayerNorm(params: Params, name: string, dim: number): void {
  addParam(params, `${name}.weight`, tf.ones([dim]));
  addParam(params, `${name}.bias`, tf.zeros([dim]));
}

export function countParams(params: Params): number {
  return Object.values(params).reduce((n, v) => n + v.size, 0);
}

export function disposeParams(params: Params): void {
  for (const v of Object.values(params)) v.dispose();
}

/** The parameter `name`, or an error naming what is missing. */
export function param(params: Params, name: string): tf.Variable {
  const p = params[name];
  if (!p) throw new Error(`missing parameter "${name}"`);
  return p;
}
