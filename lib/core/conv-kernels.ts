/**
 * The convolution kernels of the course's native addon (lib/core/native/course_conv.c), as tfjs
 * kernels for the wasm backend: registered by lib/core/native-kernels.ts with the other native
 * kernels, run by name from lib/core/fused-conv.ts, which lib/core/conv.ts calls when
 * `nativeKernelsActive()`. They replace conv.ts's composed im2col (k·k slices + concat; backward:
 * split + pads + adds) and max-pooling (k·k views + running maximum; backward: compare, select and
 * pad per view), which run as scalar wasm kernels: the `fast` recipe's step spent ~70 % of its
 * kernel time there. Geometry (sizes) is checked by conv.ts's convGeometry before these run.
 * Also the ReLU between convolution and pooling: the wasm `Relu` kernel and its gradient
 * (Step, Cast, Multiply: three scalar passes) as one vectorised pass each.
 */
import * as tf from '@tensorflow/tfjs';
import {nativeKernelsActive} from './kernel-path';

/** Bumped with every change of course_conv.c's exports (its CONV_VERSION). */
export const CONV_ADDON_VERSION = 3;

/** What course_conv.c adds to the addon's exports. */
export interface ConvAddon {
  convVersion?: number;
  /** op 0 im2col, 1 col2im, 2 max-pool forward (value + argmax), 3 max-pool backward; byte offsets; [B, H, W, C, k, s, p, H', W']. */
  conv?(heap: ArrayBuffer, op: number, offsets: number[], sizes: number[]): void;
}

const OP = {im2col: 0, col2im: 1, maxPool: 2, maxPoolGrad: 3, relu: 4, reluGrad: 5} as const;

interface WasmHeap {
  wasm: {HEAPU8: Uint8Array};
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined};
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
}

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};
type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Window attributes every kernel gets: the input's [B, H, W, C], kernel k, stride s, padding p, output H' × W'. */
export interface WindowAttrs { B: number; H: number; W: number; C: number; k: number; stride: number; pad: number; outH: number; outW: number }

const sizes = (a: WindowAttrs) => [a.B, a.H, a.W, a.C, a.k, a.stride, a.pad, a.outH, a.outW];

function caller(getAddon: () => ConvAddon) {
  return (be: WasmHeap, op: number, tensors: tf.TensorInfo[], sz: number[]) => {
    const lib = getAddon();
    if (typeof lib.conv !== 'function') throw new Error('native kernels: the addon has no conv kernels (out of date: run npm run setup)');
    lib.conv(be.wasm.HEAPU8.buffer as ArrayBuffer, op, tensors.map((t) => be.dataIdMap.get(t.dataId)!.memoryOffset), sz);
  };
}

const count = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

/** The kernels by name, calling `getAddon()`'s conv() on the wasm heap; every output is a new buffer. */
export function convKernelFuncs(getAddon: () => ConvAddon): Record<string, KernelFn> {
  const run = caller(getAddon);
  const call = (be: WasmHeap, op: number, tensors: tf.TensorInfo[], a: WindowAttrs) => run(be, op, tensors, sizes(a));
  const float32 = (t: tf.TensorInfo, name: string) => { if (t.dtype !== 'float32') throw new Error(`${name}: float32 tensors only (got ${t.dtype})`); };
  return {
    // x [B, H, W, C] → cols [B·H'·W', k·k·C]
    CourseIm2Col: ({inputs, backend, attrs}) => {
      const be = backend as WasmHeap, a = attrs as unknown as WindowAttrs, x = inputs.x as tf.TensorInfo;
      float32(x, 'CourseIm2Col');
      const cols = be.makeOutput([a.B * a.outH * a.outW, a.k * a.k * a.C], 'float32');
      call(be, OP.im2col, [x, cols], a);
      return cols;
    },
    // dcols [B·H'·W', k·k·C] → dx [B, H, W, C] (im2col's adjoint)
    CourseCol2Im: ({inputs, backend, attrs}) => {
      const be = backend as WasmHeap, a = attrs as unknown as WindowAttrs, dcols = inputs.dcols as tf.TensorInfo;
      float32(dcols, 'CourseCol2Im');
      const dx = be.makeOutput([a.B, a.H, a.W, a.C], 'float32');
      call(be, OP.col2im, [dcols, dx], a);
      return dx;
    },
    // x [B, H, W, C] → y [B, H', W', C], argmax [B, H', W', C] (int32 flat index into x)
    CourseMaxPool: ({inputs, backend, attrs}) => {
      const be = backend as WasmHeap, a = attrs as unknown as WindowAttrs, x = inputs.x as tf.TensorInfo;
      float32(x, 'CourseMaxPool');
      const y = be.makeOutput([a.B, a.outH, a.outW, a.C], 'float32'), arg = be.makeOutput([a.B, a.outH, a.outW, a.C], 'int32');
      call(be, OP.maxPool, [x, y, arg], a);
      return [y, arg];
    },
    // dy, argmax [B, H', W', C] → dx [B, H, W, C]: each dy goes to its window's maximum
    CourseMaxPoolGrad: ({inputs, backend, attrs}) => {
      const be = backend as WasmHeap, a = attrs as unknown as WindowAttrs, {dy, argmax} = inputs as Record<string, tf.TensorInfo>;
      float32(dy!, 'CourseMaxPoolGrad');
      const dx = be.makeOutput([a.B, a.H, a.W, a.C], 'float32');
      call(be, OP.maxPoolGrad, [dy!, argmax!, dx], a);
      return dx;
    },
    // ReLU's gradient: dy, x → dy · step(x)
    CourseReluGrad: ({inputs, backend}) => {
      const be = backend as WasmHeap, {dy, x} = inputs as Record<string, tf.TensorInfo>;
      float32(dy!, 'CourseReluGrad');
      float32(x!, 'CourseReluGrad');
      const dx = be.makeOutput(x!.shape, 'float32');
      if (count(x!) > 0) run(be, OP.reluGrad, [dy!, x!, dx], [count(x!)]);
      return dx;
    },
  };
}

/** Stock wasm kernels served natively: `Relu` for float32 (`stock(name)` runs the rest). */
export function convReplacementFuncs(getAddon: () => ConvAddon, stock: (name: string) => tf.KernelConfig): Record<string, KernelFn> {
  const run = caller(getAddon);
  return {
    Relu: (args) => {
      const be = args.backend as WasmHeap, x = args.inputs.x as tf.TensorInfo;
      if (x.dtype !== 'float32') return stock('Relu').kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      const y = be.makeOutput(x.shape, 'float32');
      if (count(x) > 0) run(be, OP.relu, [x, y], [count(x)]);
      return y;
    },
  };
}

let stockReluGrad: tf.GradConfig | undefined;

/** ReLU's gradient as one kernel while the native kernels serve wasm; tfjs's dy·cast(step(x)) otherwise. */
export function installConvGradients(): void {
  stockReluGrad ??= tf.getGradient('Relu');
  const stockGrad = stockReluGrad!;
  tf.registerGradient({
    kernelName: 'Relu', inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor[];
      if (!nativeKernelsActive() || x!.dtype !== 'float32') return stockGrad.gradFunc(dy, saved, attrs);
      return {x: () => tf.engine().runKernel('CourseReluGrad', {dy: dy as tf.Tensor, x: x!}) as tf.Tensor};
    },
  });
}

/** Puts tfjs's own ReLU gradient back. */
export function uninstallConvGradients(): void {
  if (stockReluGrad) tf.registerGradient(stockReluGrad);
}
