/**
 * Patch extraction ("unfold" by reshape + transpose) — Chapter 3 §3.1.
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

export function patchify(images: tf.Tensor, patchSize: number): tf.Tensor3D {
  if (images.rank !== 4) throw new Error(`patchify: images must be [B, H, W, C], got [${images.shape}]`);
  const [B, H, W, C] = images.shape as [number, number, number, number];
  const P = patchSize;
  const {gh, gw} = checkPatchGrid(H, W, P);
  return tf.tidy(() => {
    const rows = tf.reshape(images, [B * gh, P, gw, P * C]);       // [B·gh, P, gw, P·C]
    const grid = tf.transpose(rows, [0, 2, 1, 3]);                 // [B·gh, gw, P, P·C]
    return tf.reshape(grid, [B, gh * gw, P * P * C]) as tf.Tensor3D; // [B, N, P·P·C]
  });
}
