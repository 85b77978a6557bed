// Shared set-up of the assignment acceptance tests: grade samples of an assignment once per file.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {gradeAll} from '../../scripts/grade';
import type {GradeResult} from '../../grader/grader';
import {writeRelease} from '../../grader/release';
import {buildSample, expectedScore, listSamples, loadSample} from '../../grader/samples';
import {courseRoot, LoadedAssignment, loadAssignment} from '../../grader/spec';
import {expect} from 'vitest';

export const ROOT = courseRoot(path.join(__dirname, '..', '..'));

export interface Graded {
  a: LoadedAssignment;
  tmp: string;
  out: string;
  results: Map<string, GradeResult>;
}

/**
 * Grade the reference (the course's own lib files), the released starter and the named samples.
 * `slow` samples (timeouts) are graded separately with short limits so the suite stays quick.
 */
export async function gradeSamples(id: string, samples: string[], slow: string[] = []): Promise<Graded> {
  const a = loadAssignment(id, ROOT);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `asg-${id}-`));
  const ref = path.join(tmp, 'subs', 'reference');
  for (const e of a.spec.exercises) {
    const src = path.join(ROOT, e.file);
    if (!fs.existsSync(src)) continue;
    fs.mkdirSync(path.dirname(path.join(ref, e.file)), {recursive: true});
    fs.copyFileSync(src, path.join(ref, e.file));
  }
  const starter = path.join(tmp, 'subs', 'starter');
  writeRelease(a, starter);
  const built = (names: string[]) => names.map((n) => buildSample(a, n, path.join(tmp, 'subs', n)));
  const out = path.join(tmp, 'out');
  const results = new Map<string, GradeResult>();
  const r1 = await gradeAll({assignment: id, submissions: [ref, starter, ...built(samples)], out, quiet: true});
  expect(r1.errors).toEqual([]);
  for (const r of r1.results) results.set(r.student, r);
  if (slow.length) {
    const r2 = await gradeAll({assignment: id, submissions: built(slow), out: path.join(tmp, 'out-slow'), quiet: true, testTimeoutMs: 3000, graceMs: 1000});
    expect(r2.errors).toEqual([]);
    for (const r of r2.results) results.set(r.student, r);
  }
  return {a, tmp, out, results};
}

/** The sample got exactly the score and the passing tests its sample.json promises. */
export function expectSample(g: Graded, name: string): GradeResult {
  const r = g.results.get(name)!;
  expect(r, `no result for ${name}`).toBeDefined();
  const s = loadSample(g.a, name);
  const {score, passing} = expectedScore(g.a.spec, s, r.unavailable);
  const got = r.tests.filter((t) => t.status === 'passed').map((t) => `${t.exercise} > ${t.name}`).sort();
  const why = r.tests.filter((t) => t.status === 'failed').slice(0, 3).map((t) => `${t.name}: ${t.output.slice(0, 400)}`).join('\n');
  expect(got, `${name}: passing tests (failures: ${why}; flags: ${r.flags.join(' | ')})`).toEqual([...passing].sort());
  expect(r.score).toBe(score);
  for (const [ex, kind] of Object.entries(s.expectKinds ?? {})) {
    if (r.unavailable.includes(ex)) continue;
    const failed = r.tests.filter((t) => t.exercise === ex && t.status === 'failed');
    expect(failed.length, `${name}: failing tests of ${ex}`).toBeGreaterThan(0);
    for (const t of failed) expect(t.kind, `${name}: ${t.name}: ${t.output}`).toBe(kind);
  }
  for (const re of s.expectFlags ?? []) expect(r.flags, `${name}: flags`).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(re))]));
  for (const re of s.expectNotes ?? []) expect(r.notes, `${name}: notes`).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(re))]));
  for (const [ex, text] of Object.entries(s.expectOutputAny ?? {})) {
    if (r.unavailable.includes(ex)) continue;
    expect(r.tests.filter((x) => x.exercise === ex && x.status === 'failed').map((t) => t.output).join('\n---\n')).toContain(text);
  }
  for (const [ex, text] of Object.entries(s.expectOutput ?? {})) {
    if (r.unavailable.includes(ex)) continue;
    for (const t of r.tests.filter((x) => x.exercise === ex && x.status === 'failed')) expect(t.output).toContain(text);
  }
  return r;
}

export function allSamples(id: string): string[] {
  return listSamples(loadAssignment(id, ROOT));
}

/** Number of spec tests of the exercises that are available (lib file with its region). */
export function availableTests(g: Graded): number {
  const un = g.results.get('reference')!.unavailable;
  return g.a.spec.exercises.filter((e) => !un.includes(e.name)).reduce((n, e) => n + e.tests.length, 0);
}
