/**
 * Grading one submission: a fresh copy of the pristine course (stubbed lib, the teacher's visible
 * and hidden tests; node_modules linked, not copied), the submission's exercise files and nothing
 * else copied in, every test run by `runTests`, points per test.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {syntaxErrors} from './regions';
import {copyPathOfTest} from './release';
import {Outcome, runTests} from './run';
import {AssignmentSpec, DEFAULT_TEST_TIMEOUT_MS, DEFAULT_TOTAL_TIMEOUT_MS, Visibility, visibilityOf} from './spec';
import {reviewFlags, Submission} from './submission';

export interface GradedTest {
  exercise: string;
  name: string;
  file: string;
  visibility: Visibility;
  maxScore: number;
  score: number;
  status: 'passed' | 'failed';
  /** full failure text (teacher) */
  output: string;
  kind?: Outcome['kind'];
  ms: number;
}

export interface GradeResult {
  student: string;
  source: string;
  assignment: string;
  title: string;
  score: number;
  maxScore: number;
  exercises: {name: string; title: string; file: string; score: number; maxScore: number}[];
  tests: GradedTest[];
  /** file -> TypeScript syntax errors */
  syntaxErrors: Record<string, string[]>;
  missing: string[];
  notes: string[];
  flags: string[];
  unavailable: string[];
  rounds: number;
  rejectedLines: number;
  ms: number;
}

/** The pristine course folder written by `writePristine`. */
export interface Pristine {dir: string; spec: AssignmentSpec; unavailable: string[]}

export function loadPristine(dir: string): Pristine {
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'assignment.json'), 'utf8')) as AssignmentSpec;
  const unavailable = JSON.parse(fs.readFileSync(path.join(dir, 'unavailable.json'), 'utf8')) as string[];
  return {dir, spec, unavailable};
}

function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, {recursive: true});
  for (const e of fs.readdirSync(from, {withFileTypes: true})) {
    if (e.name === 'node_modules') continue;
    const a = path.join(from, e.name), b = path.join(to, e.name);
    if (e.isDirectory()) copyTree(a, b);
    else if (e.isFile()) fs.copyFileSync(a, b);
  }
}

export interface GradeOptions {
  /** folder holding vitest, tfjs, ... (linked into the course copy) */
  nodeModules: string;
  log?: (line: string) => void;
  /** override the spec's timeouts (tests of the grader itself) */
  testTimeoutMs?: number;
  totalTimeoutMs?: number;
  graceMs?: number;
}

export async function gradeSubmission(p: Pristine, sub: Submission, o: GradeOptions): Promise<GradeResult> {
  const t0 = Date.now();
  const {spec} = p;
  const exercises = spec.exercises.filter((e) => !p.unavailable.includes(e.name));
  const course = fs.mkdtempSync(path.join(os.tmpdir(), 'grade-course-'));
  try {
    copyTree(p.dir, course);
    fs.symlinkSync(o.nodeModules, path.join(course, 'node_modules'), 'dir');
    const syntax: Record<string, string[]> = {};
    for (const [file, text] of sub.files) {
      if (!exercises.some((e) => e.file === file)) continue; // only exercise files, by construction
      const errs = syntaxErrors(text, file);
      if (errs.length) syntax[file] = errs;
      fs.writeFileSync(path.join(course, file), text);
    }
    const planned = exercises.flatMap((e) => e.tests.map((t) => ({key: `${copyPathOfTest(t.file)} > ${t.name}`, file: copyPathOfTest(t.file), name: t.name, e, t})));
    const report = await runTests({
      course,
      nodeModules: o.nodeModules,
      tests: planned.map(({key, file, name}) => ({key, file, name})),
      testTimeoutMs: o.testTimeoutMs ?? spec.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS,
      totalTimeoutMs: o.totalTimeoutMs ?? spec.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
      graceMs: o.graceMs,
      log: o.log,
    });
    const tests: GradedTest[] = planned.map(({key, file, e, t}) => {
      const oc = report.outcomes.get(key)!;
      let output = oc.output;
      if (oc.status === 'failed' && syntax[e.file]) output = `${e.file} does not compile:\n${syntax[e.file]!.join('\n')}\n\n${output}`;
      else if (oc.status === 'failed' && sub.missing.includes(e.file)) output = `${e.file} was not in the submission, so the starter's stub was graded.\n\n${output}`;
      return {exercise: e.name, name: t.name, file, visibility: visibilityOf(t), maxScore: t.points, score: oc.status === 'passed' ? t.points : 0, status: oc.status, output, kind: oc.kind, ms: oc.ms};
    });
    const ex = exercises.map((e) => ({
      name: e.name, title: e.title, file: e.file,
      score: tests.filter((t) => t.exercise === e.name).reduce((s, t) => s + t.score, 0),
      maxScore: tests.filter((t) => t.exercise === e.name).reduce((s, t) => s + t.maxScore, 0),
    }));
    const notes = [...sub.notes];
    if (report.rejectedLines) notes.push(`${report.rejectedLines} forged result line(s) were found in the results channel and ignored`);
    return {
      student: sub.id, source: sub.source, assignment: spec.id, title: spec.title,
      score: ex.reduce((s, e) => s + e.score, 0), maxScore: ex.reduce((s, e) => s + e.maxScore, 0),
      exercises: ex, tests, syntaxErrors: syntax, missing: sub.missing, notes,
      flags: [...reviewFlags(sub.files), ...(report.rejectedLines ? ['forged results were rejected'] : [])],
      unavailable: p.unavailable, rounds: report.rounds, rejectedLines: report.rejectedLines, ms: Date.now() - t0,
    };
  } finally {
    fs.rmSync(course, {recursive: true, force: true});
  }
}
