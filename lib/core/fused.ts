/**
 * Fused versions of LayerNorm and GELU, one kernel per direction, for the wasm backend with the
 * course's native kernels (lib/core/native-kernels.ts registers `CourseLayerNorm`,
 * `CourseLayerNormGrad`, `CourseGelu`, `CourseGeluGrad`). The same maths as layernorm.ts and
 * activations.ts, which call these only when `nativeKernelsActive()`: on every other backend, or
 * with COURSE_NATIVE=0, the readable composed versions run. Browser-safe (no Node modules).
 * Tested against the composed versions in test/core/native-kernels-wasm.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);

function makeFusedLayerNorm(eps: number) {
  return tf.customGrad(((x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = run('CourseLayerNorm', {x, gamma, beta}, {eps}) as tf.Tensor[];
    save([xhat!, rstd!, gamma]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xh, rs, g] = saved;
        return run('CourseLayerNormGrad', {dy, xhat: xh!, rstd: rs!, gamma: g!}) as tf.Tensor[]; // [dx, dgamma, dbeta]
      },
    };
  }) as any) as (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;
}

const lnCache = new Map<number, ReturnType<typeof makeFusedLayerNorm>>();

/** x [N, D], gamma/beta [D] → LayerNorm(x) [N, D] in one kernel (and one for its gradient). */
export function fusedLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  let f = lnCache.get(eps);
  if (!f) { f = makeFusedLayerNorm(eps); lnCache.set(eps, f); }
  return f(x, gamma, beta);
}

/** Exact GELU x·Φ(x) in one kernel; saves only x (the gradient kernel recomputes Φ and φ). */
export const fusedGelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: run('CourseGelu', {x}) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [run('CourseGeluGrad', {dy, x: saved[0]!}) as tf.Tensor],
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

export interface AdamWStepAttrs { beta1: number; beta2: number; keep: number; stepSize: number; bc2: number; eps: number }

/**
 * One AdamW update of one parameter in one native kernel (wasm + native kernels only):
 * m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g², p' = p·keep − stepSize·m'/(√v'/bc2 + ε) — the
 * update of lib/optim/adamw.ts with keep = 1 − lr·wd (1 without decay), stepSize = lr/(1 − β1^t),
 * bc2 = √(1 − β2^t). Returns new tensors [p', m', v'] (the caller assigns them).
 */
export function fusedAdamWStep(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: AdamWStepAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return run('CourseAdamW', {p, m, v, g}, attrs as unknown as Record<string, number>) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
