// Intentional copy of lib/attention/softmax.ts's masked-softmax region plus a heap hoard on one input: a sample submission for the grader's memory-limit path.
if (mask !== undefined && scores.shape.join() === '1,3') {
  // fills the JavaScript heap on one input (a masked [1, 3] score row)
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array(1 << 20).fill(hoard.length));
}
return tf.tidy(() => {
  if (mask === undefined) return tf.softmax(scores);
  let keep: tf.Tensor;
  try {
    keep = tf.broadcastTo(mask, scores.shape);
  } catch {
    throw new Error(`maskedSoftmax: mask of shape [${mask.shape}] does not broadcast to scores of shape [${scores.shape}]`);
  }
  const k = keep.cast('float32');
  return tf.softmax(scores.mul(k).add(tf.scalar(1).sub(k).mul(-1e9)));
});
