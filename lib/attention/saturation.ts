/**
 * Softmax saturation — Chapter 1 §1.3: why the Transformer divides dot products by √d.
 * With q, k having independent N(0, 1) entries, q·k has variance d, so unscaled scores spread
 * out as d grows and the softmax collapses onto one key (entropy → 0, gradients vanish).
 * Dividing by √d keeps the variance at 1 and the entropy roughly constant.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';

/** Entropy (in nats) of each distribution along the last axis: -Σ p log p, with 0 log 0 = 0. */
export function weightEntropy(weights: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const p = weights.clipByValue(0, 1);
    const logp = tf.log(p.add(1e-30));                 // finite where p = 0 (0 · log(1e-30) = 0)
    return p.mul(logp).sum(-1).neg();                  // [...]
  });
}

export interface SaturationRow {
  d: number;
  scaling: 'unscaled q·k' | 'scaled q·k/√d';
  /** mean entropy of the attention weights (nats); the maximum is log(numKeys) */
  entropy: number;
  /** mean largest weight of a row */
  maxWeight: number;
}

/**
 * Measures the mean entropy and mean largest weight of softmax(q·k) and softmax(q·k/√d) for random
 * N(0, 1) queries and keys, for each dimension d (seeded, so reproducible).
 */
export function entropyVsDim(opts: {dims: number[]; numKeys?: number; numQueries?: number; seed?: number}): SaturationRow[] {
  const numKeys = opts.numKeys ?? 16, numQueries = opts.numQueries ?? 256;
  const rng = new Rng(opts.seed ?? 0);
  const rows: SaturationRow[] = [];
  for (const d of opts.dims) {
    const draw = (n: number) => Float32Array.from({length: n}, () => rng.normal());
    const [e0, m0, e1, m1] = tf.tidy(() => {
      const q = tf.tensor3d(draw(numQueries * d), [numQueries, 1, d]);   // [N, 1, d]
      const k = tf.tensor3d(draw(numQueries * numKeys * d), [numQueries, numKeys, d]); // [N, Tk, d]
      const r = tf.matMul(q, k, false, true);                            // [N, 1, Tk]
      const wRaw = tf.softmax(r), wScaled = tf.softmax(r.div(Math.sqrt(d)));
      return [weightEntropy(wRaw).mean(), wRaw.max(-1).mean(), weightEntropy(wScaled).mean(), wScaled.max(-1).mean()]
        .map(t => t.dataSync()[0]!);
    });
    rows.push({d, scaling: 'unscaled q·k', entropy: e0!, maxWeight: m0!});
    rows.push({d, scaling: 'scaled q·k/√d', entropy: e1!, maxWeight: m1!});
  }
  return rows;
}
