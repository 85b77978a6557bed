/**
 * Run an assignment's tests against one prepared course copy: vitest in a child process group,
 * results through the signed reporter channel, a watchdog for synchronous hangs, and re-runs of the
 * tests that a killed or crashed run never reached. Every spec test ends with exactly one outcome.
 */
import {spawn} from 'child_process';
import {createHmac, randomBytes} from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface PlannedTest {
  key: string;
  /** path of the test file in the course copy, e.g. test/hidden/softmax.test.ts */
  file: string;
  name: string;
}

export interface Outcome {
  status: 'passed' | 'failed';
  /** why it failed, or '' */
  output: string;
  ms: number;
  /** how it ended when not by an assertion: timeout, crash, import, not-run */
  kind?: 'assertion' | 'timeout' | 'crash' | 'import' | 'not-run';
}

export interface RunOptions {
  /** the prepared course copy (lib + test/ + node_modules link) */
  course: string;
  /** the course whose node_modules has vitest */
  nodeModules: string;
  tests: PlannedTest[];
  testTimeoutMs: number;
  totalTimeoutMs: number;
  /** extra ms a watchdog waits beyond testTimeoutMs before killing a silent worker */
  graceMs?: number;
  /** called with each round's log line */
  log?: (line: string) => void;
  /** vitest's own per-test timeout (default testTimeoutMs); the sandbox limits each call of student code */
  vitestTimeoutMs?: number;
  /** environment of the test workers (the sandbox client's configuration) */
  testEnv?: Record<string, string>;
  /** HOME of the test process: an empty folder of its own */
  home?: string;
}

export interface RunReport {
  outcomes: Map<string, Outcome>;
  rounds: number;
  /** lines the grader rejected (bad signature): evidence of tampering with the results channel */
  rejectedLines: number;
  stderr: string;
}

const GRADER_DIR = __dirname;

/** CPU time (ms) used so far by the processes of a process group (Linux /proc; 0 elsewhere). */
export function groupCpuMs(pgid: number): number {
  let ticks = 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      if (Number(f[2]) !== pgid) continue; // field 5: pgrp
      ticks += Number(f[11]) + Number(f[12]); // fields 14, 15: utime, stime
    } catch { /* process ended */ }
  }
  return ticks * 10; // USER_HZ = 100 on Linux
}

const MAX_RESULTS_BYTES = 32 * 1024 * 1024;

/** At most `max` bytes of a file ('' if there is none), decoded as UTF-8. */
export function readCapped(file: string, max: number): string {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return ''; }
  try {
    const buf = Buffer.alloc(Math.min(max, Math.max(fs.fstatSync(fd).size, 0)));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Error text for feedback: no ANSI colours, at most 4000 characters. */
export function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  const t = String(s).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  return t.length > 4000 ? `${t.slice(0, 4000)}\n… (${t.length - 4000} more characters)` : t;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Process groups of running vitest children, killed if the grader itself exits. */
const live = new Set<number>();
let cleanupInstalled = false;
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => { for (const pid of live) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { killAll(); process.kill(process.pid, sig); });
  }
}

interface RoundResult {
  results: Map<string, Outcome>;
  moduleErrors: Map<string, string>;
  killed?: {reason: 'timeout' | 'total'; blameTest?: string; blameFile?: string; afterMs: number; wallMs: number; byWall?: boolean};
  crashedTest?: string;
  rejected: number;
  stderr: string;
}

async function runRound(o: RunOptions, files: string[], only: PlannedTest[] | undefined, deadline: number): Promise<RoundResult> {
  const secret = fs.mkdtempSync(path.join(os.tmpdir(), 'grader-'));
  fs.chmodSync(secret, 0o700);
  const token = randomBytes(32).toString('hex');
  const out = path.join(secret, `${randomBytes(12).toString('hex')}.jsonl`);
  const reporter = path.join(secret, 'reporter.mjs');
  fs.copyFileSync(path.join(GRADER_DIR, 'reporter.mjs'), reporter);
  // the setup file must resolve 'vitest', so it lives in the course copy (under a fresh random name)
  const setup = path.join(o.course, `.grader-${randomBytes(8).toString('hex')}.setup.mjs`);
  fs.writeFileSync(setup, fs.readFileSync(path.join(GRADER_DIR, 'setup.mjs'), 'utf8').replace("'./sandbox/client.mjs'", JSON.stringify(path.join(GRADER_DIR, 'sandbox', 'client.mjs'))));
  const pattern = only ? `(?:^| )(?:${only.map((t) => escapeRe(t.name.split(' > ').join(' '))).join('|')})$` : undefined;
  const config = path.join(secret, 'vitest.config.mjs');
  const testOptions = {
    include: files,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    testTimeout: o.vitestTimeoutMs ?? o.testTimeoutMs,
    hookTimeout: o.vitestTimeoutMs ?? o.testTimeoutMs,
    teardownTimeout: 2000,
    allowOnly: false,
    passWithNoTests: true,
    watch: false,
    silent: true,
    env: {COURSE_BACKEND: 'cpu', ...o.testEnv},
    setupFiles: [setup],
    reporters: [reporter],
  };
  const J = (v: unknown) => JSON.stringify(v);
  fs.writeFileSync(config, `export default {root: ${J(o.course)}, cacheDir: ${J(path.join(secret, 'vite-cache'))}, ` +
    `test: {...${J(testOptions)}${pattern ? `, testNamePattern: new RegExp(${J(pattern)})` : ''}}};\n`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: o.home ?? os.tmpdir(),
    TMPDIR: os.tmpdir(),
    COURSE_BACKEND: 'cpu',
    NODE_ENV: 'test',
    CI: 'true',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
  const vitest = path.join(o.nodeModules, 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', '--config', config, '--root', o.course], {
    cwd: o.course, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  installCleanup();
  live.add(child.pid!);
  (child.stdio[3] as NodeJS.WritableStream).write(`${JSON.stringify({token, out, root: o.course})}\n`);
  let stderr = '';
  let lastMark: {kind: 'file' | 'start'; path: string; name?: string; at: number} = {kind: 'file', path: '', at: Date.now()};
  let pending = '';
  const onErr = (d: Buffer) => {
    const s = d.toString('utf8');
    if (stderr.length < 200_000) stderr += s;
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    if (pending.length > 100_000) pending = ''; // a flood without newlines carries no marks
    for (const line of lines) {
      const m = /^@@grader (file|start) (\{.*\})\s*$/.exec(line);
      if (!m) continue;
      try {
        const j = JSON.parse(m[2]!) as {path: string; name?: string};
        lastMark = {kind: m[1] as 'file' | 'start', path: j.path, name: j.name, at: Date.now()};
      } catch { /* garbled mark: ignore */ }
    }
  };
  child.stderr!.on('data', onErr);
  child.stdout!.on('data', () => { /* reporter output goes to the signed file; drain stdout */ });
  const grace = o.graceMs ?? 5000;
  // A hung test is one that burns testTimeout + grace of CPU since the last mark (a synchronous
  // infinite loop), or sits 10x that long in wall time (a blocking wait vitest cannot time out).
  // CPU time keeps a loaded machine from failing correct code by wall-clock timeouts.
  const cpuLimit = o.testTimeoutMs + grace, wallLimit = 10 * cpuLimit + 60_000;
  let markCpu = 0, markSeen = lastMark.at;
  let killed: RoundResult['killed'];
  const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  const timer = setInterval(() => {
    const now = Date.now();
    const cpu = groupCpuMs(child.pid!);
    if (lastMark.at !== markSeen || cpu < markCpu) { markSeen = lastMark.at; markCpu = cpu; }
    if (now > deadline) {
      killed = {reason: 'total', afterMs: Math.max(cpu - markCpu, 0), wallMs: now - lastMark.at};
    } else if (cpu - markCpu > cpuLimit || now - lastMark.at > wallLimit) {
      killed = {reason: 'timeout', afterMs: Math.max(cpu - markCpu, 0), wallMs: now - lastMark.at, byWall: cpu - markCpu <= cpuLimit};
    } else return;
    if (lastMark.kind === 'start' && lastMark.name !== undefined) killed.blameTest = `${path.relative(o.course, lastMark.path)} > ${lastMark.name}`;
    else if (lastMark.path) killed.blameFile = path.relative(o.course, lastMark.path);
    clearInterval(timer);
    killGroup();
  }, 250);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearInterval(timer);
  killGroup(); // strays the submission may have left in the group
  live.delete(child.pid!);
  // read and verify the signed results
  const results = new Map<string, Outcome>();
  const moduleErrors = new Map<string, string>();
  let rejected = 0;
  let ended = false;
  const text = readCapped(out, MAX_RESULTS_BYTES);
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    const mac = line.slice(0, sp), payload = line.slice(sp + 1);
    if (sp !== 64 || createHmac('sha256', token).update(payload).digest('hex') !== mac) { rejected++; continue; }
    const ev = JSON.parse(payload) as {t: string; file: string; name: string; state: string; errors: string[]; ms: number};
    ev.errors = (ev.errors ?? []).map(clean);
    if (ev.t === 'result' && (ev.state === 'passed' || ev.state === 'failed')) {
      const timedOut = ev.errors.some((e) => /Test timed out in \d+ms/.test(e));
      results.set(`${ev.file} > ${ev.name}`, {status: ev.state, output: ev.errors.join('\n\n'), ms: ev.ms, kind: ev.state === 'failed' ? (timedOut ? 'timeout' : 'assertion') : undefined});
    } else if (ev.t === 'module' && ev.errors.length > 0) {
      moduleErrors.set(ev.file, ev.errors.join('\n\n'));
    } else if (ev.t === 'end') ended = true;
  }
  fs.rmSync(secret, {recursive: true, force: true});
  fs.rmSync(setup, {force: true});
  let crashedTest: string | undefined;
  if (!killed && (!ended || code !== 0) && lastMark.kind === 'start' && lastMark.name !== undefined) {
    const k = `${path.relative(o.course, lastMark.path)} > ${lastMark.name}`;
    if (!results.has(k)) crashedTest = k;
  }
  return {results, moduleErrors, killed, crashedTest, rejected, stderr};
}

/** Grade every planned test; never throws for anything the submission does. */
export async function runTests(o: RunOptions): Promise<RunReport> {
  const outcomes = new Map<string, Outcome>();
  const byKey = new Map(o.tests.map((t) => [t.key, t] as const));
  const deadline = Date.now() + o.totalTimeoutMs;
  let rounds = 0, rejected = 0, stderr = '';
  let todo = o.tests.slice();
  while (todo.length > 0) {
    rounds++;
    if (Date.now() > deadline) {
      for (const t of todo) outcomes.set(t.key, {status: 'failed', kind: 'not-run', ms: 0, output: `not run: the grading time limit (${o.totalTimeoutMs / 1000} s) was used up`});
      break;
    }
    const files = [...new Set(todo.map((t) => t.file))];
    const r = await runRound(o, files, rounds === 1 ? undefined : todo, deadline);
    rejected += r.rejected;
    stderr += r.stderr.slice(0, 20_000);
    o.log?.(`round ${rounds}: ${files.length} file(s), ${todo.length} test(s): ${r.results.size} result(s)${r.killed ? `, killed (${r.killed.reason}${r.killed.blameTest ? `: ${r.killed.blameTest}` : r.killed.blameFile ? `: loading ${r.killed.blameFile}` : ''})` : ''}${r.crashedTest ? `, crashed in ${r.crashedTest}` : ''}${r.rejected ? `, ${r.rejected} forged line(s) rejected` : ''}`);
    const before = todo.length;
    for (const t of todo) {
      const res = r.results.get(t.key);
      if (res) { outcomes.set(t.key, res); continue; }
      const modErr = r.moduleErrors.get(t.file);
      if (modErr) { outcomes.set(t.key, {status: 'failed', kind: 'import', ms: 0, output: `the test file could not load the code it tests:\n${modErr}`}); continue; }
      if (r.killed?.blameTest === t.key) {
        outcomes.set(t.key, {status: 'failed', kind: 'timeout', ms: r.killed.afterMs, output: r.killed.reason === 'total'
          ? `stopped: the grading time limit (${o.totalTimeoutMs / 1000} s) ran out during this test`
          : r.killed.byWall
            ? `timed out: no result after ${(r.killed.wallMs / 1000).toFixed(0)} s (${(r.killed.afterMs / 1000).toFixed(1)} s of CPU time; limit ${o.testTimeoutMs / 1000} s of CPU); an infinite loop, or a wait that never ends?`
            : `timed out: still running after ${(r.killed.afterMs / 1000).toFixed(1)} s of CPU time (limit ${o.testTimeoutMs / 1000} s); an infinite loop or a very slow computation?`});
        continue;
      }
      if (r.killed?.blameFile === t.file) {
        outcomes.set(t.key, {status: 'failed', kind: 'timeout', ms: r.killed.afterMs, output: `timed out while loading the test file (${(r.killed.afterMs / 1000).toFixed(1)} s of CPU time): the code it imports never finished loading (an infinite loop at import time?)`});
        continue;
      }
      if (r.crashedTest === t.key) {
        outcomes.set(t.key, {status: 'failed', kind: 'crash', ms: 0, output: 'the test process ended during this test without a result: did the code call process.exit() or crash the process?'});
        continue;
      }
    }
    todo = todo.filter((t) => !outcomes.has(t.key));
    if (todo.length === before) {
      for (const t of todo) outcomes.set(t.key, {status: 'failed', kind: 'not-run', ms: 0, output: r.killed?.reason === 'total'
        ? `not run: the grading time limit (${o.totalTimeoutMs / 1000} s) was used up`
        : 'not run: no result for this test (it is missing from the test file, or the test process died before reaching it)'});
      break;
    }
  }
  for (const k of byKey.keys()) if (!outcomes.has(k)) outcomes.set(k, {status: 'failed', kind: 'not-run', ms: 0, output: 'not run'});
  return {outcomes, rounds, rejectedLines: rejected, stderr};
}
