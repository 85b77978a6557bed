/**
 * Activations with custom gradients that save only their input.
 * gelu: the exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's default); d/dx = Φ(x) + x·φ(x).
 * tfjs has no GELU kernel; a custom gradient keeps one saved tensor instead of autograd's four.
 */
import * as tf from '@tensorflow/tfjs';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const geluExact = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));   // Φ(x)
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const xs = saved[0]!;
      const phi = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI); // φ(x)
      const cdfB = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xs, SQRT1_2))));
      return [tf.mul(dy, tf.add(cdfB, tf.mul(xs, phi)))];
    },
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

export function gelu(x: tf.Tensor): tf.Tensor {
  return geluExact(x);
}

export type Activation = 'relu' | 'gelu';

export function activation(name: Activation, x: tf.Tensor): tf.Tensor {
  if (name === 'relu') return tf.relu(x);
  if (name === 'gelu') return gelu(x);
  throw new Error(`unknown activation "${name}" (expected relu or gelu)`);
}
