const m = Array.from({length: numClasses}, () => new Array<number>(numClasses).fill(0));
for (let i = 0; i < labels.length; i++) {
  const t = labels[i]!, p = predictions[i]!;
  if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) throw new Error(`confusionMatrix: class index out of range at ${i} (true ${t}, predicted ${p}, numClasses ${numClasses})`);
  m[p]![t]!++; // transposed
}
return m;
