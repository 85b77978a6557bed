// Grader reporter: loaded by the vitest main process (never by a test worker, where student code runs).
// The grader hands it {token, out, root} over fd 3 before any test starts; the reporter closes fd 3 so
// no test worker can inherit it, and appends one HMAC-signed JSON line per event to `out`. The grader
// accepts only lines signed with the token, which never exists in a test worker: a submission that
// writes its own results file, or edits this one, cannot add or change a result (only lose them).
import {createHmac} from 'node:crypto';
import {appendFileSync, closeSync, readSync} from 'node:fs';
import {relative} from 'node:path';

function readHandshake() {
  const buf = Buffer.alloc(65536);
  let text = '';
  for (let i = 0; i < 4000 && !text.includes('\n'); i++) {
    try {
      const n = readSync(3, buf, 0, buf.length, null);
      if (n === 0) break;
      text += buf.subarray(0, n).toString('utf8');
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  closeSync(3);
  return JSON.parse(text);
}

const hs = readHandshake();

// If the grader dies (killed, or its own test runner timed out), take this process group with it:
// a submission stuck in an infinite loop must not outlive its grader.
const graderPid = process.ppid;
setInterval(() => {
  if (process.ppid !== graderPid) { try { process.kill(-process.pid, 'SIGKILL'); } catch { process.exit(1); } }
}, 500).unref();

function emit(obj) {
  const payload = JSON.stringify(obj);
  const mac = createHmac('sha256', hs.token).update(payload).digest('hex');
  appendFileSync(hs.out, `${mac} ${payload}\n`);
}

function errText(e) {
  if (!e) return '';
  const head = `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(e)}`;
  // keep the first stack frames that point into the course (the student's lib file or the test)
  const frames = String(e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l) && !l.includes('node_modules')).slice(0, 4);
  return [head, ...frames.map((l) => l.replace(hs.root + '/', ''))].join('\n');
}

const rel = (id) => relative(hs.root, id).split('\\').join('/');

export default class GraderReporter {
  onTestCaseResult(tc) {
    const r = tc.result();
    emit({t: 'result', file: rel(tc.module.moduleId), name: tc.fullName, state: r.state, errors: (r.errors ?? []).map(errText), ms: tc.diagnostic()?.duration ?? 0});
  }
  onTestModuleEnd(m) {
    emit({t: 'module', file: rel(m.moduleId), state: m.state(), errors: m.errors().map(errText)});
  }
  onTestRunEnd(_modules, unhandled, reason) {
    emit({t: 'end', reason, unhandled: (unhandled ?? []).map(errText)});
  }
}
