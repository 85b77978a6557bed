/**
 * 2-D convolution as im2col + one matrix product, and max-pooling — the formulation the course's
 * convolutional layers (lib/vit's convolutional tokenizer, lib/cnn's ResNet) train with.
 *
 * Why not `tf.conv2d`: the wasm backend (the course default) has no `Conv2DBackpropFilter` kernel,
 * so the gradient of a convolution's filter cannot be taken there. Written here instead:
 *   im2col   x [B, H, W, C] → zero-pad by p → for every kernel offset (i, j) the strided view
 *            x[:, i : i + s·H' : s, j : j + s·W' : s, :] → concatenated along channels
 *            → cols [B·H'·W', k·k·C], columns ordered (i, j, c)
 *   conv     y = cols · reshape(W, [k·k·C, O]) + b → [B, H', W', O],  H' = ⌊(H + 2p − k)/s⌋ + 1
 * The filter W is tfjs's HWIO layout [k, k, C, O], so `conv2d(x, W)` equals `tf.conv2d(x, W, s, p)`.
 * Only pad, slice, reshape, concat and `dense()` (a rank-2 matMul, served by XNNPACK or the native
 * OpenBLAS kernels) are used, all of which have gradients on wasm; strides are taken by reshaping a
 * slice of s·H' rows to [H', s, …] and keeping index 0 (no StridedSlice, no rank-5 transpose).
 * Tested against tfjs's cpu `tf.conv2d` and its gradients (test/core/conv*.test.ts, 1e-5 relative).
 * Written by hand on purpose: the course shows what a convolution computes, as a matrix product.
 * With the native kernels on (Node, wasm), im2col and max-pooling each run as one native kernel per
 * direction (fused-conv.ts, native/course_conv.c): the same maths without the k·k views, which ran
 * as scalar wasm kernels (a `fast`-recipe training step: 6.3 s → 1.6 s; lib/core/README.md).
 * Without them (the browser, COURSE_NATIVE=0), an op that no gradient will be taken of — inference,
 * outside tf.grad — runs tfjs's own wasm Conv2D / MaxPool forward kernels (XNNPACK): the same
 * numbers, without the k·k scalar slices (`stockForward()`).
 */
import * as tf from '@tensorflow/tfjs';
import {fusedIm2col, fusedMaxPool2d} from './fused-conv';
import {nativeKernelsActive} from './kernel-path';
import {dense} from './linear';

/**
 * True when conv2d and maxPool2d may run tfjs's stock forward kernels: the wasm backend without the
 * native kernels, and no gradient tape recording (tf.grad / variableGrads record the ops they will
 * differentiate; wasm has no Conv2DBackpropFilter and a wrong MaxPoolGrad, so those keep the
 * composed formulation). Inference only, where the composed views cost most (scalar wasm slices).
 */
export function stockForward(): boolean {
  return tf.getBackend() === 'wasm' && !nativeKernelsActive() && !(tf.engine() as unknown as {isTapeOn(): boolean}).isTapeOn();
}

export interface ConvGeometry { B: number; H: number; W: number; C: number; outH: number; outW: number }

/** Output size of a k×k window with stride s and symmetric zero padding p (PyTorch's formula); errors name the problem. */
export function convGeometry(fn: string, x: tf.Tensor, k: number, stride: number, pad: number): ConvGeometry {
  if (x.rank !== 4) throw new Error(`${fn}: input must be [B, H, W, C], got [${x.shape}]`);
  for (const [n, v, min] of [['kernel size', k, 1], ['stride', stride, 1], ['padding', pad, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`${fn}: ${n} must be an integer >= ${min} (got ${v})`);
  }
  const [B, H, W, C] = x.shape as [number, number, number, number];
  if (H + 2 * pad < k || W + 2 * pad < k) throw new Error(`${fn}: a ${k}x${k} window does not fit a ${H}x${W} input padded by ${pad}`);
  return {B, H, W, C, outH: Math.floor((H + 2 * pad - k) / stride) + 1, outW: Math.floor((W + 2 * pad - k) / stride) + 1};
}

/** Every s-th row (axis 1) of x starting at `start`, n of them: x[:, start : start + s·n : s] via slice + reshape. */
function strideRows(x: tf.Tensor4D, start: number, n: number, s: number): tf.Tensor4D {
  const [B, , W, C] = x.shape;
  const rows = tf.slice(x, [0, start, 0, 0], [B, s * n, W, C]);            // [B, s·n, W, C]
  if (s === 1) return rows;
  const grouped = tf.reshape(rows, [B, n, s, W * C]);                      // [B, n, s, W·C]
  return tf.reshape(tf.slice(grouped, [0, 0, 0, 0], [B, n, 1, W * C]), [B, n, W, C]);
}

/** Every s-th column (axis 2) of x starting at `start`, n of them. */
function strideCols(x: tf.Tensor4D, start: number, n: number, s: number): tf.Tensor4D {
  const [B, H, , C] = x.shape;
  const cols = tf.slice(x, [0, 0, start, 0], [B, H, s * n, C]);            // [B, H, s·n, C]
  if (s === 1) return cols;
  const grouped = tf.reshape(cols, [B, H, n, s * C]);                      // [B, H, n, s·C]
  return tf.slice(grouped, [0, 0, 0, 0], [B, H, n, C]) as tf.Tensor4D;                  // [B, H, n, C]
}

/**
 * The k·k strided views of x [B, H, W, C] a k×k window with stride s and padding p sees: view (i, j)
 * is padded x[:, i : i + s·H' : s, j : j + s·W' : s, :] → [B, H', W', C], in row-major (i, j) order.
 */
export function windowViews(x: tf.Tensor, k: number, stride: number, pad: number, padValue = 0): {views: tf.Tensor4D[]} & ConvGeometry {
  const g = convGeometry('windowViews', x, k, stride, pad);
  const {H, W, outH, outW} = g;
  // pad p on top/left; bottom/right also get the rows/columns a strided slice of s·H' may run past
  const extraH = Math.max(0, k - 1 + stride * outH - (H + 2 * pad)), extraW = Math.max(0, k - 1 + stride * outW - (W + 2 * pad));
  const xp = (pad === 0 && extraH === 0 && extraW === 0 ? x : tf.pad(x, [[0, 0], [pad, pad + extraH], [pad, pad + extraW], [0, 0]], padValue)) as tf.Tensor4D;
  const views: tf.Tensor4D[] = [];
  for (let i = 0; i < k; i++) {
    const r = strideRows(xp, i, outH, stride);                             // [B, H', Wp, C]
    for (let j = 0; j < k; j++) views.push(strideCols(r, j, outW, stride)); // [B, H', W', C]
  }
  return {views, ...g};
}

/**
 * x [B, H, W, C] → cols [B·H'·W', k·k·C] (columns ordered kernel row, kernel column, channel) and
 * the output size H' × W'. Zero padding p on every side.
 */
export function im2col(x: tf.Tensor, k: number, stride = 1, pad = 0): {cols: tf.Tensor2D; outH: number; outW: number} {
  const g = convGeometry('im2col', x, k, stride, pad), {outH, outW} = g;
  // the same copy as one native kernel (and col2im backward) when they serve wasm (fused-conv.ts)
  if (nativeKernelsActive() && x.dtype === 'float32') return {cols: fusedIm2col(x, k, stride, pad, g), outH, outW};
  const cols = tf.tidy(() => {
    const {views, B, C} = windowViews(x, k, stride, pad);
    const stacked = views.length === 1 ? views[0]! : tf.concat(views, 3);  // [B, H', W', k·k·C]
    return tf.reshape(stacked, [B * outH * outW, k * k * C]) as tf.Tensor2D;
  });
  return {cols, outH, outW};
}

/**
 * Convolution by im2col + matMul: x [B, H, W, C], filter [k, k, C, O] (HWIO, as tf.conv2d), bias [O]
 * (optional) → [B, H', W', O]. Trains on every backend (its gradient is that of pad/slice/concat and a matMul).
 */
export function conv2d(x: tf.Tensor, filter: tf.Tensor, bias?: tf.Tensor, opts: {stride?: number; pad?: number} = {}): tf.Tensor4D {
  const stride = opts.stride ?? 1, pad = opts.pad ?? 0;
  if (filter.rank !== 4 || filter.shape[0] !== filter.shape[1]) throw new Error(`conv2d: filter must be [k, k, C, O] (square kernel), got [${filter.shape}]`);
  const [k, , Cf, O] = filter.shape as [number, number, number, number];
  const g = convGeometry('conv2d', x, k, stride, pad);
  if (Cf !== g.C) throw new Error(`conv2d: filter [${filter.shape}] expects ${Cf} input channels, the input [${x.shape}] has ${g.C}`);
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== O)) throw new Error(`conv2d: bias must be [${O}], got [${bias.shape}]`);
  if (stockForward() && x.dtype === 'float32') {
    return tf.tidy(() => {
      const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride, pad);  // [B, H', W', O]
      return (bias === undefined ? y : tf.add(y, bias)) as tf.Tensor4D;
    });
  }
  return tf.tidy(() => {
    const {cols} = im2col(x, k, stride, pad);                              // [B·H'·W', k·k·C]
    const y = dense(cols, tf.reshape(filter, [k * k * Cf, O]), bias);      // [B·H'·W', O]
    return tf.reshape(y, [g.B, g.outH, g.outW, O]) as tf.Tensor4D;
  });
}

/**
 * Max-pooling over k×k windows with stride s and padding p (padded cells hold −∞ and never win, as
 * in PyTorch's MaxPool2d): x [B, H, W, C] → [B, H', W', C], the running maximum of the k·k window
 * views. Not tf.maxPool: the wasm backend's MaxPoolGrad returns wrong gradients (tfjs 4.22; the
 * wasm test shows it), while tf.maximum's gradient routes dy to the first maximal element.
 */
export function maxPool2d(x: tf.Tensor, k: number, stride = k, pad = 0): tf.Tensor4D {
  const g = convGeometry('maxPool2d', x, k, stride, pad);
  if (2 * pad > k) throw new Error(`maxPool2d: padding (${pad}) must be at most half the kernel size (${k})`);
  // the same maximum as one native kernel (saving the argmax for backward) when they serve wasm (fused-conv.ts)
  if (nativeKernelsActive() && x.dtype === 'float32') return fusedMaxPool2d(x, k, stride, pad, g);
  // inference on plain wasm: tfjs's MaxPool kernel (its forward is right; padded cells never win)
  if (stockForward() && x.dtype === 'float32') return tf.maxPool(x as tf.Tensor4D, k, stride, pad);
  return tf.tidy(() => {
    const {views} = windowViews(x, k, stride, pad, -Infinity);
    let m: tf.Tensor = views[0]!;
    for (let v = 1; v < views.length; v++) m = tf.maximum(m, views[v]!);   // [B, H', W', C]
    return m as tf.Tensor4D;
  });
}
