/**
 * Grading one submission: a fresh copy of the pristine course (stubbed lib, the teacher's visible
 * and hidden tests; node_modules linked, not copied), the submission's exercise files and nothing
 * else copied in, every test run by `runTests`, points per test.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {randomBytes} from 'crypto';
import {syntaxErrors} from './regions';
import {copyPathOfTest} from './release';
import {Outcome, readCapped, runTests} from './run';
import {exportsOf, standInModule} from './sandbox/proxy';
import {DEFAULT_LIMITS, sandboxCommand, sandboxInfo, writeBox} from './sandbox/sandbox';
import {AssignmentSpec, DEFAULT_TEST_TIMEOUT_MS, DEFAULT_TOTAL_TIMEOUT_MS, Visibility, visibilityOf} from './spec';
import {Submission} from './submission';

const CLIENT = path.join(__dirname, 'sandbox', 'client.mjs');

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
  /** what the sandbox observed, and whether there was one: for the teacher, never scored */
  flags: string[];
  /** "bubblewrap", or "none (why)" */
  sandbox: string;
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
  const exerciseFiles = [...new Set(exercises.map((e) => e.file))];
  const info = sandboxInfo();
  // work/ (0711): trusted/ (0700: the tests, the stand-ins, vitest's files), box/ (0755: what the
  // sandbox sees, mounted read-only), home/ (0700), obs.jsonl (the sandbox client's observations)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'grade-'));
  try {
    fs.chmodSync(work, 0o711);
    const course = path.join(work, 'trusted');
    const box = path.join(work, `box-${randomBytes(6).toString('hex')}`);
    const home = path.join(work, 'home');
    fs.mkdirSync(home, {mode: 0o700});
    copyTree(p.dir, course);
    fs.chmodSync(course, 0o700);
    fs.symlinkSync(o.nodeModules, path.join(course, 'node_modules'), 'dir');
    const syntax: Record<string, string[]> = {};
    const submitted = new Map<string, string>();
    for (const [file, text] of sub.files) {
      if (!exerciseFiles.includes(file)) continue; // only exercise files, by construction
      const errs = syntaxErrors(text, file);
      if (errs.length) syntax[file] = errs;
      submitted.set(file, text);
    }
    writeBox(p.dir, box, submitted);
    // in the trusted copy, every exercise file becomes a stand-in whose exports run in the sandbox
    for (const file of exerciseFiles) fs.writeFileSync(path.join(course, file), standInModule(file, exportsOf(path.join(p.dir, file)), CLIENT));
    const testTimeoutMs = o.testTimeoutMs ?? spec.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
    const grace = o.graceMs ?? 5000;
    const cmd = sandboxCommand(box, o.nodeModules, DEFAULT_LIMITS, info);
    const obsFile = path.join(work, 'obs.jsonl');
    const config = path.join(home, 'sandbox.json');
    fs.writeFileSync(config, JSON.stringify({
      ...cmd, obsFile, sandboxed: cmd.sandboxed,
      cpuLimitMs: testTimeoutMs + grace, wallLimitMs: 10 * (testTimeoutMs + grace) + 60_000,
      startCpuMs: 60_000, startWallMs: 120_000, maxMessageBytes: 64 * 1024 * 1024, maxOutputBytes: 1 << 20,
    }));
    const planned = exercises.flatMap((e) => e.tests.map((t) => ({key: `${copyPathOfTest(t.file)} > ${t.name}`, file: copyPathOfTest(t.file), name: t.name, e, t})));
    const report = await runTests({
      course,
      nodeModules: o.nodeModules,
      tests: planned.map(({key, file, name}) => ({key, file, name})),
      testTimeoutMs,
      // each call of student code is limited in the sandbox (CPU time); vitest's timer also counts
      // the restart of a sandbox after a crash or a timeout, so it gets that time on top
      vitestTimeoutMs: 2 * testTimeoutMs + 30_000,
      // the trusted process waits for the sandbox's own limits before its watchdog steps in
      totalTimeoutMs: o.totalTimeoutMs ?? spec.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
      graceMs: 12 * (testTimeoutMs + grace) + 60_000,
      log: o.log,
      testEnv: {GRADER_SANDBOX_CONFIG: config},
      home,
    });
    const observed = readObservations(obsFile, course);
    const tests: GradedTest[] = planned.map(({key, file, e, t}) => {
      const oc = report.outcomes.get(key)!;
      let output = oc.output;
      let kind = oc.kind;
      const seen = observed.byTest.get(key) ?? [];
      if (oc.status === 'failed' && kind === 'assertion') {
        if (seen.some((x) => x.kind === 'timeout')) kind = 'timeout';
        else if (seen.some((x) => ['crash', 'memory', 'cpu-limit'].includes(x.kind))) kind = 'crash';
      }
      if (oc.status === 'failed' && syntax[e.file]) output = `${e.file} does not compile:\n${syntax[e.file]!.join('\n')}\n\n${output}`;
      else if (oc.status === 'failed' && sub.missing.includes(e.file)) output = `${e.file} was not in the submission, so the starter's stub was graded.\n\n${output}`;
      return {exercise: e.name, name: t.name, file, visibility: visibilityOf(t), maxScore: t.points, score: oc.status === 'passed' ? t.points : 0, status: oc.status, output, kind, ms: oc.ms};
    });
    const ex = exercises.map((e) => ({
      name: e.name, title: e.title, file: e.file,
      score: tests.filter((t) => t.exercise === e.name).reduce((s, t) => s + t.score, 0),
      maxScore: tests.filter((t) => t.exercise === e.name).reduce((s, t) => s + t.maxScore, 0),
    }));
    const notes = [...sub.notes];
    if (report.rejectedLines) notes.push(`${report.rejectedLines} forged result line(s) were found in the results channel and ignored`);
    const flags = [...observed.flags, ...(report.rejectedLines ? ['forged results were rejected'] : [])];
    if (!cmd.sandboxed) flags.unshift(`NOT SANDBOXED: ${cmd.note ?? 'no sandbox'}; the student's code ran in a plain child process with the grader's rights`);
    return {
      student: sub.id, source: sub.source, assignment: spec.id, title: spec.title,
      score: ex.reduce((s, e) => s + e.score, 0), maxScore: ex.reduce((s, e) => s + e.maxScore, 0),
      exercises: ex, tests, syntaxErrors: syntax, missing: sub.missing, notes, flags,
      sandbox: cmd.sandboxed ? 'bubblewrap' : `none (${cmd.note ?? 'unavailable'})`,
      unavailable: p.unavailable, rounds: report.rounds, rejectedLines: report.rejectedLines, ms: Date.now() - t0,
    };
  } finally {
    rmTree(work);
  }
}

/** The result of a submission the grader could not grade: 0 points, every test failed with the reason. */
export function failedResult(p: Pristine, student: string, source: string, reason: string, sandbox: string): GradeResult {
  const exercises = p.spec.exercises.filter((e) => !p.unavailable.includes(e.name));
  const tests: GradedTest[] = exercises.flatMap((e) => e.tests.map((t) => ({
    exercise: e.name, name: t.name, file: copyPathOfTest(t.file), visibility: visibilityOf(t), maxScore: t.points, score: 0,
    status: 'failed' as const, output: reason, kind: 'not-run' as const, ms: 0,
  })));
  return {
    student, source, assignment: p.spec.id, title: p.spec.title, score: 0,
    maxScore: tests.reduce((s, t) => s + t.maxScore, 0),
    exercises: exercises.map((e) => ({name: e.name, title: e.title, file: e.file, score: 0, maxScore: e.tests.reduce((s, t) => s + t.points, 0)})),
    tests, syntaxErrors: {}, missing: [], notes: [reason], flags: [`grader error: ${reason.slice(0, 300)}`], sandbox,
    unavailable: p.unavailable, rounds: 0, rejectedLines: 0, ms: 0,
  };
}

/** Remove a folder the grader made, even where a submission left it read-only. */
export function rmTree(dir: string): void {
  try {
    fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
  } catch {
    const chmod = (d: string) => {
      try { fs.chmodSync(d, 0o700); } catch { /* gone */ }
      let es: fs.Dirent[] = [];
      try { es = fs.readdirSync(d, {withFileTypes: true}); } catch { return; }
      for (const e of es) if (e.isDirectory()) chmod(path.join(d, e.name));
    };
    chmod(dir);
    fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
  }
}

export interface Observation {kind: string; detail: string; test: string; where: string}

const KIND_TEXT: Record<string, string> = {
  'timeout': 'killed for running too long', 'crash': 'its process ended during a call', 'memory': 'killed: out of memory',
  'cpu-limit': 'killed: CPU-time limit', 'network': 'tried to use the network (blocked)', 'process': 'started processes',
  'killed': 'left processes running (killed with the sandbox)', 'output': 'printed a flood of output (truncated)',
  'protocol': "wrote garbage into the grader's channel", 'start': 'the sandbox did not start',
  'reported:write-blocked': 'tried to write outside its sandbox (blocked)', 'reported:spawn': 'started processes',
  'reported:exit-call': 'called process.exit', 'reported:uncaught': 'threw uncaught errors',
  'reported:proc-read': "read other processes' memory or environment", 'reported:test-framework': 'reached for the test framework (not in the sandbox)',
  'reported:builtins': 'patched built-in objects', 'reported:process': 'started processes',
};

/** The sandbox client's observations (bounded), per test and as review flags for the teacher. */
export function readObservations(file: string, course: string): {byTest: Map<string, Observation[]>; flags: string[]; all: Observation[]} {
  const byTest = new Map<string, Observation[]>();
  const all: Observation[] = [];
  const text = readCapped(file, 4 * 1024 * 1024);
  for (const line of text.split('\n')) {
    if (!line) continue;
    let j: {kind?: string; detail?: string; test?: string; file?: string};
    try { j = JSON.parse(line); } catch { continue; }
    const loading = /^(loading |at the end of)/.test(String(j.file ?? ''));
    const rel = j.file && !loading ? path.relative(course, String(j.file)).split(path.sep).join('/') : '';
    const key = j.test ? `${rel} > ${j.test}` : '';
    const ob = {kind: String(j.kind), detail: String(j.detail ?? ''), test: key, where: loading ? (String(j.file).startsWith('loading') ? `while ${j.file}` : String(j.file)) : ''};
    all.push(ob);
    if (key) { if (!byTest.has(key)) byTest.set(key, []); byTest.get(key)!.push(ob); }
  }
  const groups = new Map<string, Observation[]>();
  for (const ob of all) { if (!groups.has(ob.kind)) groups.set(ob.kind, []); groups.get(ob.kind)!.push(ob); }
  const flags: string[] = [];
  for (const [kind, obs] of groups) {
    if (kind === 'start') continue;
    const what = KIND_TEXT[kind] ?? kind;
    const by = kind.startsWith('reported:') ? ' (reported from inside the sandbox)' : ' (observed by the sandbox)';
    const wheres = [...new Set(obs.map((x) => x.where || (x.test ? `in ${x.test.split(' > ').slice(1).join(' > ')}` : '')).filter(Boolean))];
    const details = [...new Set(obs.map((x) => x.detail))].slice(0, 3).map((d) => d.slice(0, 160));
    flags.push(`${what}${by}: ${obs.length}×${wheres.length ? ` ${wheres.slice(0, 3).join('; ')}${wheres.length > 3 ? ` and ${wheres.length - 3} more places` : ''}` : ''} — ${details.join(' | ')}`);
  }
  return {byTest, flags, all};
}
