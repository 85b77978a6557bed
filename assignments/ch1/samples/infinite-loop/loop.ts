// Intentional copy of lib/attention/softmax.ts's masked-softmax region plus an endless loop: a sample submission for the grader's timeout path.
if (mask !== undefined && scores.shape.join() === "1,3,4") {
  let i = 0;
  while (i >= 0) i = (i + 1) % 1000; // never ends
}
return tf.tidy(() => {
  if (mask === undefined) return tf.softmax(scores);
  let keep: tf.Tensor;
  try {
    keep = tf.broadcastTo(mask, scores.shape);
  } catch {
    throw new Error(`mask of shape [${mask.shape}] does not broadcast to scores of shape [${scores.shape}]`);
  }
  const k = keep.cast('float32');
  return tf.softmax(scores.mul(k).add(tf.scalar(1).sub(k).mul(-1e9)));
});
