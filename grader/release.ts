/**
 * The release transform: from the teacher's course (reference lib/ with SOLUTION regions and the
 * assignment's tests) to (a) the student starter and (b) the pristine grading copy. Both contain
 * only the files the exercises and tests import; exercise regions become stubs that throw
 * `not implemented: <exercise>`. The starter gets the visible tests only; the pristine copy gets the
 * hidden tests too but, like the starter, no reference solution.
 */
import {createHash} from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {importClosure, repointImports} from './imports';
import {findRegions, MARKER, notebookCode, stubNotebook, stubRegions} from './regions';
import {AssignmentSpec, ExerciseSpec, listAssignments, LoadedAssignment, loadAssignment, maxScore, regionOf, visibilityOf} from './spec';

export interface RegionOwner {assignment: string; chapter: number; exercise: ExerciseSpec}

/** `file#region` -> the assignment and exercise that own it, over every assignment of the course. */
export function regionOwners(root: string): Map<string, RegionOwner> {
  const m = new Map<string, RegionOwner>();
  for (const id of listAssignments(root)) {
    const {spec} = loadAssignment(id, root);
    for (const e of spec.exercises) m.set(`${e.file}#${regionOf(e)}`, {assignment: spec.id, chapter: spec.chapter, exercise: e});
  }
  return m;
}

/** Where a spec test file goes in a course copy: visible/x.test.ts -> test/visible/x.test.ts. */
export function copyPathOfTest(file: string): string {
  return `test/${file}`;
}

export interface CourseFiles {
  files: Map<string, string>;
  /** lib files whose regions were stubbed, with the exercises stubbed in each */
  stubbed: Map<string, string[]>;
  /** exercises whose lib file does not exist yet (reported as unavailable, not graded) */
  unavailable: string[];
}

export function exerciseAvailable(asg: LoadedAssignment, e: ExerciseSpec): boolean {
  const f = path.join(asg.root, e.file);
  if (!fs.existsSync(f)) return false;
  try {
    return findRegions(fs.readFileSync(f, 'utf8'), e.file).some((r) => r.id === regionOf(e));
  } catch {
    return false;
  }
}

/** The course files of a release (`hidden`: also the hidden tests, for the pristine grading copy). */
export function courseFiles(asg: LoadedAssignment, opts: {hidden: boolean}): CourseFiles {
  const {spec, root, dir} = asg;
  const owners = regionOwners(root);
  const unavailable = spec.exercises.filter((e) => !exerciseAvailable(asg, e)).map((e) => e.name);
  const exercises = spec.exercises.filter((e) => !unavailable.includes(e.name));
  const tests = [...new Set(exercises.flatMap((e) => e.tests).filter((t) => opts.hidden || visibilityOf(t) === 'visible').map((t) => t.file))];
  const testAbs = tests.map((t) => path.join(dir, t));
  for (const t of testAbs) if (!fs.existsSync(t)) throw new Error(`${path.relative(root, t)}: test file named in ${spec.id}/assignment.json does not exist`);
  const notebooks = (spec.notebooks ?? []).filter((n) => fs.existsSync(path.join(root, n)));
  const closure = importClosure(root, [...exercises.map((e) => e.file), ...testAbs.map((t) => path.relative(root, t)), ...(opts.hidden ? [] : notebooks)]);
  const files = new Map<string, string>();
  const stubbed = new Map<string, string[]>();
  const asgDirRel = path.relative(root, dir).split(path.sep).join('/');
  for (const rel of closure) {
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    if (rel.startsWith(`${asgDirRel}/`)) {
      const specRel = rel.slice(asgDirRel.length + 1);
      const to = copyPathOfTest(specRel);
      files.set(to, repointImports(text, rel, to));
      continue;
    }
    if (rel.startsWith('assignments/')) throw new Error(`${rel}: tests of ${spec.id} may not import files of another assignment`);
    const names: string[] = [];
    const out = (rel.endsWith('.ipynb') ? stubNotebook : stubRegions)(text, {
      action: (id) => {
        const o = owners.get(`${rel}#${id}`);
        // earlier chapters' exercises are given code; this and later chapters' are stubbed
        if (o && o.assignment !== spec.id && o.chapter < spec.chapter) return 'keep';
        return 'stub';
      },
      exercise: (id) => {
        const o = owners.get(`${rel}#${id}`);
        const e = o?.exercise;
        names.push(e?.name ?? id);
        return {name: e?.name ?? id, hint: e?.hint};
      },
    }, rel);
    if (names.length) stubbed.set(rel, names);
    files.set(rel, out);
  }
  return {files, stubbed, unavailable};
}

/** npm packages (bare specifiers) the course files import. */
function packagesUsed(files: Map<string, string>): string[] {
  const pk = new Set<string>();
  for (const [f, text] of files) {
    if (!/\.(ts|cjs|mjs|js)$/.test(f)) continue;
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)(['"])([^'".][^'"]*)\1/g)) {
      const s = m[2]!;
      if (s.startsWith('node:')) continue;
      pk.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
    }
  }
  return [...pk].sort();
}

function coursePackageJson(root: string, spec: AssignmentSpec, files: Map<string, string>, extra: string[], scripts: Record<string, string>) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {dependencies?: Record<string, string>; devDependencies?: Record<string, string>; engines?: Record<string, string>};
  const all = {...pkg.dependencies, ...pkg.devDependencies};
  const deps: Record<string, string> = {};
  const builtins = new Set(require('module').builtinModules as string[]);
  for (const name of [...packagesUsed(files), ...extra]) {
    if (builtins.has(name)) continue;
    if (!all[name]) continue; // optional imports (lib/backend.ts probes @tensorflow/tfjs-node)
    deps[name] = all[name]!;
  }
  if (deps['@tensorflow/tfjs'] && all['@tensorflow/tfjs-backend-wasm']) deps['@tensorflow/tfjs-backend-wasm'] = all['@tensorflow/tfjs-backend-wasm']!;
  const sorted = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
  return {name: `attention-course-${spec.id}`, version: '1.0.0', private: true, description: spec.title, engines: pkg.engines ?? {node: '>=20'}, scripts, dependencies: sorted};
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true,
    resolveJsonModule: true, skipLibCheck: true, strict: true, noEmit: true, types: ['node'],
  },
  include: ['lib/**/*.ts', 'lib/**/*.d.cts', 'test/**/*.ts'],
};

/** Points of the visible tests, as the starter's `npm test` reporter reads them. */
function pointsFile(spec: AssignmentSpec, unavailable: string[]) {
  return {
    assignment: spec.id,
    title: spec.title,
    hiddenPoints: maxScore({...spec, exercises: spec.exercises.filter((e) => !unavailable.includes(e.name))}, 'hidden'),
    exercises: spec.exercises.filter((e) => !unavailable.includes(e.name)).map((e) => ({
      name: e.name, title: e.title, file: e.file,
      tests: e.tests.filter((t) => visibilityOf(t) === 'visible').map((t) => ({file: copyPathOfTest(t.file), name: t.name, points: t.points})),
    })),
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A vitest -t pattern that selects exactly one test by its full name. */
export function namePattern(name: string): string {
  return `(^| )${name.split(' > ').join(' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/** Files of the starter that decide a Classroom score: restored from the workflow before every run. */
export function protectedFiles(files: Map<string, string>): Map<string, string> {
  return new Map([...files].filter(([f]) => f.startsWith('test/') || ['vitest.config.ts', 'package.json', 'tsconfig.json', 'scripts/points-reporter.mjs'].includes(f)).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The workflow step that puts the teacher's tests, test helpers, vitest config and package.json
 * back before anything runs: the copies are embedded (base64) with their SHA-256, every file is
 * written and checked against its hash, and other test, vite and vitest config files are removed.
 */
export function restoreScript(protect: Map<string, string>): string {
  const files = [...protect].map(([f, t]) => ({f, b: Buffer.from(t, 'utf8').toString('base64'), h: createHash('sha256').update(t, 'utf8').digest('hex')}));
  return [
    `const fs = require('fs'), path = require('path'), crypto = require('crypto');`,
    `const files = ${JSON.stringify(files)};`,
    `const keep = new Set(files.map((x) => x.f));`,
    `const walk = (d) => fs.existsSync(d) ? fs.readdirSync(d, {withFileTypes: true}).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]) : [];`,
    `for (const f of walk('test')) if (!keep.has(f.split(path.sep).join('/'))) fs.rmSync(f, {force: true});`,
    `for (const f of fs.readdirSync('.')) if (/^(vite|vitest)\\.(config|workspace|projects)\\.[cm]?[jt]s$/.test(f) && !keep.has(f)) fs.rmSync(f, {force: true});`,
    `for (const x of files) {`,
    `  const text = Buffer.from(x.b, 'base64');`,
    `  if (crypto.createHash('sha256').update(text).digest('hex') !== x.h) throw new Error('the embedded copy of ' + x.f + ' does not match its hash: this workflow was edited');`,
    `  fs.rmSync(x.f, {recursive: true, force: true});`,
    `  fs.mkdirSync(path.dirname(x.f), {recursive: true});`,
    `  fs.writeFileSync(x.f, text);`,
    `  if (crypto.createHash('sha256').update(fs.readFileSync(x.f)).digest('hex') !== x.h) throw new Error(x.f + ' could not be restored');`,
    `}`,
    `console.log('restored ' + files.length + ' test, config and package files from the teacher\\'s copies');`,
  ].join('\n');
}

function classroomFiles(spec: AssignmentSpec, testTimeoutMs: number, unavailable: string[], protect: Map<string, string>): Map<string, string> {
  const tests = spec.exercises.filter((e) => !unavailable.includes(e.name)).flatMap((e) => e.tests.filter((t) => visibilityOf(t) === 'visible').map((t) => ({e, t})));
  const minutes = Math.max(1, Math.ceil((testTimeoutMs * 3 + 60_000) / 60_000));
  const cmd = (t: {file: string; name: string}) => `npx vitest run --config vitest.config.ts ${copyPathOfTest(t.file)} -t ${shellQuote(namePattern(t.name))}`;
  const title = (e: ExerciseSpec, t: {name: string}) => `${e.name}: ${t.name}`;
  const autograding = {
    tests: tests.map(({e, t}) => ({name: title(e, t), setup: 'npm install --no-audit --no-fund', run: cmd(t), input: '', output: '', comparison: 'included', timeout: minutes, points: t.points})),
  };
  const ids = tests.map((_, i) => `test-${i + 1}`);
  const y = (s: string) => JSON.stringify(s);
  const steps = tests.map(({e, t}, i) => [
    `    - name: ${y(title(e, t))}`,
    `      id: ${ids[i]}`,
    `      uses: classroom-resources/autograding-command-grader@v1`,
    `      with:`,
    `        test-name: ${y(title(e, t))}`,
    `        setup-command: ''`,
    `        command: ${y(cmd(t))}`,
    `        timeout: ${minutes}`,
    `        max-score: ${t.points}`,
  ].join('\n'));
  const workflow = [
    `# GitHub Classroom autograding for ${spec.id} (visible tests only; hidden tests run at grading).`,
    `name: Autograding Tests`,
    `'on':`,
    `- push`,
    `- repository_dispatch`,
    `permissions:`,
    `  checks: write`,
    `  actions: read`,
    `  contents: read`,
    `jobs:`,
    `  run-autograding-tests:`,
    `    runs-on: ubuntu-latest`,
    `    if: github.actor != 'github-classroom[bot]'`,
    `    steps:`,
    `    - name: Checkout code`,
    `      uses: actions/checkout@v4`,
    `    - name: Set up Node.js`,
    `      uses: actions/setup-node@v4`,
    `      with:`,
    `        node-version: '20'`,
    `    # Advisory: the student controls this repository, this workflow included. Set Classroom's`,
    `    # protected paths (test/, .github/, vitest.config.ts, package.json); the official score comes`,
    `    # from the teacher's grader (npm run grade, or the Gradescope bundle).`,
    `    - name: Restore the teacher's tests and configs`,
    `      run: |`,
    `        node <<'RESTORE'`,
    ...restoreScript(protect).split('\n').map((l) => `        ${l}`),
    `        RESTORE`,
    `    - name: Install dependencies`,
    `      run: npm install --no-audit --no-fund`,
    ...steps,
    `    - name: Autograding Reporter`,
    `      uses: classroom-resources/autograding-grading-reporter@v1`,
    `      env:`,
    ...ids.map((id) => `        ${id.toUpperCase()}_RESULTS: "\${{steps.${id}.outputs.result}}"`),
    `      with:`,
    `        runners: ${ids.join(',')}`,
    '',
  ].join('\n');
  return new Map([
    ['.github/classroom/autograding.json', `${JSON.stringify(autograding, null, 2)}\n`],
    ['.github/workflows/classroom.yml', workflow],
  ]);
}

function studentReadme(spec: AssignmentSpec, testTimeoutMs: number, unavailable: string[]): string {
  const ex = spec.exercises.filter((e) => !unavailable.includes(e.name));
  const vis = maxScore({...spec, exercises: ex}, 'visible'), hid = maxScore({...spec, exercises: ex}, 'hidden');
  return [
    `# ${spec.title}`,
    '',
    spec.description ?? '',
    '',
    '## Your exercises',
    '',
    '| exercise | file | what to write | points (visible + hidden) |',
    '| --- | --- | --- | --- |',
    ...ex.map((e) => {
      const v = e.tests.filter((t) => visibilityOf(t) === 'visible').reduce((s, t) => s + t.points, 0);
      const h = e.tests.filter((t) => visibilityOf(t) === 'hidden').reduce((s, t) => s + t.points, 0);
      return `| \`${e.name}\` — ${e.title} | \`${e.file}\` | ${e.hint ?? ''} | ${v} + ${h} |`;
    }),
    '',
    `Each exercise is a function whose body throws \`not implemented: <exercise>\`. Replace that line`,
    `(and only the code of the exercise) with your implementation. Keep the function names and`,
    `signatures: the tests call them.`,
    '',
    ...((spec.notebooks ?? []).length ? ['## Notebook', '', `${(spec.notebooks ?? []).map((n) => `\`${n}\``).join(', ')}: the chapter with its exercise cells to fill in (open it with the course's TypeScript kernel).`, ''] : []),
    '## Run the tests',
    '',
    '```sh',
    'npm install',
    'npm test          # runs the visible tests and prints your points so far',
    'npx vitest run test/visible/<file>.test.ts   # one file',
    'npm run typecheck # optional: TypeScript type check',
    '```',
    '',
    `\`npm test\` ends with a table of points per exercise. The visible tests are worth ${vis} points;`,
    `hidden tests worth ${hid} more points check the same functions on other inputs when your`,
    `submission is graded. A test that runs longer than ${testTimeoutMs / 1000} s fails.`,
    '',
    '## How your submission is graded',
    '',
    '- Only the exercise files listed above are collected. Changes to tests, configs or other files',
    '  are ignored: grading uses fresh copies of the tests, including the hidden ones.',
    '- Every test is worth its own points; an exercise that fails or crashes costs only its points.',
    '- A test that hangs (for example an infinite loop) fails by timeout; the other tests still run.',
    '- A syntax error in a file fails the tests of the exercises in that file, with the compiler',
    '  message in your feedback.',
    '',
    '## Submitting',
    '',
    'Push to your GitHub Classroom repository (the autograding workflow runs the visible tests), or',
    'upload the exercise files (or a zip of this folder) where your teacher asks.',
    '',
  ].join('\n');
}

function starterVitestConfig(testTimeoutMs: number): string {
  return [
    `import {defineConfig} from 'vitest/config';`,
    '',
    'export default defineConfig({',
    '  test: {',
    `    include: ['test/**/*.test.ts'],`,
    `    pool: 'forks',`,
    `    testTimeout: ${testTimeoutMs},`,
    `    env: {COURSE_BACKEND: process.env.COURSE_BACKEND ?? 'cpu'},`,
    `    reporters: ['default', './scripts/points-reporter.mjs'],`,
    '  },',
    '});',
    '',
  ].join('\n');
}

export interface WrittenCourse {dir: string; files: string[]; unavailable: string[]; stubbed: Map<string, string[]>}

function writeAll(dir: string, files: Map<string, string>): void {
  for (const [rel, text] of files) {
    const to = path.join(dir, rel);
    fs.mkdirSync(path.dirname(to), {recursive: true});
    fs.writeFileSync(to, text);
  }
}

function prepareOut(dir: string): void {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    if (!fs.existsSync(path.join(dir, '.course-release'))) throw new Error(`${dir} exists and is not an earlier release; choose an empty or new folder`);
    fs.rmSync(dir, {recursive: true, force: true});
  }
  fs.mkdirSync(dir, {recursive: true});
}

/** The student starter for `npm run assignment -- release <id>`. */
export function writeRelease(asg: LoadedAssignment, outDir: string): WrittenCourse {
  const {spec, root} = asg;
  const tmo = spec.testTimeoutMs ?? 10_000;
  const c = courseFiles(asg, {hidden: false});
  const files = new Map(c.files);
  files.set('package.json', `${JSON.stringify(coursePackageJson(root, spec, c.files, ['vitest', 'typescript', '@types/node'], {
    test: 'vitest run', typecheck: 'tsc -p .',
  }), null, 2)}\n`);
  files.set('tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  files.set('vitest.config.ts', starterVitestConfig(tmo));
  files.set('scripts/points-reporter.mjs', fs.readFileSync(path.join(__dirname, 'points-reporter.mjs'), 'utf8'));
  files.set('points.json', `${JSON.stringify(pointsFile(spec, c.unavailable), null, 2)}\n`);
  files.set('README.md', studentReadme(spec, tmo, c.unavailable));
  files.set('.gitignore', 'node_modules/\n');
  files.set('.course-release', `${spec.id}\n`);
  for (const [k, v] of classroomFiles(spec, tmo, c.unavailable, protectedFiles(files))) files.set(k, v);
  prepareOut(outDir);
  writeAll(outDir, files);
  return {dir: outDir, files: [...files.keys()].sort(), unavailable: c.unavailable, stubbed: c.stubbed};
}

/** The grading copy: starter course files + hidden tests + the spec, without any solution. */
export function writePristine(asg: LoadedAssignment, outDir: string): WrittenCourse {
  const {spec, root} = asg;
  const c = courseFiles(asg, {hidden: true});
  const files = new Map(c.files);
  files.set('package.json', `${JSON.stringify(coursePackageJson(root, spec, c.files, ['vitest'], {}), null, 2)}\n`);
  files.set('tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  files.set('assignment.json', `${JSON.stringify(spec, null, 2)}\n`);
  files.set('unavailable.json', `${JSON.stringify(c.unavailable)}\n`);
  files.set('.course-release', `${spec.id} (pristine)\n`);
  prepareOut(outDir);
  writeAll(outDir, files);
  return {dir: outDir, files: [...files.keys()].sort(), unavailable: c.unavailable, stubbed: c.stubbed};
}

export interface LeakReport {file: string; line: number; what: string}

/** Distinctive lines (≥ 20 characters of code) of an assignment's solution regions. */
export function solutionLines(asg: LoadedAssignment): Set<string> {
  const out = new Set<string>();
  for (const e of asg.spec.exercises) {
    const f = path.join(asg.root, e.file);
    if (!fs.existsSync(f)) continue;
    const text = fs.readFileSync(f, 'utf8');
    const lines = new Set<string>();
    for (const r of findRegions(text, e.file)) {
      if (r.id !== regionOf(e)) continue;
      for (const l of r.body.split('\n')) {
        const t = l.trim();
        if (t.length >= 20 && !t.startsWith('//') && !t.startsWith('*')) lines.add(t);
      }
    }
    // a line that also occurs outside the regions of the file is given code, not solution text
    const given = stubRegions(text, {action: () => 'stub', exercise: (id) => ({name: id})}, e.file).split('\n').map((l) => l.trim());
    for (const l of given) lines.delete(l);
    for (const l of lines) out.add(l);
  }
  return out;
}

/**
 * Scan a written release for what must not be in it: SOLUTION markers, distinctive lines of the
 * assignment's solution regions and (unless `allowHidden`, for the grading copy) hidden test files
 * or the names of hidden tests.
 */
export function scanRelease(asg: LoadedAssignment, dir: string, opts: {allowHidden?: boolean} = {}): LeakReport[] {
  const {spec} = asg;
  const leaks: LeakReport[] = [];
  const solution = solutionLines(asg);
  const hiddenNames = opts.allowHidden ? [] : spec.exercises.flatMap((e) => e.tests.filter((t) => visibilityOf(t) === 'hidden').map((t) => t.name.split(' > ').pop()!))
    .filter((n) => n.length >= 12 && !spec.exercises.some((e) => e.tests.some((t) => visibilityOf(t) === 'visible' && t.name.includes(n))));
  const walk = (d: string): string[] => fs.readdirSync(d, {withFileTypes: true}).flatMap((x) => x.name === 'node_modules' ? [] : x.isDirectory() ? walk(path.join(d, x.name)) : [path.join(d, x.name)]);
  for (const abs of walk(dir)) {
    const rel = path.relative(dir, abs).split(path.sep).join('/');
    if (!opts.allowHidden && /(^|\/)hidden\//.test(rel)) leaks.push({file: rel, line: 0, what: 'a hidden test file'});
    if (/\.zip$/.test(rel)) continue;
    const raw = fs.readFileSync(abs, 'utf8');
    const text = rel.endsWith('.ipynb') ? notebookCode(raw) : raw;
    // the same line in the course's own copy of this file, outside this assignment's regions, is given code
    // (the Gradescope bundle keeps the course copy under pristine/)
    const orig = path.join(asg.root, rel.replace(/^pristine\//, ''));
    const given = fs.existsSync(orig) && /\.ts$/.test(rel) ? new Set(stubRegions(fs.readFileSync(orig, 'utf8'), {
      action: (id) => (spec.exercises.some((e) => e.file === rel && regionOf(e) === id) ? 'stub' : 'keep'), exercise: (id) => ({name: id}),
    }, rel).split('\n').map((l) => l.trim())) : new Set<string>();
    text.split('\n').forEach((l, i) => {
      if (MARKER.test(l) && !/^(scripts|grader)\//.test(rel)) leaks.push({file: rel, line: i + 1, what: `a SOLUTION marker: ${l.trim()}`});
      if (solution.has(l.trim()) && !given.has(l.trim())) leaks.push({file: rel, line: i + 1, what: `solution text: ${l.trim()}`});
      for (const n of hiddenNames) if (l.includes(n)) leaks.push({file: rel, line: i + 1, what: `the name of a hidden test: ${n}`});
    });
  }
  return leaks;
}
