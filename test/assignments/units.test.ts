// Unit tests of the assignment machinery that need no vitest child process: regions, stubs,
// imports, spec validation, output formats, submission intake.
import {zipSync} from 'fflate';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {describe, expect, it} from 'vitest';
import type {GradeResult} from '../../grader/grader';
import {repointImports, relativeSpecifiers} from '../../grader/imports';
import {feedbackMarkdown, gradebookCsv, gradescopeResults, junitXml, studentOutput} from '../../grader/outputs';
import {findRegions, markFunction, stubRegions, syntaxErrors} from '../../grader/regions';
import {courseFiles, namePattern, scanRelease, writeRelease} from '../../grader/release';
import {clean} from '../../grader/run';
import {AssignmentSpec, loadAssignment, validateSpec} from '../../grader/spec';
import {readSubmission} from '../../grader/submission';

const SRC = [
  'export function f(x: number): number {',
  '  if (x < 0) throw new Error("negative");',
  '  // BEGIN SOLUTION square',
  '  const y = x * x;',
  '  return y;',
  '  // END SOLUTION',
  '}',
].join('\n');

describe('solution regions', () => {
  it('finds a region with its id, marker lines, indentation and body', () => {
    const [r] = findRegions(SRC);
    expect(r).toEqual({id: 'square', begin: 2, end: 5, indent: '  ', body: '  const y = x * x;\n  return y;'});
  });
  it('a stub replaces the region by a throw that names the exercise, keeping the argument check', () => {
    const out = stubRegions(SRC, {action: () => 'stub', exercise: () => ({name: 'square-it', hint: 'return x²'})});
    expect(out).toBe([SRC.split('\n').slice(0, 2).join('\n'), '  // TODO(square-it): return x²', "  throw new Error('not implemented: square-it');", '}'].join('\n'));
    expect(out).not.toContain('x * x');
  });
  it('keep drops only the marker lines', () => {
    const out = stubRegions(SRC, {action: () => 'keep', exercise: () => ({name: 'x'})});
    expect(out.split('\n')).toEqual(SRC.split('\n').filter((l) => !/SOLUTION/.test(l)));
  });
  it('names the line of an unclosed, nested or anonymous region', () => {
    expect(() => findRegions('// BEGIN SOLUTION a\nx', 'f.ts')).toThrow(/f\.ts:1: region "a" is never closed/);
    expect(() => findRegions('// BEGIN SOLUTION a\n// BEGIN SOLUTION b\n// END SOLUTION\n// END SOLUTION', 'f.ts')).toThrow(/f\.ts:2: BEGIN SOLUTION inside the region "a"/);
    expect(() => findRegions('// BEGIN SOLUTION\n// END SOLUTION', 'f.ts')).toThrow(/f\.ts:1: BEGIN SOLUTION needs a region id/);
    expect(() => findRegions('x\n// END SOLUTION', 'f.ts')).toThrow(/f\.ts:2: END SOLUTION without a BEGIN SOLUTION/);
  });
  it('markFunction wraps a body after its leading checks, and is idempotent', () => {
    const plain = SRC.split('\n').filter((l) => !/SOLUTION/.test(l)).join('\n');
    const marked = markFunction(plain, 'f', 'square');
    expect(marked).toBe(SRC);
    expect(markFunction(marked, 'f', 'square')).toBe(marked);
    expect(() => markFunction(plain, 'g', 'r', 'm.ts')).toThrow(/m\.ts: no function g/);
  });
  it('syntaxErrors reports TypeScript diagnostics with file, line and column', () => {
    expect(syntaxErrors('const a = (1 + 2;\n', 'lib/x.ts')).toEqual(["lib/x.ts(1,17): error TS1005: ')' expected."]);
    expect(syntaxErrors('export const a: number = 1;\n', 'lib/x.ts')).toEqual([]);
  });
});

describe('imports', () => {
  it('finds relative specifiers of import, export-from, dynamic import and require', () => {
    const src = "import * as tf from '@tensorflow/tfjs';\nimport {a} from '../lib/a';\nexport {b} from \"./b\";\nconst c = require('../c');\nconst d = await import('./d');\nimport './side';";
    expect(relativeSpecifiers(src)).toEqual(['../lib/a', './b', '../c', './d', './side']);
  });
  it('repoints a moved test file so its imports reach the same files', () => {
    const src = "import {m} from '../../../lib/attention/softmax';\nimport {h} from '../../../test/helpers';";
    expect(repointImports(src, 'assignments/ch1/visible/s.test.ts', 'test/visible/s.test.ts'))
      .toBe("import {m} from '../../lib/attention/softmax';\nimport {h} from '../helpers';");
  });
});

describe('spec validation', () => {
  const good = (): AssignmentSpec => ({id: 'chx', chapter: 9, title: 't', exercises: [
    {name: 'a', title: 'A', file: 'lib/x/a.ts', tests: [{file: 'visible/a.test.ts', name: 'a > one', points: 1}]},
  ]});
  it('accepts a well-formed spec', () => expect(() => validateSpec(good())).not.toThrow());
  it('names every problem at once', () => {
    const s = good();
    s.exercises.push({name: 'b', title: 'B', file: '../etc/passwd', tests: [{file: 'visible/a.test.ts', name: 'a > one', points: 0}]});
    expect(() => validateSpec(s)).toThrow(/file must be a lib\/\*\*\/\*\.ts path[\s\S]*points must be a positive number[\s\S]*duplicate test[\s\S]*used by exercises a and b/);
  });
});

function result(): GradeResult {
  return {
    student: '=cmd|evil', source: '/s', assignment: 'chx', title: 'Chapter X', score: 2, maxScore: 5,
    exercises: [{name: 'a', title: 'A', file: 'lib/x/a.ts', score: 2, maxScore: 5}],
    tests: [
      {exercise: 'a', name: 'a > one', file: 'test/visible/a.test.ts', visibility: 'visible', maxScore: 2, score: 2, status: 'passed', output: '', ms: 3},
      {exercise: 'a', name: 'a > two <&>', file: 'test/visible/a.test.ts', visibility: 'visible', maxScore: 1, score: 0, status: 'failed', output: 'expected 1 to be 2', kind: 'assertion', ms: 3},
      {exercise: 'a', name: 'a > secret', file: 'test/hidden/a.test.ts', visibility: 'hidden', maxScore: 2, score: 0, status: 'failed', output: 'expected 42 (the secret input) to be 43', kind: 'assertion', ms: 3},
    ],
    syntaxErrors: {}, missing: [], notes: [], flags: ['tried to use the network (blocked) (observed by the sandbox): 1× in a > two'], sandbox: 'bubblewrap', unavailable: ['b'], rounds: 1, rejectedLines: 0, ms: 1234,
  };
}

describe('outputs', () => {
  it('Gradescope results.json has score, max_score and per-test name, score, max_score, status, visibility, output', () => {
    const g = gradescopeResults(result());
    expect(g.score).toBe(2);
    expect(g.max_score).toBe(5);
    expect(g.tests.map((t) => [t.name, t.score, t.max_score, t.status, t.visibility])).toEqual([
      ['a: a > one', 2, 2, 'passed', 'visible'], ['a: a > two <&>', 0, 1, 'failed', 'visible'], ['a: a > secret', 0, 2, 'failed', 'after_published'],
      ['Grader review (for the teacher; not scored)', 0, 0, 'passed', 'hidden']]);
    // the teacher (only) sees the sandbox and what it observed
    expect(g.tests[3]!.output).toBe('sandbox: bubblewrap\n- tried to use the network (blocked) (observed by the sandbox): 1× in a > two');
    expect(g.output).not.toContain('network');
    expect(g.tests[1]!.output).toBe('expected 1 to be 2');
    expect(g.output).toMatch(/b: not graded/);
  });
  it('a hidden test shows students how it failed, never its assertion', () => {
    const t = result().tests[2]!;
    expect(studentOutput(t)).toBe('hidden test failed: a hidden check failed');
    expect(JSON.stringify(gradescopeResults(result()))).not.toContain('secret input');
    expect(feedbackMarkdown(result())).not.toContain('secret input');
    expect(studentOutput({...t, kind: 'timeout'})).toMatch(/timed out/);
    // a hidden test that never ran says so (not "a hidden check failed")
    expect(studentOutput({...t, kind: 'not-run', output: 'not run: the grading time limit (240 s) was used up'})).toBe('hidden test failed: it did not run (the grading time limit (240 s) was used up)');
  });
  it('JUnit XML escapes names and keeps the full failure text for the teacher', () => {
    const x = junitXml(result());
    expect(x).toContain('<testsuite name="chx.a" tests="3" failures="2"');
    expect(x).toContain('name="a &gt; two &lt;&amp;&gt;"');
    expect(x).toContain('expected 42 (the secret input) to be 43</failure>');
  });
  it('the gradebook quotes cells and defuses spreadsheet formulas in student names', () => {
    expect(gradebookCsv([result()]).split('\n')).toEqual([
      'student,score,max_score,a,missing_files,flags,sandbox,source', `"'=cmd|evil",2,5,2,,tried to use the network (blocked) (observed by the sandbox): 1× in a > two,bubblewrap,/s`, '']);
  });
});

describe('error text', () => {
  it('feedback text has no ANSI colours and is capped', () => {
    expect(clean('\x1b[31m[PARSE_ERROR] \x1b[0mExpected `)`')).toBe('[PARSE_ERROR] Expected `)`');
    expect(clean('x'.repeat(5000))).toMatch(/^x{4000}\n… \(1000 more characters\)$/);
  });
});

describe('submission intake', () => {
  it('takes only the exercise files, from a folder, a nested zip or by unique file name', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sub-'));
    fs.mkdirSync(path.join(d, 'lib', 'x'), {recursive: true});
    fs.writeFileSync(path.join(d, 'lib', 'x', 'a.ts'), 'A');
    fs.writeFileSync(path.join(d, 'evil.ts'), 'E');
    const s = readSubmission(d, ['lib/x/a.ts', 'lib/x/b.ts']);
    expect([...s.files]).toEqual([['lib/x/a.ts', 'A']]);
    expect(s.missing).toEqual(['lib/x/b.ts']);
    const zip = path.join(d, 'alice.zip');
    fs.writeFileSync(zip, zipSync({'alice-work/lib/x/a.ts': new TextEncoder().encode('ZA'), 'b.ts': new TextEncoder().encode('ZB'), '../../escape.ts': new TextEncoder().encode('no')}));
    const z = readSubmission(zip, ['lib/x/a.ts', 'lib/x/b.ts', 'lib/y/escape.ts']);
    expect(z.id).toBe('alice');
    expect(Object.fromEntries(z.files)).toEqual({'lib/x/a.ts': 'ZA', 'lib/x/b.ts': 'ZB'});
    expect(z.notes.join('\n')).toMatch(/ignored the zip entry \.\.\/\.\.\/escape\.ts/);
    fs.rmSync(d, {recursive: true, force: true});
  });
  it('namePattern selects a test by its full name and escapes regex characters', () => {
    const re = new RegExp(namePattern('maskedSoftmax > softmax of [2, 1, 0.1]'));
    expect(re.test('maskedSoftmax softmax of [2, 1, 0.1]')).toBe(true);
    expect(re.test('test/x.test.ts maskedSoftmax softmax of [2, 1, 0.1]')).toBe(true);
    expect(re.test('maskedSoftmax softmax of [2, 1, 0x1]')).toBe(false);
  });
});

/** A course folder in tmp with package.json and lib/a.ts (one exercise region `a`), and a writer for more files. */
function tinyCourse(): {root: string; w: (p: string, t: string) => void} {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'course-'));
  const w = (p: string, t: string) => { fs.mkdirSync(path.dirname(path.join(root, p)), {recursive: true}); fs.writeFileSync(path.join(root, p), t); };
  w('package.json', '{"dependencies": {}}');
  w('lib/a.ts', 'export function a(x: number): number {\n  // BEGIN SOLUTION a\n  return 2 * x;\n  // END SOLUTION\n}\n');
  return {root, w};
}

describe('unavailable exercises', () => {
  it('an exercise whose lib file or region does not exist yet is left out of the release and reported', () => {
    const {root, w} = tinyCourse();
    w('lib/c.ts', 'export function c(): number {\n  return 1;\n}\n');
    const spec: AssignmentSpec = {id: 'chx', chapter: 9, title: 'X', exercises: [
      {name: 'a', title: 'A', file: 'lib/a.ts', tests: [{file: 'visible/a.test.ts', name: 'a > doubles', points: 1}]},
      {name: 'b', title: 'B', file: 'lib/b.ts', tests: [{file: 'visible/b.test.ts', name: 'b > exists', points: 1}]},
      {name: 'c', title: 'C', file: 'lib/c.ts', tests: [{file: 'visible/c.test.ts', name: 'c > one', points: 1}]},
    ]};
    w('assignments/chx/assignment.json', JSON.stringify(spec));
    w('assignments/chx/visible/a.test.ts', "import {a} from '../../../lib/a';\n");
    w('assignments/chx/visible/b.test.ts', "import {b} from '../../../lib/b';\n");
    w('assignments/chx/visible/c.test.ts', "import {c} from '../../../lib/c';\n");
    const c = courseFiles(loadAssignment('chx', root), {hidden: true});
    expect(c.unavailable).toEqual(['b', 'c']);
    expect([...c.files.keys()].sort()).toEqual(['lib/a.ts', 'test/visible/a.test.ts']);
    expect(c.files.get('lib/a.ts')).toContain("throw new Error('not implemented: a');");
    expect(c.files.get('test/visible/a.test.ts')).toBe("import {a} from '../../lib/a';\n");
    fs.rmSync(root, {recursive: true, force: true});
  });
});

describe('notebook exercise cells', () => {
  it('a notebook named by the spec is released with its SOLUTION cells stubbed, outputs cleared and its lib imports included', () => {
    const {root, w} = tinyCourse();
    w('lib/show.ts', 'export const show = (x: unknown) => String(x);\n');
    const cell = (src: string, outputs: unknown[] = []) => ({cell_type: 'code', metadata: {}, source: src.split(/(?<=\n)/), outputs, execution_count: outputs.length ? 3 : null});
    w('chapters/01-x.ipynb', JSON.stringify({nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [
      {cell_type: 'markdown', metadata: {}, source: ['# Exercise']},
      cell("import {show} from '../lib/show';\n"),
      cell('function triple(x: number): number {\n  // BEGIN SOLUTION triple\n  const threeTimes = x + x + x;\n  return threeTimes;\n  // END SOLUTION\n}\n', [{output_type: 'stream', name: 'stdout', text: ['9']}]),
    ]}));
    const spec: AssignmentSpec = {id: 'chx', chapter: 9, title: 'X', notebooks: ['chapters/01-x.ipynb'], exercises: [
      {name: 'a', title: 'A', file: 'lib/a.ts', tests: [{file: 'visible/a.test.ts', name: 'a > doubles', points: 1}]},
    ]};
    w('assignments/chx/assignment.json', JSON.stringify(spec));
    w('assignments/chx/visible/a.test.ts', "import {a} from '../../../lib/a';\n");
    const a = loadAssignment('chx', root);
    const out = path.join(root, 'release');
    const rel = writeRelease(a, out);
    expect(rel.files).toEqual(expect.arrayContaining(['chapters/01-x.ipynb', 'lib/show.ts', 'lib/a.ts']));
    const nb = JSON.parse(fs.readFileSync(path.join(out, 'chapters/01-x.ipynb'), 'utf8'));
    expect(nb.cells[2].source.join('')).toBe("function triple(x: number): number {\n  throw new Error('not implemented: triple');\n}\n");
    expect(nb.cells[2].outputs).toEqual([]);
    expect(nb.cells[2].execution_count).toBeNull();
    expect(scanRelease(a, out)).toEqual([]);
    fs.rmSync(root, {recursive: true, force: true});
  });
});
