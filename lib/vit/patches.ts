/**
 * Patch extraction ("unfold" by reshape + transpose) — Chapter 3 §3.1–3.2; extract-patches and strided-conv formulations below.
 * images [B, imgH, imgW, C] → patches [B, N, P·P·C], N = (imgH/P)·(imgW/P), patches in row-major
 * grid order, each flattened as (row-in-patch, column-in-patch, channel).
 * Uses only rank-4 transposes (rank ≥ 5 transposes fall on a slow path in wasm).
 */
import * as tf from '@tensorflow/tfjs';

export function checkPatchGrid(imgH: number, imgW: number, patchSize: number): {gh: number; gw: number} {
  if (!Number.isInteger(patchSize) || patchSize <= 0) throw new Error(`patch size must be a positive integer (got ${patchSize})`);
  if (imgH % patchSize !== 0 || imgW % patchSize !== 0) {
    throw new Error(`image size ${imgH}x${imgW} is not divisible by the patch size ${patchSize}`);
  }
  return {gh: imgH / patchSize, gw: imgW / patchSize};
}

/** Sizes of [B, H, W, C] images cut into P×P patches (a gh×gw grid), or an error naming `fn` and what is wrong. */
export function patchGeometry(fn: string, images: tf.Tensor, patchSize: number): {B: number; H: number; W: number; C: number; P: number; gh: number; gw: number} {
  if (images.rank !== 4) throw new Error(`${fn}: images must be [B, H, W, C], got [${images.shape}]`);
  const [B, H, W, C] = images.shape as [number, number, number, number];
  return {B, H, W, C, P: patchSize, ...checkPatchGrid(H, W, patchSize)};
}

export function patchify(images: tf.Tensor, patchSize: number): tf.Tensor3D {
  const {B, C, P, gh, gw} = patchGeometry('patchify', images, patchSize);
  // BEGIN SOLUTION patchify
  return tf.tidy(() => {
    const rows = tf.reshape(images, [B * gh, P, gw, P * C]);       // [B·gh, P, gw, P·C]
    const grid = tf.transpose(rows, [0, 2, 1, 3]);                 // [B·gh, gw, P, P·C]
    return tf.reshape(grid, [B, gh * gw, P * P * C]) as tf.Tensor3D; // [B, N, P·P·C]
  });
  // END SOLUTION
}

/**
 * Patch extraction as `tf.image.extract_patches` does it (the Keras notebook's formulation),
 * with sizes = strides = P, rates = 1, padding VALID: the patch at grid cell (i, j) is the slice
 * images[:, iP:(i+1)P, jP:(j+1)P, :], flattened as (row-in-patch, column-in-patch, channel).
 * images [B, imgH, imgW, C] → [B, gh, gw, P·P·C]. Slow (one slice per patch): for teaching and tests.
 */
export function extractPatches(images: tf.Tensor, patchSize: number): tf.Tensor4D {
  const {B, C, P, gh, gw} = patchGeometry('extractPatches', images, patchSize);
  return tf.tidy(() => {
    const rows: tf.Tensor[] = [];
    for (let i = 0; i < gh; i++) {
      const cells: tf.Tensor[] = [];
      for (let j = 0; j < gw; j++) {
        const patch = tf.slice(images, [0, i * P, j * P, 0], [B, P, P, C]); // [B, P, P, C]
        cells.push(tf.reshape(patch, [B, 1, 1, P * P * C]));               // [B, 1, 1, P·P·C]
      }
      rows.push(tf.concat(cells, 2));                                        // [B, 1, gw, P·P·C]
    }
    return tf.concat(rows, 1) as tf.Tensor4D;                                // [B, gh, gw, P·P·C]
  });
}

/**
 * Patch embedding as a strided convolution (kernel = stride = P, VALID), the timm / PyTorch
 * formulation `nn.Conv2d(C, D, P, stride=P)`. Our dense kernel [P·P·C, D] is reshaped to the
 * conv filter [P, P, C, D] (tfjs HWIO) — the same numbers, since a patch vector is ordered
 * (row, column, channel). images [B, imgH, imgW, C] → [B, N, D].
 * Inference / equivalence only: the wasm backend has no Conv2DBackpropFilter, so training uses
 * `patchify` + dense.
 */
export function patchEmbedConv(images: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, patchSize: number): tf.Tensor3D {
  const {B, C, P, gh, gw} = patchGeometry('patchEmbedConv', images, patchSize);
  if (weight.rank !== 2 || weight.shape[0] !== P * P * C) {
    throw new Error(`patchEmbedConv: weight must be [P·P·C, D] = [${P * P * C}, D], got [${weight.shape}]`);
  }
  const D = weight.shape[1]!;
  return tf.tidy(() => {
    const filter = tf.reshape(weight, [P, P, C, D]) as tf.Tensor4D;                       // [P, P, C, D]
    const y = tf.conv2d(images as tf.Tensor4D, filter, P, 'valid');                       // [B, gh, gw, D]
    return tf.reshape(tf.add(y, bias), [B, gh * gw, D]) as tf.Tensor3D;                    // [B, N, D]
  });
}

/** patches [B, N, P·P·C] → images [B, gh·P, gw·P, C] (the inverse of patchify; MAE's "unpatchify"). */
export function unpatchify(patches: tf.Tensor, patchSize: number, gh: number, gw: number, channels: number): tf.Tensor4D {
  const [B, N, PPC] = patches.shape as [number, number, number];
  const P = patchSize;
  if (patches.rank !== 3 || N !== gh * gw || PPC !== P * P * channels) {
    throw new Error(`unpatchify: patches must be [B, ${gh * gw}, ${P * P * channels}] for a ${gh}x${gw} grid of ${P}x${P}x${channels} patches, got [${patches.shape}]`);
  }
  return tf.tidy(() => {
    const grid = tf.reshape(patches, [B * gh, gw, P, P * channels]);   // [B·gh, gw, P, P·C]
    const rows = tf.transpose(grid, [0, 2, 1, 3]);                      // [B·gh, P, gw, P·C]
    return tf.reshape(rows, [B, gh * P, gw * P, channels]) as tf.Tensor4D; // [B, H, W, C]
  });
}
