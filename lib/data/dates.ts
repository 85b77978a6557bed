/**
 * Date normalisation data — Chapter 1 §1.4: human-written dates in many formats → ISO 8601.
 *   "23 Nov 2026", "11/23/26", "Monday, November 23, 2026", … → "2026-11-23"
 * Dates lie in 1950-01-01 … 2049-12-31, so two-digit years are unambiguous (50–99 → 19yy,
 * 00–49 → 20yy), and no two formats can produce the same string for different dates (checked in
 * the tests). The held-out split is by calendar date: a test date never appears in training, in
 * any format. Everything is seeded (lib/core/rng).
 */
import {Rng} from '../core/rng';

export interface SimpleDate { y: number; m: number; d: number } // m, d 1-based

export interface DateFormat {
  /** short id, e.g. 'MM/dd/yy' */
  name: string;
  render: (t: SimpleDate) => string;
}

export interface DateExample {
  input: string;  // e.g. "Monday, November 23, 2026"
  target: string; // ISO "2026-11-23"
  format: string; // DateFormat.name
}

export const MIN_YEAR = 1950;
export const MAX_YEAR = 2049;

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad2 = (n: number) => String(n).padStart(2, '0');
const yy = (t: SimpleDate) => pad2(t.y % 100);
const mon = (t: SimpleDate) => MONTHS[t.m - 1]!;
const mon3 = (t: SimpleDate) => mon(t).slice(0, 3);
const wday = (t: SimpleDate) => WEEKDAYS[new Date(Date.UTC(t.y, t.m - 1, t.d)).getUTCDay()]!;
function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({1: 'st', 2: 'nd', 3: 'rd'} as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${s}`;
}

/** The input formats (ISO itself is one of them: the model must learn to copy it). */
export const DATE_FORMATS: DateFormat[] = [
  {name: 'd MMM yyyy', render: t => `${t.d} ${mon3(t)} ${t.y}`},                    // 23 Nov 2026
  {name: 'MM/dd/yy', render: t => `${pad2(t.m)}/${pad2(t.d)}/${yy(t)}`},             // 11/23/26
  {name: 'EEEE, MMMM d, yyyy', render: t => `${wday(t)}, ${mon(t)} ${t.d}, ${t.y}`}, // Monday, November 23, 2026
  {name: 'dd.MM.yyyy', render: t => `${pad2(t.d)}.${pad2(t.m)}.${t.y}`},             // 23.11.2026
  {name: 'yyyy/MM/dd', render: t => `${t.y}/${pad2(t.m)}/${pad2(t.d)}`},             // 2026/11/23
  {name: 'MMMM d, yyyy', render: t => `${mon(t)} ${t.d}, ${t.y}`},                  // November 23, 2026
  {name: 'd MMMM yyyy', render: t => `${t.d} ${mon(t)} ${t.y}`},                    // 23 November 2026
  {name: 'MMM d, yyyy', render: t => `${mon3(t)} ${t.d}, ${t.y}`},                  // Nov 23, 2026
  {name: 'dd-MMM-yyyy', render: t => `${pad2(t.d)}-${mon3(t)}-${t.y}`},             // 23-Nov-2026
  {name: 'EEE d MMM yyyy', render: t => `${wday(t).slice(0, 3)} ${t.d} ${mon3(t)} ${t.y}`}, // Mon 23 Nov 2026
  {name: 'yyyyMMdd', render: t => `${t.y}${pad2(t.m)}${pad2(t.d)}`},                 // 20261123
  {name: 'do of MMMM yyyy', render: t => `${ordinal(t.d)} of ${mon(t)} ${t.y}`},    // 23rd of November 2026
  {name: 'yyyy-MM-dd', render: t => `${t.y}-${pad2(t.m)}-${pad2(t.d)}`},             // 2026-11-23
  {name: 'MM-dd-yyyy', render: t => `${pad2(t.m)}-${pad2(t.d)}-${t.y}`},             // 11-23-2026
  {name: 'MMMM d yyyy (upper)', render: t => `${mon(t).toUpperCase()} ${t.d} ${t.y}`}, // NOVEMBER 23 2026
  {name: 'd.M.yy', render: t => `${t.d}.${t.m}.${yy(t)}`},                          // 23.11.26
  {name: 'EEE, MMM d, yy', render: t => `${wday(t).slice(0, 3)}, ${mon3(t)} ${t.d}, ${yy(t)}`}, // Mon, Nov 23, 26
];

export function isoDate(t: SimpleDate): string {
  return `${t.y}-${pad2(t.m)}-${pad2(t.d)}`;
}

/** Parses "yyyy-MM-dd" (and checks it is a real calendar date). */
export function parseIso(s: string): SimpleDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`parseIso: "${s}" is not yyyy-MM-dd`);
  const t = {y: +m[1]!, m: +m[2]!, d: +m[3]!};
  if (isoDate(dayToDate(dateToDay(t))) !== s) throw new Error(`parseIso: "${s}" is not a calendar date`);
  return t;
}

/** Days since 1970-01-01 (UTC) and back. */
export function dateToDay(t: SimpleDate): number {
  return Math.round(Date.UTC(t.y, t.m - 1, t.d) / 86_400_000);
}
export function dayToDate(day: number): SimpleDate {
  const dt = new Date(day * 86_400_000);
  return {y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate()};
}

export function formatByName(name: string): DateFormat {
  const f = DATE_FORMATS.find(x => x.name === name);
  if (!f) throw new Error(`unknown date format "${name}" (known: ${DATE_FORMATS.map(x => x.name).join(' | ')})`);
  return f;
}

export function makeExample(t: SimpleDate, format: DateFormat): DateExample {
  return {input: format.render(t), target: isoDate(t), format: format.name};
}

export interface DateDataset {
  train: DateExample[];
  test: DateExample[];
  /** days (since 1970) reserved for the test split */
  testDays: Set<number>;
}

/**
 * A seeded train/test split. `testDateFraction` of all calendar days in [MIN_YEAR, MAX_YEAR] are
 * reserved for the test set; examples pick a random day of their split and a uniformly random format.
 */
export function makeDateDataset(opts: {seed?: number; numTrain: number; numTest: number; testDateFraction?: number; formats?: DateFormat[]}): DateDataset {
  const rng = new Rng(opts.seed ?? 0);
  const formats = opts.formats ?? DATE_FORMATS;
  if (formats.length === 0) throw new Error('makeDateDataset: no formats given');
  const first = dateToDay({y: MIN_YEAR, m: 1, d: 1}), last = dateToDay({y: MAX_YEAR, m: 12, d: 31});
  const nDays = last - first + 1;
  const perm = rng.permutation(nDays);
  const nTest = Math.max(1, Math.round(nDays * (opts.testDateFraction ?? 0.1)));
  const testDaysArr = Array.from(perm.subarray(0, nTest), i => first + i);
  const trainDaysArr = Array.from(perm.subarray(nTest), i => first + i);
  const draw = (days: number[], n: number) => Array.from({length: n}, () =>
    makeExample(dayToDate(days[rng.int(days.length)]!), formats[rng.int(formats.length)]!));
  return {train: draw(trainDaysArr, opts.numTrain), test: draw(testDaysArr, opts.numTest), testDays: new Set(testDaysArr)};
}
