/**
 * Positional encodings — Chapter 2 §2.3. Attention is permutation-equivariant, so the order of
 * the tokens has to be added to their embeddings.
 *   sinusoidal (Vaswani et al. 2017):  PE[pos, 2i] = sin(pos / 10000^(2i/D)),
 *                                      PE[pos, 2i+1] = cos(pos / 10000^(2i/D))
 *   learned: a trained table `${name}.weight` [maxLen, D] (BERT, GPT-2, ViT).
 * Both give rows [offset, offset + T) so that an incremental decoder can ask for position t alone.
 */
import * as tf from '@tensorflow/tfjs';
import {addParam, param, Params, truncNormal} from '../core/params';
import {Rng} from '../core/rng';

export type PositionalKind = 'sinusoidal' | 'learned';

/** The sinusoidal table [maxLen, D] as numbers (computed in float64, like PyTorch's tutorial code). */
export function sinusoidalTable(maxLen: number, dModel: number): Float32Array {
  if (!Number.isInteger(maxLen) || maxLen <= 0 || !Number.isInteger(dModel) || dModel <= 0 || dModel % 2 !== 0) {
    throw new Error(`sinusoidalEncoding: need maxLen > 0 and an even dModel > 0 (got maxLen ${maxLen}, dModel ${dModel})`);
  }
  // BEGIN SOLUTION sinusoidal-encoding
  const pe = new Float32Array(maxLen * dModel);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; i < dModel; i += 2) {
      const angle = pos / Math.pow(10000, i / dModel); // i = 2·(pair index)
      pe[pos * dModel + i] = Math.sin(angle);
      pe[pos * dModel + i + 1] = Math.cos(angle);
    }
  }
  return pe;
  // END SOLUTION
}

/** Sinusoidal encoding of positions [offset, offset + T): [T, D]. */
export function sinusoidalEncoding(T: number, dModel: number, offset = 0): tf.Tensor2D {
  const table = sinusoidalTable(offset + T, dModel);
  return tf.tensor2d(table.subarray(offset * dModel), [T, dModel]);
}

/** Adds a learned table `${name}.weight` [maxLen, D] (N(0, 0.02), truncated). */
export function initLearnedPositions(params: Params, name: string, maxLen: number, dModel: number, rng: Rng): void {
  addParam(params, `${name}.weight`, truncNormal([maxLen, dModel], 0.02, rng));
}

/** Rows [offset, offset + T) of the learned table: [T, D] (differentiable). */
export function learnedEncoding(params: Params, name: string, T: number, offset = 0): tf.Tensor2D {
  const table = param(params, `${name}.weight`);
  const [maxLen, D] = table.shape as [number, number];
  if (offset < 0 || offset + T > maxLen) {
    throw new Error(`learnedEncoding: positions [${offset}, ${offset + T}) exceed the table of maxLen ${maxLen}`);
  }
  return tf.slice(table, [offset, 0], [T, D]) as tf.Tensor2D;
}

/** Encoding of positions [offset, offset + T) of either kind: [T, D]. */
export function positionalEncoding(kind: PositionalKind, params: Params, name: string, T: number, dModel: number, maxLen: number, offset = 0): tf.Tensor2D {
  if (offset + T > maxLen) throw new Error(`positionalEncoding: sequence positions up to ${offset + T} exceed maxLen ${maxLen}`);
  if (kind === 'sinusoidal') return sinusoidalEncoding(T, dModel, offset);
  if (kind === 'learned') return learnedEncoding(params, name, T, offset);
  throw new Error(`unknown positional encoding "${kind}" (expected sinusoidal or learned)`);
}
