return tf.tidy(() => tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true).div(Math.sqrt(q.shape[2]!)) as tf.Tensor3D;
