/**
 * Batch normalisation over every axis but the last (NHWC images: per channel, over the batch and
 * all pixels) — Ioffe & Szegedy (2015), the normalisation of He et al.'s ResNets:
 *
 *   training    y = (x - mean_B) / sqrt(var_B + eps) * gamma + beta   with the batch's own moments
 *   evaluation  the same with fixed per-channel moments of the training set (`moments`), so an
 *               image's output no longer depends on the other images of its batch
 *
 * Where the evaluation moments come from: PyTorch keeps running averages during training; the course
 * instead measures them after training ("precise BN", Wu & Johnson 2021, as in pycls): a pass over
 * training images in training mode, averaged per channel (`MomentAccumulator`). A checkpoint is then
 * only weights, and the moments are those of the final weights rather than an average over old ones.
 *
 * Training mode has a custom gradient (the LayerNorm formula of layernorm.ts, with the means taken
 * over the N = B·H·W rows instead of the D columns; gamma is per column, so it factors out):
 *   dx = gamma * rstd * (dy - mean_N(dy) - xhat * mean_N(dy * xhat))
 *   dgamma = sum_N(dy * xhat),  dbeta = sum_N(dy)
 * Every mean over the rows is a [1, N]·[N, C] matrix product: the wasm backend reduces an outer axis
 * by transposing first, which doubled the training step of lib/cnn/resnet.ts (batch of 128, 1 thread:
 * 469 ms with tf.mean over axis 0, 262–276 ms with the products, 242–278 ms with LayerNorm).
 */
import * as tf from '@tensorflow/tfjs';

export const BN_EPS = 1e-5; // PyTorch's nn.BatchNorm2d default

/** Per-channel moments of a batch-norm layer's input: what evaluation normalises with. */
export interface BnMoments { mean: tf.Tensor1D; variance: tf.Tensor1D }

function makeBatchNorm(eps: number) {
  return tf.customGrad(((x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const n = x.shape[0], ones = tf.fill([1, n], 1 / n);        // means over the rows as [1, N]·[N, C]
    const mean = tf.matMul(ones, x);                              // [1, C]
    const xc = tf.sub(x, mean);                                   // [N, C]
    const rstd = tf.rsqrt(tf.add(tf.matMul(ones, tf.square(xc)), eps)); // [1, C]  (biased variance, as PyTorch normalises)
    const xhat = tf.mul(xc, rstd);                                // [N, C]
    save([xhat, rstd, gamma, ones]);
    return {
      value: tf.add(tf.mul(xhat, gamma), beta),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xh, rs, g, mn] = saved;
        const c = xh!.shape[1]!, n = xh!.shape[0]!;
        const dyXh = tf.matMul(mn!, tf.mul(dy, xh!));                        // [1, C]  mean_N(dy * xhat)
        const dyMean = tf.matMul(mn!, dy);                                    // [1, C]  mean_N(dy)
        // mean_N(dxhat) = gamma * mean_N(dy), mean_N(dxhat * xhat) = gamma * mean_N(dy * xhat)
        const dx = tf.mul(tf.mul(rs!, g!), tf.sub(tf.sub(dy, dyMean), tf.mul(xh!, dyXh)));  // [N, C]
        return [dx, tf.reshape(tf.mul(dyXh, n), [c]), tf.reshape(tf.mul(dyMean, n), [c])]; // [C], [C]
      },
    };
  }) as any) as (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;
}

const cache = new Map<number, ReturnType<typeof makeBatchNorm>>();

/**
 * x: [..., C], gamma/beta: [C] → [..., C]. Without `moments`: training mode (the batch's moments);
 * with them: evaluation mode.
 */
export function batchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, moments?: BnMoments, eps = BN_EPS): tf.Tensor {
  const c = x.shape[x.rank - 1]!;
  if (gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== c || beta.shape[0] !== c) {
    throw new Error(`batchNorm: input [${x.shape}] needs gamma and beta of shape [${c}] (got [${gamma.shape}] and [${beta.shape}])`);
  }
  if (moments && (moments.mean.shape[0] !== c || moments.variance.shape[0] !== c)) {
    throw new Error(`batchNorm: input [${x.shape}] needs moments of shape [${c}] (got mean [${moments.mean.shape}], variance [${moments.variance.shape}])`);
  }
  return tf.tidy(() => {
    if (moments) {
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(moments.variance, eps)));           // [C]
      return tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(moments.mean, scale)));      // [..., C]
    }
    const rows = x.size / c;
    if (rows < 2) throw new Error(`batchNorm: training mode needs more than one value per channel (input [${x.shape}])`);
    let f = cache.get(eps);
    if (!f) { f = makeBatchNorm(eps); cache.set(eps, f); }
    return tf.reshape(f(tf.reshape(x, [rows, c]) as tf.Tensor2D, gamma as tf.Tensor1D, beta as tf.Tensor1D), x.shape);
  });
}

/**
 * Sums for the per-channel mean and (biased) variance over many batches: add() each batch's input
 * to a batch-norm layer, then moments() — the exact moments of all values added, whatever the batch
 * sizes (E[x] and E[x²] − E[x]² over every row).
 */
export class MomentAccumulator {
  private sum: Float64Array | null = null;
  private sumSq: Float64Array | null = null;
  private count = 0;

  add(x: tf.Tensor): void {
    const c = x.shape[x.rank - 1]!;
    const [s, q] = tf.tidy(() => { const x2 = tf.reshape(x, [-1, c]); return [tf.sum(x2, 0), tf.sum(tf.square(x2), 0)]; });
    const sv = s!.dataSync(), qv = q!.dataSync();
    tf.dispose([s!, q!]);
    if (!this.sum) { this.sum = new Float64Array(c); this.sumSq = new Float64Array(c); }
    if (this.sum.length !== c) throw new Error(`MomentAccumulator: got ${c} channels after ${this.sum.length}`);
    for (let i = 0; i < c; i++) { this.sum[i] += sv[i]!; this.sumSq![i] += qv[i]!; }
    this.count += x.size / c;
  }

  moments(): BnMoments {
    if (!this.sum || this.count === 0) throw new Error('MomentAccumulator: no values were added');
    const c = this.sum.length, mean = new Float32Array(c), variance = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      const m = this.sum[i]! / this.count;
      mean[i] = m;
      variance[i] = Math.max(0, this.sumSq![i]! / this.count - m * m);
    }
    return {mean: tf.tensor1d(mean), variance: tf.tensor1d(variance)};
  }
}
