// The Gradescope autograder bundle, built by one command and run in a simulated /autograder layout
// (a temp folder as the root): setup.sh, then run_autograder on a submission -> results/results.json.
import {spawnSync} from 'child_process';
import {unzipSync} from 'fflate';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {afterAll, describe, expect, it} from 'vitest';
import {writeBundle} from '../../grader/bundle';
import {scanRelease, writeRelease} from '../../grader/release';
import {buildSample, expectedScore, loadSample} from '../../grader/samples';
import {loadAssignment} from '../../grader/spec';
import {ROOT} from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-gradescope-'));
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

describe('Gradescope autograder bundle', () => {
  const a = loadAssignment('ch1', ROOT);
  it('npm run assignment -- bundle writes autograder.zip with setup.sh and run_autograder at its top', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/assignment.ts', 'bundle', 'ch1', '--out', path.join(tmp, 'bundle')], {cwd: ROOT, encoding: 'utf8'});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const zip = unzipSync(new Uint8Array(fs.readFileSync(path.join(tmp, 'bundle', 'autograder.zip'))));
    expect(Object.keys(zip)).toEqual(expect.arrayContaining(['setup.sh', 'run_autograder', 'package.json', 'scripts/grade.ts', 'grader/run.ts', 'grader/reporter.mjs',
      'grader/sandbox/server.mjs', 'grader/sandbox/client.mjs', 'grader/sandbox/client-worker.mjs', 'grader/sandbox/codec.mjs', 'pristine/assignment.json', 'pristine/test/hidden/softmax.test.ts']));
    // a second build into the same folder replaces the first
    const again = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/assignment.ts', 'bundle', 'ch1', '--out', path.join(tmp, 'bundle')], {cwd: ROOT, encoding: 'utf8'});
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
  }, 300_000);
  it('contains no reference solution (submissions cannot import it at grading time)', () => {
    expect(scanRelease(a, path.join(tmp, 'bundle', 'autograder'), {allowHidden: true})).toEqual([]);
  });
  it('in a simulated /autograder layout, setup.sh then run_autograder grade a submission into results/results.json', () => {
    const root = path.join(tmp, 'autograder');
    const b = writeBundle(a, path.join(tmp, 'bundle2'));
    // what Gradescope does: unzip to source/, run setup.sh, copy run_autograder to the root
    const entries = unzipSync(new Uint8Array(fs.readFileSync(b.zip)));
    for (const [name, data] of Object.entries(entries)) {
      fs.mkdirSync(path.dirname(path.join(root, 'source', name)), {recursive: true});
      fs.writeFileSync(path.join(root, 'source', name), data);
    }
    fs.chmodSync(path.join(root, 'source', 'setup.sh'), 0o755);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'source', 'node_modules'), 'dir'); // the image's npm install
    const setup = spawnSync('bash', [path.join(root, 'source', 'setup.sh')], {encoding: 'utf8'});
    expect(setup.stdout).toContain('setup.sh: dependencies already installed'); // no npm install when they are
    expect(setup.stdout).toContain('setup.sh: ready');
    fs.copyFileSync(path.join(root, 'source', 'run_autograder'), path.join(root, 'run_autograder'));
    buildSample(a, 'half', path.join(root, 'submission'));
    fs.writeFileSync(path.join(root, 'submission_metadata.json'), JSON.stringify({id: 7, users: [{email: 'ada@example.edu', name: 'Ada'}]}));
    // a stale results.json from an earlier run, and one the submission might try to leave behind
    fs.mkdirSync(path.join(root, 'results'));
    fs.writeFileSync(path.join(root, 'results', 'results.json'), '{"score": 25}');
    const run = spawnSync('bash', [path.join(root, 'run_autograder')], {encoding: 'utf8', env: {...process.env, AUTOGRADER_ROOT: root, VITEST: undefined}});
    expect(run.status, run.stderr).toBe(0);
    const res = JSON.parse(fs.readFileSync(path.join(root, 'results', 'results.json'), 'utf8'));
    const unavailable = JSON.parse(fs.readFileSync(path.join(root, 'source', 'pristine', 'unavailable.json'), 'utf8')) as string[];
    const want = expectedScore(a.spec, loadSample(a, 'half'), unavailable).score;
    const avail = a.spec.exercises.filter((e) => !unavailable.includes(e.name));
    expect(res.score).toBe(want);
    expect(res.max_score).toBe(avail.reduce((s, e) => s + e.tests.reduce((x, t) => x + t.points, 0), 0));
    expect(res.tests).toHaveLength(avail.reduce((n, e) => n + e.tests.length, 0) + 1);
    expect(res.tests.at(-1)).toMatchObject({name: 'Grader review (for the teacher; not scored)', visibility: 'hidden', max_score: 0});
    expect(res.tests.at(-1).output).toMatch(/^sandbox: bubblewrap\n/);
    for (const t of res.tests) expect(Object.keys(t)).toEqual(expect.arrayContaining(['name', 'score', 'max_score', 'status', 'visibility', 'output']));
    expect(fs.readFileSync(path.join(root, 'source', 'grading-output', 'gradebook.csv'), 'utf8')).toContain(`ada@example.edu,${want},${res.max_score}`);
    // the reference scores N of N and the released starter 0 of N here too
    for (const [label, want2] of [['reference', res.max_score], ['starter', 0]] as const) {
      fs.rmSync(path.join(root, 'submission'), {recursive: true, force: true});
      if (label === 'starter') writeRelease(a, path.join(root, 'submission'));
      else for (const e of a.spec.exercises) {
        fs.mkdirSync(path.dirname(path.join(root, 'submission', e.file)), {recursive: true});
        fs.copyFileSync(path.join(ROOT, e.file), path.join(root, 'submission', e.file));
      }
      const r2 = spawnSync('bash', [path.join(root, 'run_autograder')], {encoding: 'utf8', env: {...process.env, AUTOGRADER_ROOT: root, VITEST: undefined}});
      expect(r2.status, r2.stderr).toBe(0);
      expect(JSON.parse(fs.readFileSync(path.join(root, 'results', 'results.json'), 'utf8')).score, label).toBe(want2);
    }
  }, 600_000);
  it('run_autograder still writes a results.json (score 0, a message) when the grader itself fails', () => {
    const root = path.join(tmp, 'autograder');
    fs.rmSync(path.join(root, 'source', 'pristine', 'assignment.json'));
    const run = spawnSync('bash', [path.join(root, 'run_autograder')], {encoding: 'utf8', env: {...process.env, AUTOGRADER_ROOT: root}});
    expect(run.status).toBe(0);
    const res = JSON.parse(fs.readFileSync(path.join(root, 'results', 'results.json'), 'utf8'));
    expect(res.score).toBe(0);
    expect(res.output).toMatch(/autograder failed/);
  }, 300_000);
});
