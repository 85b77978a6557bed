// The student starter: exercise regions stubbed, visible tests only, no hidden tests or solution
// text anywhere (scanned), a README, `npm test` with points so far, GitHub Classroom autograding.
import {execFileSync, spawnSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {findRegions} from '../../grader/regions';
import {namePattern, scanRelease, solutionLines, writeRelease} from '../../grader/release';
import {listAssignments, loadAssignment, maxScore, regionOf, visibilityOf} from '../../grader/spec';
import {ROOT} from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-release-'));
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

describe('releases', () => {
  const ids = listAssignments(ROOT);
  it('there is one assignment per chapter, each with at least three exercises', () => {
    expect(ids).toEqual(['ch1', 'ch2', 'ch3', 'ch4']);
    for (const id of ids) expect(loadAssignment(id, ROOT).spec.exercises.length).toBeGreaterThanOrEqual(3);
  });
  for (const id of ['ch1', 'ch2', 'ch3', 'ch4']) {
    describe(id, () => {
      const a = loadAssignment(id, ROOT);
      const dir = path.join(tmp, id);
      let written: ReturnType<typeof writeRelease>;
      beforeAll(() => { written = writeRelease(a, dir); });
      it('the scan finds no hidden test, hidden test name, SOLUTION marker or solution text', () => {
        expect(scanRelease(a, dir)).toEqual([]);
        expect(solutionLines(a).size).toBeGreaterThan(0);
      });
      it('every available exercise region is a stub that throws "not implemented: <exercise>"', () => {
        for (const e of a.spec.exercises) {
          if (written.unavailable.includes(e.name)) continue;
          const text = fs.readFileSync(path.join(dir, e.file), 'utf8');
          expect(text).toContain(`throw new Error('not implemented: ${e.name}');`);
          expect(findRegions(text)).toEqual([]);
        }
      });
      it('ships the visible tests only, with points.json listing only visible tests', () => {
        const tests = fs.readdirSync(path.join(dir, 'test'), {recursive: true}).map(String).filter((f) => f.endsWith('.test.ts')).sort();
        const visible = [...new Set(a.spec.exercises.filter((e) => !written.unavailable.includes(e.name)).flatMap((e) => e.tests).filter((t) => visibilityOf(t) === 'visible').map((t) => t.file))].sort();
        expect(tests).toEqual(visible);
        const pts = JSON.parse(fs.readFileSync(path.join(dir, 'points.json'), 'utf8'));
        const ex = a.spec.exercises.filter((e) => !written.unavailable.includes(e.name));
        expect(pts.exercises.flatMap((e: {tests: {points: number}[]}) => e.tests).reduce((s: number, t: {points: number}) => s + t.points, 0)).toBe(maxScore({...a.spec, exercises: ex}, 'visible'));
      });
      it('has a GitHub Classroom workflow with one graded step per visible test', () => {
        const auto = JSON.parse(fs.readFileSync(path.join(dir, '.github/classroom/autograding.json'), 'utf8'));
        const ex = a.spec.exercises.filter((e) => !written.unavailable.includes(e.name));
        const visible = ex.flatMap((e) => e.tests.filter((t) => visibilityOf(t) === 'visible'));
        expect(auto.tests).toHaveLength(visible.length);
        expect(auto.tests.reduce((s: number, t: {points: number}) => s + t.points, 0)).toBe(maxScore({...a.spec, exercises: ex}, 'visible'));
        const yml = fs.readFileSync(path.join(dir, '.github/workflows/classroom.yml'), 'utf8');
        expect(yml.match(/uses: classroom-resources\/autograding-command-grader@v1/g)).toHaveLength(visible.length);
        expect(yml).toContain(`runners: ${visible.map((_, i) => `test-${i + 1}`).join(',')}`);
        expect(yml).toContain('TEST-1_RESULTS: "${{steps.test-1.outputs.result}}"'); // the reporter reads <RUNNER-ID>_RESULTS
        expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('npm test');
      });
    });
  }
  it('the scan catches a planted leak: solution text, a marker and a hidden test file', () => {
    const a = loadAssignment('ch1', ROOT);
    const dir = path.join(tmp, 'leaky');
    writeRelease(a, dir);
    const e = a.spec.exercises.find((x) => x.name === 'masked-softmax')!;
    const region = findRegions(fs.readFileSync(path.join(ROOT, e.file), 'utf8')).find((r) => r.id === regionOf(e))!;
    const line = region.body.split('\n').map((l) => l.trim()).find((l) => solutionLines(a).has(l))!;
    fs.appendFileSync(path.join(dir, 'README.md'), `\n${line}\n// BEGIN SOLUTION x\n`);
    fs.mkdirSync(path.join(dir, 'test', 'hidden'));
    fs.writeFileSync(path.join(dir, 'test', 'hidden', 'x.test.ts'), '');
    const what = scanRelease(a, dir).map((l) => l.what.split(':')[0]).sort();
    expect(what).toEqual(['a SOLUTION marker', 'a hidden test file', 'solution text']);
  });
  it('the chapter 1 starter type-checks, and its `npm test` fails every test and prints 0 of N points', () => {
    const dir = path.join(tmp, 'ch1');
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {stdio: 'pipe'});
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run'], {cwd: dir, encoding: 'utf8', env: {...process.env, VITEST: undefined, VITEST_MODE: undefined, FORCE_COLOR: '0', NO_COLOR: '1'}});
    expect(r.status).toBe(1);
    const pts = JSON.parse(fs.readFileSync(path.join(dir, 'points.json'), 'utf8')) as {hiddenPoints: number; exercises: {name: string; tests: {points: number}[]}[]};
    for (const e of pts.exercises) expect(r.stdout).toMatch(new RegExp(`${e.name}\\s+.*\\s0 / ${e.tests.reduce((s, t) => s + t.points, 0)}\\n`));
    expect(r.stdout).toMatch(new RegExp(`total\\s+0 / ${pts.exercises.flatMap((e) => e.tests).reduce((s, t) => s + t.points, 0)}\\n`));
    expect(r.stdout).toContain(`hidden tests worth ${pts.hiddenPoints} more points`);
  }, 300_000);
  it('the Classroom workflow restores the tests and configs first: a student config with passWithNoTests, rewritten helpers and tests change nothing (reference N of N, starter 0 of N)', () => {
    const a = loadAssignment('ch1', ROOT);
    const base = path.join(tmp, 'classroom');
    const yml = fs.readFileSync(path.join(tmp, 'ch1', '.github/workflows/classroom.yml'), 'utf8');
    const lines = yml.split('\n');
    const from = lines.findIndex((l) => l.trim() === "node <<'RESTORE'"), to = lines.findIndex((l) => l.trim() === 'RESTORE');
    expect(from).toBeGreaterThan(0);
    expect(lines.findIndex((l) => l.includes('name: Install dependencies'))).toBeGreaterThan(to); // restored before npm install
    const restore = lines.slice(from + 1, to).map((l) => l.replace(/^ {8}/, '')).join('\n');
    const steps: {cmd: string; points: number}[] = [];
    lines.forEach((l, i) => { if (/^\s+command: /.test(l)) steps.push({cmd: JSON.parse(l.replace(/^\s+command: /, '')), points: Number(lines[i + 2]!.replace(/^\s+max-score: /, ''))}); });
    expect(steps.length).toBeGreaterThan(0);
    const visibleMax = steps.reduce((x, st) => x + st.points, 0);
    const score = (label: 'reference' | 'starter') => {
      const dir = path.join(base, label);
      writeRelease(a, dir);
      if (label === 'reference') for (const e of a.spec.exercises) fs.copyFileSync(path.join(ROOT, e.file), path.join(dir, e.file));
      // what a student can push: a config that runs nothing, helpers and tests that always pass
      fs.writeFileSync(path.join(dir, 'vitest.config.ts'), "export default {test: {include: [], passWithNoTests: true}};\n");
      fs.writeFileSync(path.join(dir, 'vitest.config.mts'), "export default {test: {include: [], passWithNoTests: true}};\n");
      fs.writeFileSync(path.join(dir, 'test', 'helpers.ts'), 'export const expectAllClose = async () => {};\nexport const expectNoLeak = () => {};\nexport const setupBackend = async () => {};\n');
      for (const f of fs.readdirSync(path.join(dir, 'test', 'visible'))) fs.writeFileSync(path.join(dir, 'test', 'visible', f), "import {it} from 'vitest';\nit('passes', () => {});\n");
      execFileSync(process.execPath, ['-'], {cwd: dir, input: restore, stdio: ['pipe', 'pipe', 'pipe']});
      expect(fs.existsSync(path.join(dir, 'vitest.config.mts'))).toBe(false);
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir'); // npm install
      let got = 0;
      for (const st of steps) {
        const r = spawnSync('bash', ['-c', st.cmd.replace(/^npx vitest/, `"${process.execPath}" "${path.join(ROOT, 'node_modules/vitest/vitest.mjs')}"`)], {cwd: dir, encoding: 'utf8', env: {...process.env, VITEST: undefined, VITEST_MODE: undefined, FORCE_COLOR: '0', NO_COLOR: '1'}});
        if (r.status === 0) got += st.points;
      }
      return got;
    };
    expect(score('starter')).toBe(0);
    expect(score('reference')).toBe(visibleMax);
    expect(visibleMax).toBe(maxScore(a.spec, 'visible'));
  }, 900_000);
  it('a Classroom step selects exactly one test by name', () => {
    const re = new RegExp(namePattern('maskedSoftmax > matches the hand-computed softmax of [2, 1, 0.1]'));
    expect(re.test('maskedSoftmax matches the hand-computed softmax of [2, 1, 0.1]')).toBe(true);
    expect(re.test('maskedSoftmax gives masked keys zero weight and renormalises the rest')).toBe(false);
  });
});
