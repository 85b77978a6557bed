// Worker thread of the trusted test process: owns the sandboxed process (bubblewrap around
// server.mjs), frames requests and answers on its fd 3, and watches it from outside — CPU time and
// wall time per call (a call over the limit is killed, the next call starts a fresh sandbox), how
// it ended (exit code, signal, memory), which processes it started, network attempts (the counters
// of its own network namespace). What it observes goes to the grader's observation log, which the
// sandbox cannot reach. The main thread waits on `flag` (Atomics) and takes the answer with
// receiveMessageOnPort, so the tests can call the student's functions synchronously.
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import {workerData} from 'node:worker_threads';
import {frame, frameReader} from './codec.mjs';

const {flag, port, config} = workerData;
const MAX_MESSAGE = config.maxMessageBytes ?? 64 * 1024 * 1024;
const TAIL = 16 * 1024;

let box; // the running sandbox: {child, reader, pending, stderr, stdout, ...}
let starts = 0;
let cpuBase = 0;

function obs(kind, detail, ctx) {
  if (!config.obsFile) return;
  try {
    fs.appendFileSync(config.obsFile, `${JSON.stringify({kind, detail: String(detail).slice(0, 1000), test: ctx?.test ?? '', file: ctx?.file ?? '', at: Date.now()})}\n`);
  } catch { /* the grader removed its folder: it no longer listens */ }
}

/** Every process below `root` (pid), with its CPU ticks and command name, from /proc. */
export function processTree(root) {
  const kids = new Map(), info = new Map();
  let pids = [];
  try { pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return []; }
  for (const p of pids) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const open = st.indexOf('('), close = st.lastIndexOf(')');
      const comm = st.slice(open + 1, close);
      const f = st.slice(close + 2).split(' ');
      const ppid = Number(f[1]);
      info.set(Number(p), {pid: Number(p), comm, ticks: Number(f[11]) + Number(f[12]), state: f[0]});
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(p));
    } catch { /* gone */ }
  }
  const out = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    const i = info.get(p);
    if (i) out.push(i);
    for (const k of kids.get(p) ?? []) todo.push(k);
  }
  return out;
}

const cpuMs = (tree) => tree.reduce((s, p) => s + p.ticks, 0) * 10;

/** Packets the sandbox's network namespace tried to send (IPv4 + IPv6), or undefined. */
function netCounters(pid) {
  if (!config.sandboxed || !pid) return undefined;
  try {
    let n = 0;
    const snmp = fs.readFileSync(`/proc/${pid}/net/snmp`, 'utf8').split('\n');
    for (let i = 0; i + 1 < snmp.length; i += 2) {
      const keys = snmp[i].split(/\s+/), vals = snmp[i + 1].split(/\s+/);
      const get = (k) => Number(vals[keys.indexOf(k)] ?? 0) || 0;
      if (keys[0] === 'Ip:') n += get('OutRequests') + get('OutNoRoutes');
      if (keys[0] === 'Tcp:') n += get('ActiveOpens');
      if (keys[0] === 'Udp:') n += get('OutDatagrams') + get('NoPorts');
    }
    for (const l of fs.readFileSync(`/proc/${pid}/net/snmp6`, 'utf8').split('\n')) {
      const [k, v] = l.trim().split(/\s+/);
      if (k === 'Ip6OutRequests' || k === 'Ip6OutNoRoutes' || k === 'Udp6OutDatagrams') n += Number(v) || 0;
    }
    return n;
  } catch {
    return undefined;
  }
}

const EXPECTED = new Set(['bwrap', 'node', 'esbuild', 'prlimit', 'setpriv', 'MainThread']);

function start(ctx) {
  starts++;
  const child = spawn(config.argv[0], config.argv.slice(1), {cwd: config.cwd, env: config.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe']});
  const b = {child, reader: frameReader(MAX_MESSAGE), pending: undefined, stderr: '', stdout: '', outBytes: 0, exited: undefined, ready: false, net0: undefined, seen: new Set(), innerPid: undefined};
  box = b;
  const tail = (k) => (d) => {
    b.outBytes += d.length;
    b[k] = (b[k] + d.toString('utf8')).slice(-TAIL);
  };
  child.stdout.on('data', tail('stdout'));
  child.stderr.on('data', tail('stderr'));
  child.stdio[3].on('data', (chunk) => {
    let msgs;
    try {
      msgs = b.reader.push(chunk);
    } catch (e) {
      obs('protocol', `the sandboxed process broke the grader's channel: ${e.message}`, ctx);
      kill(b);
      settle(b, {fail: 'protocol', message: `the sandboxed process broke the grader's channel (${e.message})`});
      return;
    }
    for (const m of msgs) settle(b, {msg: m});
  });
  child.stdio[3].on('error', () => { /* ends with the process */ });
  child.on('error', (e) => { b.exited = {code: null, signal: null, error: e.message}; settle(b, {exit: b.exited}); });
  child.on('exit', (code, signal) => { b.exited = {code, signal}; settle(b, {exit: b.exited}); });
  return b;
}

function settle(b, r) {
  const p = b.pending;
  if (!p) return;
  if (r.msg && p.id === 0 && !r.msg.ready) return; // nothing is asked before it is ready
  if (r.msg && p.id !== 0 && r.msg.id !== p.id) {
    // calls are one at a time: an answer without the right id is the sandbox talking garbage
    kill(b);
    r = {fail: 'protocol', message: 'the sandboxed process sent an answer that does not belong to the call (it may have patched what the grader uses to talk to it)'};
  }
  b.pending = undefined;
  p.resolve(r);
}

function kill(b) {
  const tree = processTree(b.child.pid);
  try { b.child.kill('SIGKILL'); } catch { /* gone */ }
  for (const p of tree) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
}

function endReason(b) {
  const e = b.exited ?? {};
  const err = b.stderr;
  if (/heap out of memory|Reached heap limit|Allocation failed - JavaScript heap|process out of memory/i.test(err)) return {kind: 'memory', text: 'it ran out of memory (the sandbox allows 1 GiB of JavaScript heap and 2 GiB of data)'};
  if (e.signal === 'SIGXCPU' || (e.signal === 'SIGKILL' && /cpu/i.test(err))) return {kind: 'cpu-limit', text: 'it used up the sandbox\'s CPU-time limit'};
  if (e.signal) return {kind: 'crash', text: `the sandboxed process was killed by ${e.signal}`};
  if (e.error) return {kind: 'start', text: `the sandbox could not start: ${e.error}`};
  return {kind: 'crash', text: `the sandboxed process ended (exit code ${e.code})`};
}

/** Send one request and wait for its answer, watching CPU and wall time. */
function roundTrip(b, msg, ctx, limits) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c0 = cpuMs(processTree(b.child.pid));
    b.pending = {id: msg.id, resolve: (r) => { clearInterval(timer); resolve(r); }};
    if (b.exited) { settle(b, {exit: b.exited}); return; }
    if (msg.id !== 0) b.child.stdio[3].write(frame(msg));
    const timer = setInterval(() => {
      const tree = processTree(b.child.pid);
      for (const p of tree) {
        if (!EXPECTED.has(p.comm) && !b.seen.has(p.pid)) { b.seen.add(p.pid); obs('process', `started a process: ${p.comm}`, ctx); }
      }
      const cpu = cpuMs(tree) - c0, wall = Date.now() - t0;
      if (cpu > limits.cpuMs || wall > limits.wallMs) {
        kill(b);
        settle(b, {timeout: {cpuMs: cpu, wallMs: wall, byWall: cpu <= limits.cpuMs}});
      }
    }, 100);
  });
}

function innerPid(b) {
  if (b.innerPid) return b.innerPid;
  const tree = processTree(b.child.pid);
  const node = tree.find((p) => p.comm === 'node' && p.pid !== b.child.pid);
  b.innerPid = node?.pid;
  return b.innerPid;
}

function checkNet(b, ctx) {
  const n = netCounters(innerPid(b));
  if (n === undefined) return;
  if (b.net0 === undefined) { b.net0 = n; return; }
  if (n > b.net0) { obs('network', `${n - b.net0} network packet(s) or connection(s) attempted (the sandbox has no network)`, ctx); b.net0 = n; }
}

/** Start a sandbox now; `booting` settles when it is ready (or could not start). */
function boot(ctx) {
  const b = start(ctx);
  b.booting = roundTrip(b, {id: 0}, ctx, {cpuMs: config.startCpuMs ?? 60_000, wallMs: config.startWallMs ?? 120_000}).then((r) => {
    if (r.msg?.ready) { b.ready = true; checkNet(b, ctx); return {ok: true}; }
    const why = r.timeout ? `it did not start within ${(r.timeout.wallMs / 1000).toFixed(0)} s` : endReason(b).text;
    obs('start', `the sandbox did not start: ${why}; ${b.stderr.slice(-500)}`, ctx);
    return {ok: false, fail: 'start', message: `the grader's sandbox did not start: ${why}\n${b.stderr.slice(-2000)}`};
  });
  return b;
}

async function ensure(ctx) {
  if (!box || (box.exited && box.ready)) boot(ctx);
  const r = await box.booting;
  return r.ok ? {ok: true, restarted: starts > 1} : r;
}

function scanProcesses(b, ctx, ending) {
  const extra = processTree(b.child.pid).filter((p) => !EXPECTED.has(p.comm));
  for (const p of extra) if (!b.seen.has(p.pid)) { b.seen.add(p.pid); obs('process', `started a process: ${p.comm}`, ctx); }
  if (ending && extra.length) obs('killed', `${extra.length} process(es) still running at the end of a test file (killed with the sandbox): ${[...new Set(extra.map((p) => p.comm))].join(', ')}`, ctx);
}

async function serve(msg) {
  const ctx = msg.ctx;
  if (msg.op === 'scan') {
    if (box && !box.exited && box.ready) { scanProcesses(box, ctx, true); checkNet(box, ctx); }
    return {ok: true};
  }
  if (msg.op === 'shutdown') {
    if (box && !box.exited) {
      const extra = processTree(box.child.pid).filter((p) => !EXPECTED.has(p.comm));
      if (extra.length) obs('killed', `${extra.length} process(es) still running when the tests ended were killed with the sandbox: ${[...new Set(extra.map((p) => p.comm))].join(', ')}`, ctx);
      checkNet(box, ctx);
      kill(box);
    }
    return {ok: true};
  }
  const e = await ensure(ctx);
  if (!e.ok) return e;
  const b = box;
  const r = await roundTrip(b, msg, ctx, {cpuMs: config.cpuLimitMs, wallMs: config.wallLimitMs});
  checkNet(b, ctx);
  if (r.msg) {
    for (const ev of r.msg.events ?? []) obs(`reported:${String(ev.kind).slice(0, 40)}`, ev.detail, ctx);
    if (b.outBytes > (config.maxOutputBytes ?? 1 << 20) && !b.outNoted) { b.outNoted = true; obs('output', `printed more than ${(config.maxOutputBytes ?? 1 << 20) >> 10} KiB (kept the last ${TAIL >> 10} KiB)`, ctx); }
    return {...r.msg, restarted: e.restarted};
  }
  if (!r.msg) boot(ctx); // a fresh sandbox for the next call, started now (not in the next test's time)
  if (r.timeout) {
    const t = r.timeout;
    obs('timeout', t.byWall ? `no answer after ${(t.wallMs / 1000).toFixed(1)} s (${(t.cpuMs / 1000).toFixed(1)} s of CPU time): killed` : `still running after ${(t.cpuMs / 1000).toFixed(1)} s of CPU time: killed`, ctx);
    return {ok: false, fail: 'timeout', ...t};
  }
  if (r.exit) {
    const why = endReason(b);
    obs(why.kind, why.text, ctx);
    return {ok: false, fail: why.kind === 'memory' ? 'memory' : 'crash', message: why.text, stderr: b.stderr.slice(-1500)};
  }
  return {ok: false, fail: r.fail ?? 'protocol', message: r.message ?? 'no answer'};
}

port.on('message', async (msg) => {
  let res;
  try {
    res = await serve(msg);
  } catch (e) {
    res = {ok: false, fail: 'grader', message: `grader error: ${e?.stack ?? e}`};
  }
  port.postMessage(res);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
