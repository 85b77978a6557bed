/**
 * Activations with custom gradients that keep few saved tensors (tfjs has no GELU kernel; autograd
 * through a composed GELU keeps four intermediates and runs ~11 elementwise kernels backward).
 *
 * gelu: the exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's default, used by the golden tests
 *   and the training recipes); d/dx = Φ(x) + x·φ(x). The forward pass saves x and Φ(x), so the
 *   backward pass needs no second erf: 7 kernels instead of 11, same numbers bit for bit.
 * geluTanh: PyTorch's `gelu(approximate='tanh')`, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *   Max |error| against the exact GELU ≈ 4.7e-4 (measured by `npm run bench`, lib/core/README.md),
 *   far above 1e-5, and it is not cheaper on wasm (tfjs has an Erf kernel), so it is an option,
 *   never the default.
 */
import * as tf from '@tensorflow/tfjs';
import {fusedGelu} from './fused';
import {nativeKernelsActive} from './kernel-path';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const GELU_TANH_A = 0.044715;

const geluExact = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));   // Φ(x)
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, cdfS] = saved as [tf.Tensor, tf.Tensor];
      const phi = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI); // φ(x)
      return [tf.mul(dy, tf.add(cdfS, tf.mul(xs, phi)))];                  // dy·(Φ(x) + x·φ(x))
    },
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

const geluTanhGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const inner = tf.add(1, tf.mul(tf.square(x), GELU_TANH_A));                 // 1 + a·x²
  const t = tf.tanh(tf.mul(tf.mul(x, inner), SQRT_2_PI));                     // tanh(k·(x + a·x³))
  save([x, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(1, t)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ts] = saved as [tf.Tensor, tf.Tensor];
      // 0.5·(1 + t) + 0.5·x·(1 − t²)·k·(1 + 3a·x²)
      const du = tf.mul(tf.add(1, tf.mul(tf.square(xs), 3 * GELU_TANH_A)), 0.5 * SQRT_2_PI);
      const d = tf.add(tf.mul(tf.add(1, ts), 0.5), tf.mul(tf.mul(xs, tf.sub(1, tf.square(ts))), du));
      return [tf.mul(dy, d)];
    },
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

/** Exact GELU x·Φ(x). */
export function gelu(x: tf.Tensor): tf.Tensor {
  // the same maths as one native kernel per direction when the native kernels serve wasm (fused.ts)
  if (nativeKernelsActive() && x.dtype === 'float32') return fusedGelu(x);
  return geluExact(x);
}

/** Tanh-approximated GELU (PyTorch `approximate='tanh'`); max |error| vs exact ≈ 4.7e-4. */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return geluTanhGrad(x);
}

export type Activation = 'relu' | 'gelu' | 'gelu_tanh';

export function activation(name: Activation, x: tf.Tensor): tf.Tensor {
  if (name === 'relu') return tf.relu(x);
  if (name === 'gelu') return gelu(x);
  if (name === 'gelu_tanh') return geluTanh(x);
  throw new Error(`unknown activation "${name}" (expected relu, gelu or gelu_tanh)`);
}
