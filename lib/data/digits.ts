/**
 * Digit-sequence tasks — Chapter 1 §1.8: tasks whose information grows with the input's length.
 *   copy     "40718" → "40718"
 *   reverse  "40718" → "81704"
 *   sort     "40718" → "01478"
 * An input of n random digits carries n·log2(10) ≈ 3.3·n bits, all of which the output needs
 * (sort needs the digit counts, slightly fewer bits). A date, in contrast, carries about 15 bits
 * in every one of its formats, however long the string is.
 * Lengths are uniform in [minLen, maxLen]; the test strings never occur in the training set.
 */
import {Rng} from '../core/rng';

export type DigitTask = 'copy' | 'reverse' | 'sort';
export const DIGIT_TASKS: DigitTask[] = ['copy', 'reverse', 'sort'];

export interface DigitExample { input: string; target: string; length: number }

export interface DigitDataset { task: DigitTask; train: DigitExample[]; test: DigitExample[] }

/** The output of a task for one input string of digits. */
export function digitTarget(task: DigitTask, input: string): string {
  if (!/^\d*$/.test(input)) throw new Error(`digitTarget: input must be digits only (got "${input}")`);
  if (task === 'copy') return input;
  if (task === 'reverse') return [...input].reverse().join('');
  if (task === 'sort') return [...input].sort().join('');
  throw new Error(`digitTarget: task must be one of ${DIGIT_TASKS.join(', ')} (got "${task}")`);
}

function randomDigits(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(rng.int(10));
  return s;
}

/**
 * A seeded dataset of one task. The test set holds `numTestPerLength` strings of every length in
 * [minLen, maxLen] (distinct); training strings are drawn with uniform lengths and never equal a
 * test string (so for short lengths, where there are few strings, training covers the rest).
 */
export function makeDigitDataset(o: {task: DigitTask; seed?: number; numTrain: number; numTestPerLength: number;
  minLen: number; maxLen: number}): DigitDataset {
  if (!DIGIT_TASKS.includes(o.task)) throw new Error(`makeDigitDataset: task must be one of ${DIGIT_TASKS.join(', ')} (got "${o.task}")`);
  if (!(Number.isInteger(o.minLen) && o.minLen >= 1 && Number.isInteger(o.maxLen) && o.maxLen >= o.minLen)) {
    throw new Error(`makeDigitDataset: need integers 1 ≤ minLen ≤ maxLen (got ${o.minLen}, ${o.maxLen})`);
  }
  if (o.numTestPerLength > 10 ** o.minLen / 2) {
    throw new Error(`makeDigitDataset: ${o.numTestPerLength} test strings of length ${o.minLen} would leave too few ` +
      `of the ${10 ** o.minLen} strings for training; raise minLen or lower numTestPerLength`);
  }
  const rng = new Rng(o.seed ?? 0);
  const make = (input: string): DigitExample => ({input, target: digitTarget(o.task, input), length: input.length});
  const testSet = new Set<string>();
  const test: DigitExample[] = [];
  for (let n = o.minLen; n <= o.maxLen; n++) {
    for (let k = 0; k < o.numTestPerLength;) {
      const s = randomDigits(rng, n);
      if (!testSet.has(s)) { testSet.add(s); test.push(make(s)); k++; }
    }
  }
  const train: DigitExample[] = [];
  while (train.length < o.numTrain) {
    const s = randomDigits(rng, o.minLen + rng.int(o.maxLen - o.minLen + 1));
    if (!testSet.has(s)) train.push(make(s));
  }
  return {task: o.task, train, test};
}
