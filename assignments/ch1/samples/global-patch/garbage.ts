return tf.zerosLike(scores);
