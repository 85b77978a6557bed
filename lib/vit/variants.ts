/**
 * ViT variants as code — Chapter 3 §3.12.
 * - DeiT (Touvron et al., 2021): a second learned token, the distillation token, goes next to CLS;
 *   its output feeds a second head trained to match a CNN teacher; at test time the two heads' logits
 *   are averaged.
 * - Swin (Liu et al., 2021): attention only inside M×M windows; every other block shifts the feature
 *   map by ⌊M/2⌋ (a cyclic roll) so windows straddle the old borders, and a mask stops tokens that
 *   were not neighbours before the roll from attending to each other.
 * - MAE (He et al., 2022): shuffle the patches with random noise, keep the first (1 − ratio)·N for the
 *   encoder, and reconstruct the rest; the mask says which patches were removed.
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';

/** DeiT token sequence: patches [B, N, D] → [B, N + 2, D] = [cls; dist; patches] + pos [1, N + 2, D]. */
export function deitTokens(patchTokens: tf.Tensor, clsToken: tf.Tensor, distToken: tf.Tensor, posEmbed: tf.Tensor): tf.Tensor3D {
  const [B, N, D] = patchTokens.shape as [number, number, number];
  for (const [name, t, want] of [['cls_token', clsToken, [1, 1, D]], ['dist_token', distToken, [1, 1, D]], ['pos_embed', posEmbed, [1, N + 2, D]]] as const) {
    if (t.shape.join() !== want.join()) throw new Error(`deitTokens: ${name} must be [${want}], got [${t.shape}]`);
  }
  return tf.tidy(() => tf.add(tf.concat([tf.tile(clsToken, [B, 1, 1]), tf.tile(distToken, [B, 1, 1]), patchTokens], 1), posEmbed) as tf.Tensor3D);
}

/** DeiT heads on the encoder output x [B, T, D]: token 0 → head, token 1 → head_dist; inference = their mean. */
export function deitHeads(x: tf.Tensor, head: {w: tf.Tensor; b: tf.Tensor}, headDist: {w: tf.Tensor; b: tf.Tensor}) {
  return tf.tidy(() => {
    const [B, , D] = x.shape as [number, number, number];
    const cls = tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, D]), [B, D]);    // [B, D]
    const dist = tf.reshape(tf.slice(x, [0, 1, 0], [B, 1, D]), [B, D]);   // [B, D]
    const clsLogits = tf.add(tf.matMul(cls, head.w), head.b);             // [B, K]
    const distLogits = tf.add(tf.matMul(dist, headDist.w), headDist.b);   // [B, K]
    return {clsLogits, distLogits, inference: tf.div(tf.add(clsLogits, distLogits), 2)};
  });
}

function checkWindows(H: number, W: number, M: number, who: string): void {
  if (!Number.isInteger(M) || M <= 0 || H % M !== 0 || W % M !== 0) throw new Error(`${who}: feature map ${H}x${W} is not divisible by the window size ${M}`);
}

/** Swin window partition: x [B, H, W, C] → [B·nW, M·M, C], windows in row-major order. */
export function windowPartition(x: tf.Tensor, M: number): tf.Tensor3D {
  if (x.rank !== 4) throw new Error(`windowPartition: x must be [B, H, W, C], got [${x.shape}]`);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  checkWindows(H, W, M, 'windowPartition');
  return tf.tidy(() => {
    const rows = tf.reshape(x, [B * H / M, M, W / M, M * C]);            // [B·H/M, M, W/M, M·C]
    const win = tf.transpose(rows, [0, 2, 1, 3]);                         // [B·H/M, W/M, M, M·C]
    return tf.reshape(win, [B * (H / M) * (W / M), M * M, C]) as tf.Tensor3D; // [B·nW, M·M, C]
  });
}

/** Inverse of windowPartition: [B·nW, M·M, C] → [B, H, W, C]. */
export function windowReverse(windows: tf.Tensor, M: number, H: number, W: number): tf.Tensor4D {
  checkWindows(H, W, M, 'windowReverse');
  const [BnW, MM, C] = windows.shape as [number, number, number];
  const nW = (H / M) * (W / M);
  if (windows.rank !== 3 || MM !== M * M || BnW % nW !== 0) throw new Error(`windowReverse: windows must be [B·${nW}, ${M * M}, C], got [${windows.shape}]`);
  const B = BnW / nW;
  return tf.tidy(() => {
    const win = tf.reshape(windows, [B * H / M, W / M, M, M * C]);       // [B·H/M, W/M, M, M·C]
    return tf.reshape(tf.transpose(win, [0, 2, 1, 3]), [B, H, W, C]) as tf.Tensor4D;
  });
}

/** Cyclic shift of a feature map (torch.roll over H and W): x [B, H, W, C] moved by (dy, dx). */
export function cyclicShift(x: tf.Tensor, dy: number, dx: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  return tf.tidy(() => {
    const sy = ((dy % H) + H) % H, sx = ((dx % W) + W) % W;
    const r = sy === 0 ? x : tf.concat([tf.slice(x, [0, H - sy, 0, 0], [B, sy, W, C]), tf.slice(x, [0, 0, 0, 0], [B, H - sy, W, C])], 1);
    const c = sx === 0 ? r : tf.concat([tf.slice(r, [0, 0, W - sx, 0], [B, H, sx, C]), tf.slice(r, [0, 0, 0, 0], [B, H, W - sx, C])], 2);
    return c as tf.Tensor4D;
  });
}

/**
 * Swin's shifted-window attention mask. After rolling the H×W map by −s (s = shift), the map is cut
 * into 3×3 regions ([0, H−M), [H−M, H−s), [H−s, H) per axis); tokens of the same window may attend
 * to each other only if they come from the same region. Returns the region label of every position
 * (H·W, row-major) and the keep-mask [nW, M·M, M·M] (1 = may attend).
 */
export function shiftedWindowMask(H: number, W: number, M: number, shift: number): {regions: Int32Array; mask: Float32Array; numWindows: number} {
  checkWindows(H, W, M, 'shiftedWindowMask');
  if (!(Number.isInteger(shift) && shift >= 0 && shift < M)) throw new Error(`shiftedWindowMask: shift must be an integer in [0, ${M}) (got ${shift})`);
  const band = (v: number, n: number) => (shift === 0 ? 0 : v < n - M ? 0 : v < n - shift ? 1 : 2);
  const regions = new Int32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) regions[y * W + x] = band(y, H) * 3 + band(x, W);
  const nWh = H / M, nWw = W / M, nW = nWh * nWw, MM = M * M;
  const mask = new Float32Array(nW * MM * MM);
  for (let w = 0; w < nW; w++) {
    const wy = Math.floor(w / nWw) * M, wx = (w % nWw) * M;
    const lab = (k: number) => regions[(wy + Math.floor(k / M)) * W + wx + (k % M)]!;
    for (let i = 0; i < MM; i++) for (let j = 0; j < MM; j++) mask[(w * MM + i) * MM + j] = lab(i) === lab(j) ? 1 : 0;
  }
  return {regions, mask, numWindows: nW};
}

/**
 * MAE random masking of N patches: noise → argsort → keep the first ⌊N·(1 − ratio)⌋ (MAE keeps
 * `int(N·(1 − ratio))`). Returns kept indices (sorted by the shuffle), removed indices and
 * mask[N] with 1 = removed (as in MAE).
 */
export function randomMasking(N: number, maskRatio: number, rng: Rng): {keep: Int32Array; removed: Int32Array; mask: Uint8Array} {
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new Error(`randomMasking: maskRatio must be in [0, 1) (got ${maskRatio})`);
  const noise = Array.from({length: N}, () => rng.next());
  const order = Array.from({length: N}, (_, i) => i).sort((a, b) => noise[a]! - noise[b]!);
  const nKeep = Math.floor(N * (1 - maskRatio));
  const keep = Int32Array.from(order.slice(0, nKeep));
  const removed = Int32Array.from(order.slice(nKeep));
  const mask = new Uint8Array(N).fill(1);
  for (const k of keep) mask[k] = 0;
  return {keep, removed, mask};
}

/** The encoder's input in MAE: patch tokens [B, N, D] → visible tokens [B, nKeep, D]. */
export function gatherVisible(tokens: tf.Tensor, keep: Int32Array): tf.Tensor3D {
  return tf.tidy(() => {
    const idx = tf.tensor1d(keep, 'int32');
    return tf.gather(tokens, idx, 1) as tf.Tensor3D; // [B, nKeep, D]
  });
}
