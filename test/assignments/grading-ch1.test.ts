// Acceptance of the grader on the chapter 1 assignment: the released starter scores 0 of N, the
// reference N of N, the half-done sample exactly its share, and every malicious or broken sample
// its intended score (tampered tests, process.exit, a hard exit, an infinite loop, a throw at
// import, forged results, syntax errors), with all four outputs written.
import * as fs from 'fs';
import * as path from 'path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {loadSample} from '../../grader/samples';
import {loadAssignment} from '../../grader/spec';
import {availableTests, expectSample, Graded, gradeSamples, ROOT} from './helpers';

const FAST = ['half', 'tampered-tests', 'process-exit', 'hard-exit', 'import-throw', 'results-writer', 'syntax-error', 'syntax-error-one-file', 'reference-zip'];
const A = loadAssignment('ch1', ROOT);
let g: Graded;

beforeAll(async () => { g = await gradeSamples('ch1', FAST, ['infinite-loop']); }, 2_700_000);
afterAll(() => { if (g) fs.rmSync(g.tmp, {recursive: true, force: true}); });

describe('grading chapter 1', () => {
  it('exercises are available (lib file with its SOLUTION region), or reported as unavailable', () => {
    const r = g.results.get('reference')!;
    if (r.unavailable.length) console.warn(`ch1: unavailable exercises: ${r.unavailable.join(', ')}`);
    expect(r.exercises.length).toBeGreaterThan(0);
    expect(r.exercises.length + r.unavailable.length).toBe(3);
  });
  it('the reference solution scores N of N', () => {
    const r = g.results.get('reference')!;
    expect(r.maxScore).toBe(r.unavailable.length ? r.maxScore : 25);
    expect(r.tests.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.output}`)).toEqual([]);
    expect(r.score).toBe(r.maxScore);
  });
  it('the released starter scores 0 of N, every test failing with "not implemented: <exercise>"', () => {
    const r = g.results.get('starter')!;
    expect(r.score).toBe(0);
    for (const t of r.tests) expect(t.output).toContain(`not implemented: ${t.exercise}`);
  });
  for (const name of [...FAST, 'infinite-loop']) {
    it(`sample ${name}: ${loadSample(A, name).description}`, () => {
      expectSample(g, name);
    });
  }
  it('process.exit(0) fails the affected tests with the reason', () => {
    const r = g.results.get('process-exit')!;
    for (const t of r.tests.filter((x) => x.exercise === 'scaled-dot-scores')) expect(t.output).toMatch(/process\.exit unexpectedly called with "0"/);
    expect(r.flags.join('\n')).toMatch(/called process\.exit \(reported from inside the sandbox\): 5× in scaledDotScores/);
  });
  it('a submission cannot reach the results: its writes are blocked and flagged, the results.json files are what the grader wrote', () => {
    const r = g.results.get('results-writer')!;
    expect(r.rejectedLines).toBe(0);
    expect(r.flags.join('\n')).toMatch(/tried to write outside its sandbox \(blocked\) \(reported from inside the sandbox\): \d+× while loading lib\/attention\/softmax\.ts — writeFileSync \/course\/results\.json: EROFS/);
    const written = JSON.parse(fs.readFileSync(path.join(g.out, 'results-writer', 'results.json'), 'utf8'));
    expect(written.score).toBe(0);
    expect(written.tests).toHaveLength(availableTests(g) + 1); // + the teacher's review entry
  });
  it('a syntax error is reported with the TypeScript compiler message, file, line and column', () => {
    const r = g.results.get('syntax-error-one-file')!;
    expect(Object.keys(r.syntaxErrors)).toEqual(['lib/attention/scores.ts']);
    expect(r.syntaxErrors['lib/attention/scores.ts']![0]).toMatch(/^lib\/attention\/scores\.ts\(\d+,\d+\): error TS1005: '\)' expected\.$/);
    const fb = fs.readFileSync(path.join(g.out, 'syntax-error-one-file', 'feedback.md'), 'utf8');
    expect(fb).toContain('## `lib/attention/scores.ts` does not compile');
  });
  it('writes results.json, junit.xml and feedback.md per student, and one gradebook row each', () => {
    const names = [...g.results.keys()].filter((n) => n !== 'infinite-loop');
    for (const n of names) for (const f of ['results.json', 'junit.xml', 'feedback.md']) expect(fs.existsSync(path.join(g.out, n, f)), `${n}/${f}`).toBe(true);
    const rows = fs.readFileSync(path.join(g.out, 'gradebook.csv'), 'utf8').trim().split('\n');
    const ex = g.results.get('reference')!.exercises.map((e) => e.name).join(',');
    expect(rows[0]).toBe(`student,score,max_score,${ex},missing_files,flags,sandbox,source`);
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(names.map((n) => `${n},${g.results.get(n)!.score},${g.results.get(n)!.maxScore}`));
    const half = JSON.parse(fs.readFileSync(path.join(g.out, 'half', 'results.json'), 'utf8'));
    expect(Object.keys(half).sort()).toEqual(['execution_time', 'max_score', 'output', 'score', 'stdout_visibility', 'tests', 'visibility']);
    if (!g.results.get('half')!.unavailable.includes('scaled-dot-scores')) {
      expect(half.tests[0]).toMatchObject({name: 'scaled-dot-scores: scaledDotScores > divides q·k by √D on a hand-computed example', score: 2, max_score: 2, status: 'passed', visibility: 'visible'});
    }
    const junit = fs.readFileSync(path.join(g.out, 'half', 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(availableTests(g));
    expect(junit.match(/<failure /g) ?? []).toHaveLength(availableTests(g) - half.tests.filter((t: {status: string; max_score: number}) => t.status === 'passed' && t.max_score > 0).length);
  });
});
