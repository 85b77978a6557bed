/**
 * npm run grade -- <assignment> <submission…> [--out DIR]
 *
 * Grades each submission (a folder or a .zip) in a fresh copy of the course: only the exercise
 * files are taken from the submission; the teacher's visible and hidden tests run in vitest child
 * processes with per-test and total time limits. Writes per student `results.json` (Gradescope),
 * `junit.xml` and `feedback.md`, and the class `gradebook.csv`, `summary.json` and `review.md` (what the
 * sandbox observed, for the teacher) to --out
 * (default build/grades/<assignment>).
 *
 * Options: --pristine DIR  grade against a prepared pristine copy (the Gradescope bundle does)
 *          --gradescope FILE  also write the (single) submission's results.json to FILE
 *          --node-modules DIR  where vitest and tfjs are installed (default: the course's)
 *          --quiet
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {failedResult, GradeResult, gradeSubmission, loadPristine, Pristine, rmTree} from '../grader/grader';
import {feedbackMarkdown, gradebookCsv, gradescopeResults, junitXml, reviewMarkdown} from '../grader/outputs';
import {sandboxInfo} from '../grader/sandbox/sandbox';
import {writePristine} from '../grader/release';
import {courseRoot, loadAssignment} from '../grader/spec';
import {readSubmission} from '../grader/submission';

export interface GradeCliOptions {
  assignment?: string;
  submissions: string[];
  out?: string;
  pristine?: string;
  gradescope?: string;
  nodeModules?: string;
  quiet?: boolean;
  testTimeoutMs?: number;
  graceMs?: number;
}

export function parseArgs(argv: string[]): GradeCliOptions {
  const o: GradeCliOptions = {submissions: []};
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--out') o.out = val();
    else if (a === '--pristine') o.pristine = val();
    else if (a === '--gradescope') o.gradescope = val();
    else if (a === '--node-modules') o.nodeModules = val();
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--test-timeout-ms') o.testTimeoutMs = Number(val());
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else pos.push(a);
  }
  if (!o.pristine) o.assignment = pos.shift();
  o.submissions = pos;
  if (!o.pristine && !o.assignment) throw new Error('usage: npm run grade -- <assignment> <submission folder or zip>…');
  if (o.submissions.length === 0) throw new Error('no submissions given (folders or .zip files)');
  for (const s of o.submissions) if (!fs.existsSync(s)) throw new Error(`submission not found: ${s}`);
  return o;
}

function safeName(s: string): string {
  return s.replace(/[^\w.@+-]+/g, '_').replace(/^\.+/, '_').slice(0, 80) || 'student';
}

export async function gradeAll(o: GradeCliOptions): Promise<{results: GradeResult[]; out: string; errors: string[]}> {
  const log = (s: string) => { if (!o.quiet) console.log(s); };
  let pristine: Pristine;
  let tmpPristine: string | undefined;
  const root = o.pristine ? undefined : courseRoot();
  if (o.pristine) pristine = loadPristine(path.resolve(o.pristine));
  else {
    const asg = loadAssignment(o.assignment!, root);
    tmpPristine = fs.mkdtempSync(path.join(os.tmpdir(), 'grade-pristine-'));
    writePristine(asg, tmpPristine);
    pristine = loadPristine(tmpPristine);
  }
  const nodeModules = path.resolve(o.nodeModules ?? path.join(root ?? courseRoot(), 'node_modules'));
  const out = path.resolve(o.out ?? path.join(root ?? process.cwd(), 'build', 'grades', pristine.spec.id));
  fs.mkdirSync(out, {recursive: true});
  const exerciseFiles = pristine.spec.exercises.filter((e) => !pristine.unavailable.includes(e.name)).map((e) => e.file);
  if (pristine.unavailable.length) log(`note: not graded (lib file or region not written yet): ${pristine.unavailable.join(', ')}`);
  const results: GradeResult[] = [];
  const errors: string[] = [];
  const used = new Set<string>();
  const sb = sandboxInfo();
  log(sb.kind === 'bwrap' ? 'sandbox: bubblewrap (no network, read-only files, own PID namespace, rlimits)' : `WARNING: NOT SANDBOXED: ${sb.reason}; student code runs in a plain child process`);
  try {
    for (const s of o.submissions) {
      let name = safeName(path.basename(s).replace(/\.zip$/i, ''));
      let r: GradeResult;
      try {
        const sub = readSubmission(path.resolve(s), exerciseFiles);
        name = safeName(sub.id);
        for (let k = 2; used.has(name); k++) name = `${safeName(sub.id)}-${k}`;
        used.add(name);
        sub.id = name;
        r = await gradeSubmission(pristine, sub, {nodeModules, testTimeoutMs: o.testTimeoutMs, graceMs: o.graceMs, log: (l) => log(`  ${name}: ${l}`)});
      } catch (e) {
        // one submission the grader could not handle costs that submission (0, with the reason), not the batch
        for (let k = 2; used.has(name); k++) name = `${name}-${k}`;
        used.add(name);
        errors.push(`${name}: ${(e as Error).stack ?? e}`);
        console.error(`grader error for ${name}: ${(e as Error).stack ?? e}`);
        r = failedResult(pristine, name, s, `the grader could not grade this submission: ${(e as Error).message ?? e}`, sb.kind === 'bwrap' ? 'bubblewrap' : `none (${sb.reason})`);
      }
      results.push(r);
      const dir = path.join(out, name);
      fs.mkdirSync(dir, {recursive: true});
      fs.writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(gradescopeResults(r), null, 2)}\n`);
      fs.writeFileSync(path.join(dir, 'junit.xml'), junitXml(r));
      fs.writeFileSync(path.join(dir, 'feedback.md'), feedbackMarkdown(r));
      log(`${name}: ${r.score} / ${r.maxScore}  (${(r.ms / 1000).toFixed(1)} s${r.flags.length ? `; review: ${r.flags.join('; ')}` : ''})`);
    }
  } finally {
    if (tmpPristine) rmTree(tmpPristine);
  }
  fs.writeFileSync(path.join(out, 'gradebook.csv'), gradebookCsv(results));
  fs.writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(results.map((r) => ({student: r.student, score: r.score, maxScore: r.maxScore, exercises: r.exercises, flags: r.flags, sandbox: r.sandbox, rounds: r.rounds, ms: r.ms})), null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'review.md'), reviewMarkdown(results));
  if (o.gradescope) {
    const r = results[0];
    const body = r ? gradescopeResults(r) : {score: 0, output: 'The grader found no submission to grade; your teacher has been told.', tests: []};
    fs.mkdirSync(path.dirname(path.resolve(o.gradescope)), {recursive: true});
    fs.writeFileSync(o.gradescope, `${JSON.stringify(body, null, 2)}\n`);
  }
  log(`wrote ${path.relative(process.cwd(), out) || out}/gradebook.csv (${results.length} submission${results.length === 1 ? '' : 's'})`);
  return {results, out, errors};
}

if (require.main === module) {
  (async () => {
    let o: GradeCliOptions;
    try {
      o = parseArgs(process.argv.slice(2));
    } catch (e) {
      console.error((e as Error).message);
      process.exit(2);
    }
    const {errors} = await gradeAll(o);
    process.exit(errors.length ? 1 : 0);
  })().catch((e) => { console.error(e); process.exit(1); });
}
