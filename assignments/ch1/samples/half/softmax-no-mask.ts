// forgot the mask
return tf.tidy(() => tf.softmax(scores));
