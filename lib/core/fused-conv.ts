/**
 * im2col and max-pooling as one native kernel per direction, for the wasm backend with the course's
 * native kernels (lib/core/conv-kernels.ts registers `CourseIm2Col`, `CourseCol2Im`,
 * `CourseMaxPool`, `CourseMaxPoolGrad`). The same maths as lib/core/conv.ts's composed versions,
 * which call these only when `nativeKernelsActive()`. Browser-safe (no Node modules). Tested
 * against tfjs's cpu tf.conv2d / tf.maxPool in test/core/conv-wasm.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type {ConvGeometry} from './conv';

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);

/** x [B, H, W, C] → cols [B·H'·W', k·k·C] (columns ordered i, j, c); backward: col2im, im2col's adjoint. */
export function fusedIm2col(x: tf.Tensor, k: number, stride: number, pad: number, g: ConvGeometry): tf.Tensor2D {
  const attrs = {B: g.B, H: g.H, W: g.W, C: g.C, k, stride, pad, outH: g.outH, outW: g.outW};
  const f = tf.customGrad(((xx: tf.Tensor) => ({
    value: run('CourseIm2Col', {x: xx}, attrs) as tf.Tensor2D,
    gradFunc: (dcols: tf.Tensor) => run('CourseCol2Im', {dcols}, attrs) as tf.Tensor,
  })) as any) as (x: tf.Tensor) => tf.Tensor2D;
  return f(x);
}

/** Max-pooling x [B, H, W, C] → [B, H', W', C] (padding never wins); saves the argmax, routes dy back through it. */
export function fusedMaxPool2d(x: tf.Tensor, k: number, stride: number, pad: number, g: ConvGeometry): tf.Tensor4D {
  const attrs = {B: g.B, H: g.H, W: g.W, C: g.C, k, stride, pad, outH: g.outH, outW: g.outW};
  const f = tf.customGrad(((xx: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, argmax] = run('CourseMaxPool', {x: xx}, attrs) as tf.Tensor[];
    save([argmax!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run('CourseMaxPoolGrad', {dy, argmax: saved[0]!}, attrs) as tf.Tensor,
    };
  }) as any) as (x: tf.Tensor) => tf.Tensor4D;
  return f(x);
}
