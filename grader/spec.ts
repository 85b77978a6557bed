/**
 * Assignment specs: `assignments/<id>/assignment.json`.
 *
 * One spec per chapter. Each exercise names the lib file and the `// BEGIN SOLUTION <region>`
 * region that students write, and lists every test that grades it with its points. Tests live in
 * `assignments/<id>/visible/*.test.ts` (released to students) and `assignments/<id>/hidden/*.test.ts`
 * (teacher only); a test's visibility is the folder it is in.
 */
import * as fs from 'fs';
import * as path from 'path';

export type Visibility = 'visible' | 'hidden';

export interface TestSpec {
  /** test file relative to the assignment folder: `visible/softmax.test.ts` or `hidden/softmax.test.ts` */
  file: string;
  /** vitest full name: describe names and the test name joined by " > " */
  name: string;
  points: number;
}

export interface ExerciseSpec {
  name: string;
  title: string;
  /** the lib file (relative to the course root) that holds the solution region */
  file: string;
  /** region id after `// BEGIN SOLUTION`; defaults to the exercise name */
  region?: string;
  /** one line shown in the stub and the student README */
  hint?: string;
  tests: TestSpec[];
}

export interface AssignmentSpec {
  id: string;
  chapter: number;
  title: string;
  description?: string;
  /** per-test timeout (vitest testTimeout; a watchdog kills synchronous hangs a little later) */
  testTimeoutMs?: number;
  /** wall-clock budget for grading one submission */
  totalTimeoutMs?: number;
  exercises: ExerciseSpec[];
  /** chapter notebooks released with their exercise cells stubbed (same SOLUTION markers) */
  notebooks?: string[];
}

export interface LoadedAssignment {
  spec: AssignmentSpec;
  /** absolute path of `assignments/<id>` */
  dir: string;
  /** absolute path of the course root the lib files are relative to */
  root: string;
}

export const DEFAULT_TEST_TIMEOUT_MS = 10_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 300_000;

export function testKey(t: {file: string; name: string}): string {
  return `${t.file} > ${t.name}`;
}

export function visibilityOf(t: {file: string}): Visibility {
  if (t.file.startsWith('visible/')) return 'visible';
  if (t.file.startsWith('hidden/')) return 'hidden';
  throw new Error(`test file "${t.file}" must be under visible/ or hidden/`);
}

export function regionOf(e: ExerciseSpec): string {
  return e.region ?? e.name;
}

export function maxScore(spec: AssignmentSpec, visibility?: Visibility): number {
  let s = 0;
  for (const e of spec.exercises) for (const t of e.tests) if (!visibility || visibilityOf(t) === visibility) s += t.points;
  return s;
}

/** Check a parsed spec; every problem is named (field and exercise), all at once. */
export function validateSpec(spec: AssignmentSpec, where = 'assignment.json'): void {
  const problems: string[] = [];
  const need = (cond: unknown, msg: string) => { if (!cond) problems.push(msg); };
  need(typeof spec.id === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(spec.id), `id must be a lower-case slug, got ${JSON.stringify(spec.id)}`);
  need(Number.isInteger(spec.chapter), `chapter must be an integer`);
  need(typeof spec.title === 'string' && spec.title.length > 0, `title is missing`);
  need(Array.isArray(spec.exercises) && spec.exercises.length > 0, `exercises must be a non-empty list`);
  const names = new Set<string>(), keys = new Set<string>(), regions = new Set<string>();
  for (const [i, e] of (spec.exercises ?? []).entries()) {
    const at = `exercises[${i}] (${e?.name ?? '?'})`;
    need(typeof e.name === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(e.name), `${at}: name must be a lower-case slug`);
    need(!names.has(e.name), `${at}: duplicate exercise name`);
    names.add(e.name);
    need(typeof e.file === 'string' && /^lib\/[\w/.-]+\.ts$/.test(e.file) && !e.file.includes('..'), `${at}: file must be a lib/**/*.ts path, got ${JSON.stringify(e.file)}`);
    const rk = `${e.file}#${regionOf(e)}`;
    need(!regions.has(rk), `${at}: region ${regionOf(e)} of ${e.file} is used twice`);
    regions.add(rk);
    need(Array.isArray(e.tests) && e.tests.length > 0, `${at}: tests must be a non-empty list`);
    for (const [j, t] of (e.tests ?? []).entries()) {
      const tat = `${at} tests[${j}]`;
      need(typeof t.file === 'string' && /^(visible|hidden)\/[\w.-]+\.test\.ts$/.test(t.file), `${tat}: file must be visible/<name>.test.ts or hidden/<name>.test.ts, got ${JSON.stringify(t.file)}`);
      need(typeof t.name === 'string' && t.name.length > 0, `${tat}: name is missing`);
      need(typeof t.points === 'number' && t.points > 0 && Number.isFinite(t.points), `${tat}: points must be a positive number`);
      const k = testKey(t);
      need(!keys.has(k), `${tat}: duplicate test ${k}`);
      keys.add(k);
    }
  }
  for (const nb of spec.notebooks ?? []) need(typeof nb === 'string' && /^chapters\/[\w.-]+\.ipynb$/.test(nb), `notebooks: ${JSON.stringify(nb)} must be a chapters/*.ipynb path`);
  // a test file belongs to one exercise: then a crash in it costs only that exercise's points
  const owner = new Map<string, string>();
  for (const e of spec.exercises ?? []) for (const t of e.tests ?? []) {
    const o = owner.get(t.file);
    if (o !== undefined && o !== e.name) problems.push(`test file ${t.file} is used by exercises ${o} and ${e.name}; give each exercise its own test files`);
    owner.set(t.file, e.name);
  }
  if (problems.length) throw new Error(`${where}: invalid assignment spec:\n  - ${problems.join('\n  - ')}`);
}

/**
 * The course root (the folder with package.json and assignments/): COURSE_ROOT if set, else the
 * first such folder above the working directory, else above this file.
 */
export function courseRoot(from?: string): string {
  const starts = from ? [from] : [process.env.COURSE_ROOT, process.cwd(), __dirname].filter((x): x is string => !!x);
  for (const s of starts) {
    let d = path.resolve(s);
    for (;;) {
      if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'assignments'))) return d;
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new Error(`no course root (a folder with package.json and assignments/) above ${starts.join(' or ')}`);
}

/** Every assignment id under `<root>/assignments`. */
export function listAssignments(root: string): string[] {
  const dir = path.join(root, 'assignments');
  return fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'assignment.json'))).sort();
}

/** Load by id (`ch1`), by chapter number (`1`) or by folder path. */
export function loadAssignment(nameOrPath: string, root = courseRoot()): LoadedAssignment {
  let dir: string | undefined;
  const direct = path.resolve(nameOrPath);
  if (fs.existsSync(path.join(direct, 'assignment.json'))) dir = direct;
  else if (fs.existsSync(path.join(root, 'assignments', nameOrPath, 'assignment.json'))) dir = path.join(root, 'assignments', nameOrPath);
  else if (/^\d+$/.test(nameOrPath) && fs.existsSync(path.join(root, 'assignments', `ch${nameOrPath}`, 'assignment.json'))) dir = path.join(root, 'assignments', `ch${nameOrPath}`);
  if (!dir) {
    const known = fs.existsSync(path.join(root, 'assignments')) ? listAssignments(root).join(', ') : 'none';
    throw new Error(`unknown assignment "${nameOrPath}" (known: ${known})`);
  }
  const file = path.join(dir, 'assignment.json');
  let spec: AssignmentSpec;
  try {
    spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  validateSpec(spec, file);
  return {spec, dir, root};
}
