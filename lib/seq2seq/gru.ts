/**
 * GRU cell — Chapter 1 §1.5 (PyTorch's gate convention):
 *   r = σ(x Wxr + h Whr + br)          reset gate     [B, H]
 *   z = σ(x Wxz + h Whz + bz)          update gate    [B, H]
 *   n = tanh(x Wxn + bxn + r ⊙ (h Whn + bhn))   candidate
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * One matrix per gate, so no step ever slices a tensor (slices copy their whole input on wasm).
 * The input part `x W` is passed in precomputed (`xr, xz, xn`), because a caller with one-hot
 * inputs folds the embedding into the weights once per forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';
import {Params} from '../core/params';
import {glorot, zerosVar} from './params';

export interface GruParams extends Params {
  Wxr: tf.Variable; Wxz: tf.Variable; Wxn: tf.Variable; // [In, H]
  Whr: tf.Variable; Whz: tf.Variable; Whn: tf.Variable; // [H, H]
  br: tf.Variable; bz: tf.Variable; bxn: tf.Variable; bhn: tf.Variable; // [H]
}

export function initGru(rng: Rng, inDim: number, hidden: number): GruParams {
  return {
    Wxr: glorot(rng, inDim, hidden), Wxz: glorot(rng, inDim, hidden), Wxn: glorot(rng, inDim, hidden),
    Whr: glorot(rng, hidden, hidden), Whz: glorot(rng, hidden, hidden), Whn: glorot(rng, hidden, hidden),
    br: zerosVar(hidden), bz: zerosVar(hidden), bxn: zerosVar(hidden), bhn: zerosVar(hidden),
  };
}

/** Input projections of the three gates: {xr, xz, xn}, each [B, H]. */
export interface GateInputs { xr: tf.Tensor; xz: tf.Tensor; xn: tf.Tensor }

/** Gate inputs from a dense input x: [B, In]. */
export function gruInputs(p: GruParams, x: tf.Tensor): GateInputs {
  if (x.rank !== 2 || x.shape[1] !== p.Wxr.shape[0]) {
    throw new Error(`gru: input must be [B, In] with In = ${p.Wxr.shape[0]}, got [${x.shape.join(', ')}]`);
  }
  return {xr: tf.matMul(x, p.Wxr), xz: tf.matMul(x, p.Wxz), xn: tf.matMul(x, p.Wxn)}; // [B, H] each
}

/** One step from precomputed gate inputs and state h: [B, H] -> h': [B, H] (not tidied: used on the tape). */
export function gruStep(p: GruParams, g: GateInputs, h: tf.Tensor): tf.Tensor2D {
  const H = p.Whr.shape[0]!;
  if (h.rank !== 2 || h.shape[1] !== H || g.xr.shape[0] !== h.shape[0]) {
    throw new Error(`gru: state must be [B, H] = [${g.xr.shape[0]}, ${H}], got [${h.shape.join(', ')}]`);
  }
  const r = tf.sigmoid(g.xr.add(tf.matMul(h, p.Whr)).add(p.br));          // [B, H]
  const z = tf.sigmoid(g.xz.add(tf.matMul(h, p.Whz)).add(p.bz));          // [B, H]
  const n = tf.tanh(g.xn.add(p.bxn).add(r.mul(tf.matMul(h, p.Whn).add(p.bhn)))); // [B, H]
  return n.add(z.mul(h.sub(n))) as tf.Tensor2D;                           // (1-z) n + z h
}

/** A plain GRU cell on a dense input x: [B, In], h: [B, H] -> [B, H]. */
export function gruCell(p: GruParams, x: tf.Tensor, h: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => gruStep(p, gruInputs(p, x), h));
}
