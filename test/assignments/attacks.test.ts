// The grader's trust boundary, one mechanism per sample: submissions that try to talk their way into
// a score (test-runner state, patched built-ins, rewritten reporter and helpers, the signing key in
// another process's memory, a helper process that outlives grading, the teacher's reference
// solutions) get exactly their honest score, the teacher sees what the sandbox observed, and the
// next student in the same batch is graded normally. Also: honest mistakes get clear messages,
// UTF-16 and ambiguous zips, bounded output, nothing left in the temp folder, and the fallback
// without a sandbox says so in every output.
import {createHash} from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {gradeAll} from '../../scripts/grade';
import type {GradeResult} from '../../grader/grader';
import {writeRelease} from '../../grader/release';
import {sandboxInfo} from '../../grader/sandbox/sandbox';
import {buildSample, loadSample} from '../../grader/samples';
import {loadAssignment} from '../../grader/spec';
import {expectSample, Graded, ROOT} from './helpers';

const ATTACKS = ['reporter-rewrite', 'vitest-state', 'global-patch', 'proc-mem', 'sleeper', 'reference-thief', 'memory-hog'];
const MISTAKES = ['wrong-export', 'default-export', 'async-export', 'utf16', 'ambiguous-zip', 'huge-error'];
const A = loadAssignment('ch1', ROOT);

function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.(ts|mjs|json)$/.test(e.name)) h.update(p).update(fs.readFileSync(p)); // code, specs and tests
    }
  };
  walk(dir);
  return h.digest('hex');
}

function processesMatching(marker: string): string[] {
  const out: string[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try { if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) out.push(p); } catch { /* gone */ }
  }
  return out;
}

let g: Graded;
let tmpdir: string;
let oldTmp: string | undefined;
const before = {grader: '', tests: ''};
let afterGrading = '';

beforeAll(async () => {
  before.grader = hashTree(path.join(ROOT, 'grader'));
  before.tests = hashTree(path.join(ROOT, 'assignments', 'ch1'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-attacks-'));
  const subs = path.join(tmp, 'subs');
  const ref = path.join(subs, 'reference-after');
  for (const e of A.spec.exercises) {
    fs.mkdirSync(path.dirname(path.join(ref, e.file)), {recursive: true});
    fs.copyFileSync(path.join(ROOT, e.file), path.join(ref, e.file));
  }
  const built = [...ATTACKS, ...MISTAKES].map((n) => buildSample(A, n, path.join(subs, n)));
  // the grader's temp folders go to a folder of this test's own, to check that none is left
  tmpdir = path.join(tmp, 'system-tmp');
  fs.mkdirSync(tmpdir);
  oldTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmpdir;
  const out = path.join(tmp, 'out');
  const results = new Map<string, GradeResult>();
  try {
    // the reference right after the submission that rewrites everything it can reach
    const r = await gradeAll({assignment: 'ch1', submissions: [built[0]!, ref, ...built.slice(1)], out, quiet: true, testTimeoutMs: 5000, graceMs: 1000});
    expect(r.errors).toEqual([]);
    for (const x of r.results) results.set(x.student, x);
  } finally {
    if (oldTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = oldTmp;
  }
  afterGrading = fs.readFileSync(path.join(out, 'sleeper', 'results.json'), 'utf8');
  g = {a: A, tmp, out, results};
}, 2_700_000);
afterAll(() => { if (g) fs.rmSync(g.tmp, {recursive: true, force: true}); });

describe('the sandbox', () => {
  it('bubblewrap is available here (CI installs it; without it the grader runs unsandboxed and says so)', () => {
    expect(sandboxInfo(), JSON.stringify(sandboxInfo())).toMatchObject({kind: 'bwrap'});
    for (const r of g.results.values()) expect(r.sandbox).toBe('bubblewrap');
  });
  for (const name of [...ATTACKS, ...MISTAKES]) {
    it(`${name}: ${loadSample(A, name).description}`, () => {
      expectSample(g, name);
    });
  }
  it('the student graded right after the one that rewrote everything it could reach gets full marks', () => {
    const r = g.results.get('reference-after')!;
    expect(r.tests.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.output}`)).toEqual([]);
    expect(r.score).toBe(r.maxScore);
    expect(r.flags).toEqual([]);
  });
  it("the teacher's grader and tests are unchanged", () => {
    expect(hashTree(path.join(ROOT, 'grader'))).toBe(before.grader);
    expect(hashTree(path.join(ROOT, 'assignments', 'ch1'))).toBe(before.tests);
  });
  it('a helper process that sleeps past the end of grading is dead, and wrote nothing', async () => {
    await new Promise((r) => setTimeout(r, 6000)); // the helper sleeps 4 s
    expect(processesMatching('grader-sleeper-marker')).toEqual([]);
    expect(fs.existsSync('/tmp/grader-sleeper-proof')).toBe(false);
    expect(fs.readFileSync(path.join(g.out, 'sleeper', 'results.json'), 'utf8')).toBe(afterGrading);
    expect(JSON.parse(afterGrading).score).toBe(g.results.get('sleeper')!.score);
  });
  it('nothing is left in the temp folder', () => {
    expect(fs.readdirSync(tmpdir)).toEqual([]);
  });
  it('the teacher sees the flags in every output: gradebook.csv, review.md, the Gradescope entry and JUnit', () => {
    const csv = fs.readFileSync(path.join(g.out, 'gradebook.csv'), 'utf8');
    const review = fs.readFileSync(path.join(g.out, 'review.md'), 'utf8');
    const gs = JSON.parse(fs.readFileSync(path.join(g.out, 'proc-mem', 'results.json'), 'utf8'));
    const junit = fs.readFileSync(path.join(g.out, 'proc-mem', 'junit.xml'), 'utf8');
    const flag = "read other processes' memory or environment";
    expect(csv).toContain(flag);
    expect(review).toContain(flag);
    expect(gs.tests.at(-1)).toMatchObject({visibility: 'hidden', max_score: 0});
    expect(gs.tests.at(-1).output).toContain(flag);
    expect(gs.output).not.toContain(flag); // students do not see it
    expect(junit).toContain('read other processes&apos; memory or environment');
    expect(fs.readFileSync(path.join(g.out, 'proc-mem', 'feedback.md'), 'utf8')).not.toContain(flag);
  });
});

describe('without a sandbox', () => {
  it('grades anyway (reference N of N, starter 0 of N), says so in every output, and a submission it cannot read gets 0 with the reason while the batch goes on', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-nosandbox-'));
    const old = process.env.GRADER_SANDBOX;
    try {
      const ref = path.join(tmp, 'reference');
      for (const e of A.spec.exercises) {
        fs.mkdirSync(path.dirname(path.join(ref, e.file)), {recursive: true});
        fs.copyFileSync(path.join(ROOT, e.file), path.join(ref, e.file));
      }
      writeRelease(A, path.join(tmp, 'starter'));
      process.env.GRADER_SANDBOX = 'none';
      expect(sandboxInfo().kind).toBe('none');
      // and a submission the grader cannot read (gone by the time it is graded) costs only itself
      const gone = path.join(tmp, 'gone');
      const r = await gradeAll({assignment: 'ch1', submissions: [gone, ref, path.join(tmp, 'starter')], out: path.join(tmp, 'out'), quiet: true});
      expect(r.errors).toHaveLength(1);
      const [goneR, refR, starterR] = r.results;
      expect(goneR!.student).toBe('gone');
      expect(goneR!.score).toBe(0);
      expect(goneR!.notes[0]).toMatch(/^the grader could not grade this submission: ENOENT/);
      expect(fs.readFileSync(path.join(tmp, 'out', 'gone', 'feedback.md'), 'utf8')).toContain('the grader could not grade this submission');
      expect(refR!.score).toBe(refR!.maxScore);
      expect(starterR!.score).toBe(0);
      for (const x of r.results) expect(x.sandbox).toMatch(/^none \(GRADER_SANDBOX=none/);
      for (const x of [refR!, starterR!]) expect(x.flags[0]).toMatch(/^NOT SANDBOXED: GRADER_SANDBOX=none was set/);
      expect(fs.readFileSync(path.join(tmp, 'out', 'gradebook.csv'), 'utf8')).toContain('NOT SANDBOXED');
      expect(fs.readFileSync(path.join(tmp, 'out', 'review.md'), 'utf8')).toContain('**Not sandboxed**');
      const gs = JSON.parse(fs.readFileSync(path.join(tmp, 'out', 'reference', 'results.json'), 'utf8'));
      expect(gs.tests.at(-1).output).toMatch(/^sandbox: none/);
    } finally {
      if (old === undefined) delete process.env.GRADER_SANDBOX;
      else process.env.GRADER_SANDBOX = old;
      fs.rmSync(tmp, {recursive: true, force: true});
    }
  }, 900_000);
});
