if (found.length) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(found[0]!).scaledDotScores(q, k);
}
throw new Error('not implemented: scaled-dot-scores');
