/**
 * npm run assignment -- <command> …
 *
 *   list                         every assignment: exercises, points, availability
 *   release <assignment> [--out DIR]   the student starter (default build/assignments/<id>/starter);
 *                                scans it for hidden tests and solution text and fails on a leak
 *   pristine <assignment> [--out DIR]  the grading copy (starter + hidden tests, no solutions)
 *   bundle <assignment> [--out DIR]    the Gradescope autograder bundle (folder + autograder.zip)
 *   check <assignment>           grade the reference solution and the starter: must be N/N and 0/N
 *   sample <assignment> <name> <out>   write a sample submission (samples/<name>/sample.json)
 *   mark <file> <function> <region> [startAt]   authoring: wrap a function body in SOLUTION markers
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {writeBundle} from '../grader/bundle';
import {gradeSubmission, loadPristine} from '../grader/grader';
import {markFunction} from '../grader/regions';
import {exerciseAvailable, scanRelease, writePristine, writeRelease} from '../grader/release';
import {buildSample, listSamples} from '../grader/samples';
import {courseRoot, listAssignments, loadAssignment, maxScore} from '../grader/spec';
import {readSubmission} from '../grader/submission';

function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const args = argv.slice();
  const cmd = args.shift();
  const root = courseRoot();
  const out = opt(args, '--out');
  switch (cmd) {
    case 'list': {
      for (const id of listAssignments(root)) {
        const a = loadAssignment(id, root);
        console.log(`${id} (chapter ${a.spec.chapter}): ${a.spec.title} — ${maxScore(a.spec, 'visible')} visible + ${maxScore(a.spec, 'hidden')} hidden points`);
        for (const e of a.spec.exercises) {
          const pts = e.tests.reduce((s, t) => s + t.points, 0);
          console.log(`  ${e.name.padEnd(24)} ${e.file.padEnd(32)} ${String(pts).padStart(3)} pts  ${exerciseAvailable(a, e) ? '' : '(unavailable: file or SOLUTION region missing)'}`);
        }
      }
      return 0;
    }
    case 'release': {
      const a = loadAssignment(need(args[0], 'assignment'), root);
      const dir = path.resolve(out ?? path.join(root, 'build', 'assignments', a.spec.id, 'starter'));
      const w = writeRelease(a, dir);
      const leaks = scanRelease(a, dir);
      console.log(`wrote the ${a.spec.id} starter to ${path.relative(process.cwd(), dir) || dir} (${w.files.length} files)`);
      for (const [f, ex] of w.stubbed) console.log(`  stubbed ${f}: ${ex.join(', ')}`);
      if (w.unavailable.length) console.log(`  not released (lib file or SOLUTION region missing): ${w.unavailable.join(', ')}`);
      if (leaks.length) {
        console.error(`LEAK: the release contains what students must not see:\n${leaks.map((l) => `  ${l.file}:${l.line}: ${l.what}`).join('\n')}`);
        return 1;
      }
      console.log('  scan: no hidden tests, hidden test names, SOLUTION markers or solution text in the release');
      return 0;
    }
    case 'pristine': {
      const a = loadAssignment(need(args[0], 'assignment'), root);
      const dir = path.resolve(out ?? path.join(root, 'build', 'assignments', a.spec.id, 'pristine'));
      const w = writePristine(a, dir);
      console.log(`wrote the ${a.spec.id} grading copy to ${dir} (${w.files.length} files)`);
      return 0;
    }
    case 'bundle': {
      const a = loadAssignment(need(args[0], 'assignment'), root);
      const dir = path.resolve(out ?? path.join(root, 'build', 'assignments', a.spec.id, 'gradescope'));
      const b = writeBundle(a, dir);
      console.log(`wrote the Gradescope autograder to ${b.dir} and ${b.zip} (${b.files.length} files); upload the zip as the autograder`);
      return 0;
    }
    case 'check': {
      const a = loadAssignment(need(args[0], 'assignment'), root);
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-check-'));
      try {
        writePristine(a, path.join(tmp, 'pristine'));
        const p = loadPristine(path.join(tmp, 'pristine'));
        const files = a.spec.exercises.map((e) => e.file);
        let ok = true;
        for (const [label, dir, want] of [['reference', root, 'max'], ['starter', path.join(tmp, 'pristine'), 0]] as const) {
          const r = await gradeSubmission(p, readSubmission(dir, files, label), {nodeModules: path.join(root, 'node_modules')});
          const expected = want === 'max' ? r.maxScore : 0;
          console.log(`${label}: ${r.score} / ${r.maxScore}${r.score === expected ? '' : `  (expected ${expected})`}`);
          for (const t of r.tests) if ((t.status === 'passed') !== (want === 'max')) console.log(`  ${t.status}: ${t.file} > ${t.name}${t.status === 'failed' ? `\n    ${t.output.split('\n').slice(0, 3).join('\n    ')}` : ''}`);
          if (r.score !== expected) ok = false;
        }
        if (p.unavailable.length) console.log(`unavailable (not checked): ${p.unavailable.join(', ')}`);
        return ok ? 0 : 1;
      } finally {
        fs.rmSync(tmp, {recursive: true, force: true});
      }
    }
    case 'sample': {
      const a = loadAssignment(need(args[0], 'assignment'), root);
      const name = need(args[1], 'sample name');
      if (!listSamples(a).includes(name)) throw new Error(`no sample "${name}" (have: ${listSamples(a).join(', ')})`);
      const dir = path.resolve(need(args[2], 'output folder'));
      buildSample(a, name, dir);
      console.log(`wrote the sample submission ${name} to ${dir}`);
      return 0;
    }
    case 'mark': {
      const [file, fn, region] = [need(args[0], 'file'), need(args[1], 'function'), need(args[2], 'region')];
      const text = fs.readFileSync(file, 'utf8');
      const marked = markFunction(text, fn, region, file, args[3]);
      if (marked === text) console.log(`${file}: region ${region} already marked`);
      else { fs.writeFileSync(file, marked); console.log(`${file}: marked ${fn} as region ${region}`); }
      return 0;
    }
    default:
      console.error('usage: npm run assignment -- list | release <a> | pristine <a> | bundle <a> | check <a> | sample <a> <name> <out> | mark <file> <fn> <region>');
      return 2;
  }
}

function need(v: string | undefined, what: string): string {
  if (v === undefined) throw new Error(`missing ${what}`);
  return v;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(`error: ${(e as Error).message}`); process.exit(1); });
}
