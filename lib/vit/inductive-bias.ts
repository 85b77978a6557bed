/**
 * What a CNN assumes and a ViT does not — Chapter 3 §3.13, measured.
 *
 * translate(x, dy, dx)      move images by whole pixels, zero fill (what a random crop with padding does)
 * equivarianceError(f, …)   ‖f(shift x) − shift(f x)‖ / ‖f x‖ on the part of the map both sides define:
 *                           0 (up to float rounding) for a convolution at every shift; for a patch
 *                           embedding only at shifts that are multiples of the patch size
 * relativeChange(a, b)      ‖a − b‖ / ‖b‖ per image: how much a whole model's output moves with a shift
 * firstComponentShare(X)    share of the variance of the rows of X on their first principal direction:
 *                           1 when all rows lie on one straight line (the blog's Linear(1 → D) positions)
 * markedPatchTask(…)        images with one bright patch; label its row or its column (a task that needs
 *                           2-D positions, for comparing position embeddings)
 * Pure functions; tensors returned are the caller's.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';

/**
 * images [B, H, W, C] moved down by dy and right by dx pixels (negative: up/left); uncovered pixels
 * get `fill` (default 0; a [C] tensor gives a colour, e.g. black in normalised units).
 */
export function translate(x: tf.Tensor, dy: number, dx: number, fill?: tf.Tensor): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`translate: images must be [B, H, W, C], got [${x.shape}]`);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  if (!Number.isInteger(dy) || !Number.isInteger(dx) || Math.abs(dy) >= H || Math.abs(dx) >= W) {
    throw new Error(`translate: shifts must be whole pixels smaller than the image (${H}x${W}), got (${dy}, ${dx})`);
  }
  return tf.tidy(() => {
    const x0 = fill ? tf.sub(x, fill) : x;                                           // fill becomes 0
    const padded = tf.pad(x0, [[0, 0], [Math.max(dy, 0), Math.max(-dy, 0)], [Math.max(dx, 0), Math.max(-dx, 0)], [0, 0]]);
    const moved = tf.slice(padded, [0, Math.max(-dy, 0), Math.max(-dx, 0), 0], [B, H, W, C]);  // [B, H, W, C]
    return (fill ? tf.add(moved, fill) : moved) as tf.Tensor4D;
  });
}

export interface EquivarianceOptions {
  /** pixels per step of the output map: 1 for a stride-1 convolution, P for a patch embedding */
  stride: number;
  /** map columns left out at each side (e.g. 1 for a 3×3 convolution with zero padding) */
  margin?: number;
}

/**
 * Relative equivariance error of a map f: images [B, H, W, C] → [B, h, w, D] under a horizontal shift
 * by `shift` pixels: the map of the shifted images is compared with the map of the originals moved
 * by m = round(shift / stride) columns, on the columns both define (minus `margin` at each side).
 * Returns ‖f(T x)[:, :, m+a : w−a] − f(x)[:, :, a : w−m−a]‖ / ‖f(x)[:, :, a : w−m−a]‖ as a scalar.
 */
export function equivarianceError(f: (x: tf.Tensor4D) => tf.Tensor4D, x: tf.Tensor4D, shift: number, o: EquivarianceOptions): tf.Scalar {
  const a = o.margin ?? 0;
  return tf.tidy(() => {
    const moved = f(translate(x, 0, shift));                                         // [B, h, w, D]
    const ref = f(x);                                                                 // [B, h, w, D]
    const [B, h, w, D] = ref.shape;
    const m = Math.round(shift / o.stride), cols = w - m - 2 * a;
    if (cols < 1) throw new Error(`equivarianceError: a shift of ${shift} px leaves no columns of a ${w}-wide map to compare`);
    const got = tf.slice(moved, [0, 0, m + a, 0], [B, h, cols, D]);                   // [B, h, cols, D]
    const want = tf.slice(ref, [0, 0, a, 0], [B, h, cols, D]);                        // [B, h, cols, D]
    return tf.div(tf.norm(tf.sub(got, want)), tf.norm(want)) as tf.Scalar;
  });
}

/**
 * Relative change of each row for outputs [B, K] (e.g. logits of shifted vs original images): [B].
 *   plain    ‖moved_b − ref_b‖ / ‖ref_b‖
 *   centred  ‖moved_b − ref_b‖ / ‖ref_b − r̄‖, r̄ the mean row of ref: the change measured against how
 *            far an image's output sits from the average image's. A part of the outputs that every image
 *            shares (large in an untrained network) then does not count as stability: adding a constant
 *            vector to every row leaves it unchanged. Needs B ≥ 2.
 */
export function relativeChange(moved: tf.Tensor2D, ref: tf.Tensor2D, opts: {centred?: boolean} = {}): tf.Tensor1D {
  if (moved.rank !== 2 || moved.shape.join() !== ref.shape.join()) throw new Error(`relativeChange: outputs must both be [B, K], got [${moved.shape}] and [${ref.shape}]`);
  if (opts.centred && ref.shape[0] < 2) throw new Error(`relativeChange: centred needs at least 2 rows to average (got [${ref.shape}])`);
  return tf.tidy(() => {
    const scale = opts.centred ? tf.sub(ref, tf.mean(ref, 0, true)) : ref;
    return tf.div(tf.norm(tf.sub(moved, ref), 'euclidean', 1), tf.norm(scale, 'euclidean', 1)) as tf.Tensor1D;
  });
}

/**
 * Share of the total variance of the rows of X ([n][d], e.g. position embeddings) that lies along
 * their first principal direction: λ₁ / Σλ of the centred rows' Gram matrix (power iteration).
 * 1 for rows on one straight line; 1/2 for the centres of a square grid.
 */
export function firstComponentShare(rows: number[][]): number {
  const n = rows.length, d = rows[0]?.length ?? 0;
  if (n < 2 || d < 1) throw new Error(`firstComponentShare: need at least 2 rows of length >= 1 (got ${n} x ${d})`);
  const mean = Array.from({length: d}, (_, k) => rows.reduce((s, r) => s + r[k]!, 0) / n);
  const X = rows.map(r => r.map((v, k) => v - mean[k]!));
  const G = X.map(a => X.map(b => a.reduce((s, v, k) => s + v * b[k]!, 0)));        // [n, n]
  const total = G.reduce((s, r, i) => s + r[i]!, 0);
  if (total === 0) return 1;
  let v = Array.from({length: n}, (_, i) => 1 + i / n), lambda = 0;
  for (let it = 0; it < 500; it++) {
    const u = G.map(r => r.reduce((s, g, j) => s + g * v[j]!, 0));
    const norm = Math.hypot(...u);
    if (norm === 0) break;
    const next = u.map(x => x / norm);
    const delta = Math.abs(norm - lambda);
    v = next; lambda = norm;
    if (delta <= 1e-12 * norm) break;
  }
  return lambda / total;
}

export interface MarkedPatchSet {
  images: Float32Array;   // [n, size, size, 1]
  rows: Int32Array;       // grid row of the marked patch, [n]
  cols: Int32Array;       // grid column of the marked patch, [n]
  count: number;
  size: number;
  grid: number;
}

/**
 * n images of size×size pixels (1 channel) of Gaussian noise (sd `noise`) in which one patch of the
 * P×P grid, chosen uniformly, is brighter by `bright`. Labels: the patch's grid row and column. The
 * patch looks the same wherever it is, so only position information can tell row or column.
 */
export function markedPatchTask(n: number, size: number, patchSize: number, rng: Rng, o: {noise?: number; bright?: number} = {}): MarkedPatchSet {
  if (!Number.isInteger(n) || n < 1) throw new Error(`markedPatchTask: n must be a positive integer (got ${n})`);
  if (!Number.isInteger(size / patchSize) || size < patchSize) throw new Error(`markedPatchTask: size ${size} is not a multiple of the patch size ${patchSize}`);
  const grid = size / patchSize, noise = o.noise ?? 0.5, bright = o.bright ?? 2;
  const images = new Float32Array(n * size * size), rows = new Int32Array(n), cols = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const cell = rng.int(grid * grid), r = Math.floor(cell / grid), c = cell % grid;
    rows[b] = r; cols[b] = c;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const inside = Math.floor(i / patchSize) === r && Math.floor(j / patchSize) === c;
        images[(b * size + i) * size + j] = rng.normal() * noise + (inside ? bright : 0);
      }
    }
  }
  return {images, rows, cols, count: n, size, grid};
}
