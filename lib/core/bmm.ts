/**
 * Batched matrix products for attention, behind one function so the fastest formulation can be
 * chosen in one place. a: [N, M, K], b: [N, K, P] → [N, M, P].
 * The gradient uses explicit transposes (no transpose flags):
 *   da = dy · bᵀ,  db = aᵀ · dy
 */
import * as tf from '@tensorflow/tfjs';

const bmmStock = tf.customGrad(((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [tf.matMul(dy, tf.transpose(bs, [0, 2, 1])), tf.matMul(tf.transpose(as, [0, 2, 1]), dy)];
    },
  };
}) as any) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

export function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`bmm: cannot multiply [${a.shape}] by [${b.shape}] (expected [N, M, K] and [N, K, P])`);
  }
  return bmmStock(a as tf.Tensor3D, b as tf.Tensor3D);
}
