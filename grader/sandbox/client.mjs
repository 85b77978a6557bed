// Trusted side of the sandbox boundary, loaded in the test process by the generated stand-ins of
// the student's files (grader/sandbox/proxy.ts writes them). Each export of a student file becomes
// a stub: calling it sends the arguments to the sandbox and returns what came back, as values —
// tensors as typed arrays + shape + dtype, tf.Variables mirrored both ways (an optimiser that
// updates them in the sandbox updates them here), objects that stay in the sandbox as handles
// (class instances, functions). Inside tf.grads the stub records a custom gradient that asks the
// sandbox for the vector-Jacobian product; tensors the student's code leaks there are mirrored
// here, so the tests' leak checks see them. Calls are synchronous (Atomics.wait on a worker that
// owns the sandboxed process), so the tests call student functions exactly as they would locally.
import {MessageChannel, receiveMessageOnPort, Worker} from 'node:worker_threads';
import * as fs from 'node:fs';
import {decode, encode, makeTensor, tensorsIn} from './codec.mjs';

const KEY = Symbol.for('course.grader.sandbox');

class Client {
  constructor(config) {
    this.config = config;
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    const {port1, port2} = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./client-worker.mjs', import.meta.url), {workerData: {flag: this.flag, port: port2, config}, transferList: [port2]});
    this.worker.unref();
    this.nextId = 1;
    this.vars = new Map(); // id -> local tf.Variable
    this.varIds = new WeakMap();
    this.nextVar = 1;
    this.handles = new WeakMap(); // local stand-in -> handle id
    this.standIns = new Map(); // handle id -> stand-in (one per remote object)
    this.phantoms = [];
    this.expect = undefined;
    process.once('exit', () => { try { this.request({op: 'shutdown'}); } catch { /* exiting */ } });
  }

  ctx() {
    try {
      const s = this.expect?.getState?.() ?? {};
      return {test: s.currentTestName ?? '', file: s.testPath ?? ''};
    } catch {
      return {test: '', file: ''};
    }
  }

  request(msg) {
    msg.id = this.nextId++;
    msg.ctx = msg.op === 'load' ? {test: '', file: `loading ${msg.file}`} : msg.op === 'scan' ? {test: '', file: 'at the end of a test file'} : this.ctx();
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(msg);
    const limit = (this.config.wallLimitMs ?? 120_000) + (this.config.startWallMs ?? 120_000) + 30_000;
    const r = Atomics.wait(this.flag, 0, 0, limit);
    const got = receiveMessageOnPort(this.port);
    if (!got) throw new Error(`grader: the sandbox client did not answer (${r})`);
    return got.message;
  }
}

/** At the end of each test file (the grader's setup file): what the sandbox is running now. */
export function scanSandbox() {
  const c = globalThis[KEY];
  if (c) c.request({op: 'scan'});
}

export function client() {
  if (!globalThis[KEY]) {
    const file = process.env.GRADER_SANDBOX_CONFIG;
    if (!file) throw new Error('grader: GRADER_SANDBOX_CONFIG is not set (the sandbox stand-ins run only under the grader)');
    globalThis[KEY] = new Client(JSON.parse(fs.readFileSync(file, 'utf8')));
  }
  return globalThis[KEY];
}

function failure(res, what) {
  if (res.fail === 'timeout') {
    const e = new Error(res.byWall
      ? `timed out: ${what} gave no answer after ${(res.wallMs / 1000).toFixed(0)} s (${(res.cpuMs / 1000).toFixed(1)} s of CPU time); an infinite loop, or a wait that never ends?`
      : `timed out: ${what} was still running after ${(res.cpuMs / 1000).toFixed(1)} s of CPU time; an infinite loop or a very slow computation?`);
    e.graderKind = 'timeout';
    return e;
  }
  if (res.fail === 'crash' || res.fail === 'memory') {
    const e = new Error(`the sandboxed process running your code ended during ${what}: ${res.message}. Did the code call process.exit(), crash, or run out of memory?`);
    e.graderKind = 'crash';
    return e;
  }
  return new Error(`${what}: ${res.message ?? 'the sandbox failed'}`);
}

function remoteError(tag) {
  const e = new Error(String(tag.message ?? ''));
  e.name = String(tag.name ?? 'Error');
  const frames = Array.isArray(tag.frames) ? tag.frames.map((f) => `    ${String(f).slice(0, 300)} (in the sandbox)`) : [];
  e.stack = `${e.name}: ${e.message}\n${frames.join('\n')}`;
  return e;
}

const CLOSE_NAMES = (want, have) => have.filter((h) => h.toLowerCase() === want.toLowerCase() || lev(h.toLowerCase(), want.toLowerCase()) <= 3);
function lev(a, b) {
  const d = Array.from({length: a.length + 1}, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/**
 * The exports of one student file, as stubs. `spec`: name -> {kind: 'function' | 'class' | 'value',
 * async} from the starter's own declaration of that file (what the tests expect).
 */
export function studentModule(tf, expect, file, spec) {
  const c = client();
  c.expect ??= expect;
  const names = Object.keys(spec);
  const res = c.request({op: 'load', file, names});
  if (res.fail) throw failure(res, `loading ${file}`);
  if (!res.ok) {
    const e = remoteError(res.error);
    e.message = `${file} could not be loaded: ${e.message}`;
    e.stack = `Error: ${e.message}\n${e.stack.split('\n').slice(1).join('\n')}`;
    throw e;
  }
  const rt = runtime(tf, c);
  const out = {};
  for (const name of names) {
    const d = res.exports[name];
    if (!d) { out[name] = missing(file, name, spec[name], res); continue; }
    if (d.kind === 'value') { out[name] = decode(d.value, rt.decCtx); continue; }
    const target = {file, name};
    if (spec[name].kind === 'function' && d.kind === 'class') { out[name] = () => { throw new TypeError(`${name} in ${file} is a class, but the tests call it as a function: keep \`export function ${name}(…)\``); }; continue; }
    if (spec[name].kind === 'class' && d.kind !== 'class') { out[name] = function () { throw new TypeError(`${name} in ${file} is not a class, but the tests create it with \`new ${name}(…)\`: keep \`export class ${name}\``); }; continue; }
    out[name] = d.kind === 'class' ? rt.classStub(target, name) : rt.functionStub(target, name, !!spec[name].async);
  }
  return out;
}

function missing(file, name, want, res) {
  const all = (res.all ?? []).map(String);
  let msg = `${file} does not export \`${name}\`, which the tests import.`;
  if (res.default && (res.default.fname === name || (all.length === 1 && all[0] === 'default'))) msg += ` It has a default export${res.default.fname ? ` (${res.default.fname})` : ''}: export it by name instead — \`export ${want.kind === 'class' ? 'class' : 'function'} ${name}\`, not \`export default\`.`;
  else {
    const close = CLOSE_NAMES(name, all);
    if (close.length) msg += ` Did you rename it? It exports ${close.map((n) => `\`${n}\``).join(', ')}; keep the starter's name \`${name}\`.`;
    else if (all.length) msg += ` It exports: ${all.slice(0, 12).map((n) => `\`${n}\``).join(', ')}.`;
  }
  if (want.kind === 'value') return undefined;
  const f = function () { throw new TypeError(msg); };
  return f;
}

function runtime(tf, c) {
  const decCtx = {
    tf,
    variable: (tag) => {
      const v = c.vars.get(tag.id);
      if (!v) throw new Error('grader: unknown variable');
      return v;
    },
    handle: (tag) => standIn(tag),
    error: remoteError,
  };
  const encCtx = {
    tf,
    tensor: (t) => {
      if (!(t instanceof tf.Variable)) return undefined;
      let id = c.varIds.get(t);
      if (id === undefined) { id = c.nextVar++; c.varIds.set(t, id); c.vars.set(id, t); }
      return {$: 'v', id};
    },
    object: (v) => {
      const id = c.handles.get(v);
      if (id !== undefined) return {$: 'h', id};
      const what = typeof v === 'function' ? 'a function' : `an object of class ${v?.constructor?.name ?? '?'}`;
      throw new TypeError(`the tests passed ${what}, which cannot be sent to the sandboxed code`);
    },
  };

  function varsPayload() {
    const vars = [], drop = [];
    for (const [id, v] of c.vars) {
      if (v.isDisposed) { drop.push(id); c.vars.delete(id); continue; }
      vars.push({id, trainable: v.trainable, ...encode(v, {tf})});
    }
    return {vars, dropVars: drop};
  }

  function applyVars(list) {
    for (const x of list ?? []) {
      const v = c.vars.get(x.id);
      if (!v || v.isDisposed) continue;
      try {
        tf.tidy(() => { v.assign(makeTensor(tf, x)); });
      } catch { /* the shape changed in the sandbox: the local variable keeps its value */ }
    }
  }

  function applyLeak(n) {
    if (!Number.isFinite(n) || n === 0) return;
    if (n > 0) for (let i = 0; i < Math.min(n, 100_000); i++) c.phantoms.push(tf.scalar(0));
    else for (let i = 0; i < -n && c.phantoms.length; i++) { const t = c.phantoms.pop(); if (!t.isDisposed) t.dispose(); }
  }

  function invoke(op, target, args, what, sync = true, extra = {}) {
    const encArgs = encode(args, encCtx);
    const res = c.request({op, target, args: encArgs, sync, ...varsPayload(), ...extra});
    if (res.fail) throw failure(res, what);
    applyVars(res.vars);
    if (!res.ok) throw remoteError(res.error);
    applyLeak(res.leak);
    if (Array.isArray(res.disposedArgs) && res.disposedArgs.length) {
      const leaves = tensorsIn(args, tf);
      for (const i of res.disposedArgs) { const t = leaves[i]; if (t && !(t instanceof tf.Variable) && !t.isDisposed) t.dispose(); }
    }
    return decode(res.value, decCtx);
  }

  function call(target, args, what, sync) {
    const leaves = tensorsIn(args, tf);
    if (sync && leaves.length && tf.engine().isTapeOn()) {
      // inside tf.grads: a custom gradient whose backward pass is computed in the sandbox
      const f = tf.customGrad(() => {
        const value = invoke('call', target, args, what, true);
        if (!(value instanceof tf.Tensor)) throw new TypeError(`${what} must return a tensor to be differentiated`);
        return {value, gradFunc: (dy) => {
          const grads = invoke('vjp', target, args, `the gradient of ${what}`, true, {dy: encode(dy, encCtx)});
          return leaves.map((x, i) => grads[i] ?? tf.zerosLike(x));
        }};
      });
      return f(...leaves);
    }
    return invoke('call', target, args, what, sync);
  }

  function functionStub(target, name, isAsync) {
    const what = `${name}()`;
    const stub = isAsync
      ? async function (...args) { return invoke('call', target, args, what, false); }
      : function (...args) { return call(target, args, what, true); };
    Object.defineProperty(stub, 'name', {value: name});
    return stub;
  }

  function classStub(target, name) {
    const Stub = function (...args) {
      if (!new.target) throw new TypeError(`Class constructor ${name} cannot be invoked without 'new'`);
      return invoke('new', target, args, `new ${name}()`);
    };
    Object.defineProperty(Stub, 'name', {value: name});
    c.classProtos ??= new Map();
    c.classProtos.set(name, Stub.prototype);
    return Stub;
  }

  function standIn(tag) {
    const id = Number(tag.id);
    if (c.standIns.has(id)) return c.standIns.get(id);
    let s;
    if (tag.kind === 'function') s = functionStub({h: id}, tag.cls || 'function', !!tag.async);
    else if (tag.kind === 'class') s = classStub({h: id}, tag.cls || 'Class');
    else {
      const proto = c.classProtos?.get(tag.cls) ?? Object.prototype;
      const base = Object.create(proto);
      s = new Proxy(base, {
        get(t, prop) {
          if (typeof prop === 'symbol' || prop === 'then' || prop === 'constructor' || prop === 'asymmetricMatch' || prop === '$$typeof' || prop === 'nodeType' || prop === 'toJSON') return Reflect.get(t, prop);
          const res = c.request({op: 'get', h: id, prop});
          if (res.fail) throw failure(res, `reading .${prop}`);
          if (!res.ok) throw remoteError(res.error);
          if (res.method) return (...args) => invoke('call', {h: id, method: prop}, args, `${tag.cls ?? 'object'}.${prop}()`);
          applyVars(res.vars);
          return decode(res.value, decCtx);
        },
        set(t, prop, value) {
          if (typeof prop === 'symbol') return Reflect.set(t, prop, value);
          const res = c.request({op: 'set', h: id, prop, value: encode(value, encCtx), ...varsPayload()});
          if (res.fail) throw failure(res, `setting .${prop}`);
          if (!res.ok) throw remoteError(res.error);
          applyVars(res.vars);
          return true;
        },
        ownKeys() {
          const res = c.request({op: 'keys', h: id});
          return res.ok && Array.isArray(res.value) ? res.value.map(String) : [];
        },
        getOwnPropertyDescriptor(t, prop) {
          if (typeof prop === 'symbol') return Reflect.getOwnPropertyDescriptor(t, prop);
          return {value: this.get(t, prop), enumerable: true, configurable: true, writable: true};
        },
      });
    }
    c.handles.set(s, id);
    c.standIns.set(id, s);
    return s;
  }

  return {decCtx, encCtx, functionStub, classStub};
}
