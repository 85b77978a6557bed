return tf.tidy(() => tf.softmax(scores)));
}
