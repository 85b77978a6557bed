const pe = new Float32Array(maxLen * dModel);
for (let pos = 0; pos < maxLen; pos++) {
  for (let i = 0; i < dModel; i += 2) {
    const angle = pos / Math.pow(10000, i / dModel);
    pe[pos * dModel + i] = Math.cos(angle); // swapped
    pe[pos * dModel + i + 1] = Math.sin(angle);
  }
}
return pe;
