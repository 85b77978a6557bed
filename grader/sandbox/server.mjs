// The sandboxed side of the grader: runs inside bubblewrap (or, where there is none, as a plain
// child process), loads the student's modules and executes the calls the trusted test process
// sends over fd 3. Nothing here is trusted by the grader: every answer is data that the trusted
// side checks (the tests' assertions run there). What it reports about the student code's
// behaviour (blocked writes, processes started, uncaught errors) is labelled as reported from
// inside the sandbox.
import {createRequire} from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import {decode, encode, frame, frameReader, makeTensor, tensorsIn} from './codec.mjs';

const ROOT = process.env.GRADER_COURSE_DIR || '/course';
const MAX_MESSAGE = Number(process.env.GRADER_MAX_MESSAGE || 64 * 1024 * 1024);
const req = createRequire(path.join(ROOT, 'package.json'));
// the CommonJS module objects (what the student's compiled code requires), which can be wrapped
const fs = createRequire(import.meta.url)('node:fs');
const childProcess = createRequire(import.meta.url)('node:child_process');
const t0 = Date.now();
const tf = req('@tensorflow/tfjs');
tf.enableProdMode();
await tf.setBackend('cpu');

const events = [];
const note = (e) => { if (events.length < 200) events.push(e); };

// --- honest-mistake guards and best-effort observation (the student's code could undo these) ---
const realExit = process.exit.bind(process);
process.exit = (code) => {
  note({kind: 'exit-call', detail: `process.exit(${code ?? ''})`});
  throw new Error(`process.exit unexpectedly called with "${code ?? ''}"`);
};
const BLOCKED = new Set(['EROFS', 'EACCES', 'EPERM']);
for (const name of ['writeFileSync', 'appendFileSync', 'openSync', 'mkdirSync', 'rmSync', 'unlinkSync', 'renameSync', 'copyFileSync', 'symlinkSync', 'chmodSync', 'truncateSync', 'cpSync', 'rmdirSync']) {
  const orig = fs[name];
  if (typeof orig !== 'function') continue;
  fs[name] = function (...a) {
    try {
      return orig.apply(this, a);
    } catch (e) {
      if (BLOCKED.has(e?.code)) note({kind: 'write-blocked', detail: `${name} ${String(a[0]).slice(0, 200)}: ${e.code}`});
      throw e;
    }
  };
}
for (const name of ['writeFile', 'appendFile', 'mkdir', 'rm', 'unlink', 'rename', 'open', 'copyFile']) {
  const orig = fs.promises[name];
  if (typeof orig !== 'function') continue;
  fs.promises[name] = async function (...a) {
    try {
      return await orig.apply(this, a);
    } catch (e) {
      if (BLOCKED.has(e?.code)) note({kind: 'write-blocked', detail: `${name} ${String(a[0]).slice(0, 200)}: ${e.code}`});
      throw e;
    }
  };
}
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  const orig = childProcess[name];
  if (typeof orig !== 'function') continue;
  childProcess[name] = function (...a) { note({kind: 'spawn', detail: `${name} ${String(a[0]).slice(0, 200)}`}); return orig.apply(this, a); };
}

const PROC = /^\/proc\/(\d+|self|thread-self)\/(mem|environ|maps|fd|cmdline)/;
for (const name of ['readFileSync', 'openSync', 'readdirSync', 'readlinkSync']) {
  const inner = fs[name];
  fs[name] = function (...a) {
    if (PROC.test(String(a[0]))) note({kind: 'proc-read', detail: `${name} ${String(a[0]).slice(0, 100)}`});
    return inner.apply(this, a);
  };
}
// the test framework does not run here: loading it, or looking for its worker state, is noted
const Module = createRequire(import.meta.url)('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (typeof request === 'string' && /^(vitest|@vitest\/|vite-node)/.test(request) && !String(parent?.filename ?? '').includes('/node_modules/')) note({kind: 'test-framework', detail: `require('${request.slice(0, 80)}')`});
  return load.call(this, request, parent, isMain);
};
for (const key of ['__vitest_worker__', '__vitest_index__', '__vitest_environment__', '__vitest_required__', '__vitest_mocker__', '__vitest_browser__']) {
  let value;
  Object.defineProperty(globalThis, key, {
    configurable: true,
    get() { note({kind: 'test-framework', detail: `read globalThis.${key}`}); return value; },
    set(v) { note({kind: 'test-framework', detail: `set globalThis.${key}`}); value = v; },
  });
}
// built-ins the tests' comparisons rely on in a single process: patching them is noted (here they
// change only the sandbox's copies; the tests compare in their own process)
const {is: sameValue, getOwnPropertyNames: ownNames, getOwnPropertyDescriptor: ownDesc} = Object;
const BUILTINS = [['Math', Math], ['Number', Number], ['Object', Object], ['Array.prototype', Array.prototype], ['Object.prototype', Object.prototype],
  ['JSON', JSON], ['Function.prototype', Function.prototype], ['Promise.prototype', Promise.prototype], ['String.prototype', String.prototype], ['Reflect', Reflect]];
const snapshot = () => {
  const m = new Map();
  for (const [n, o] of BUILTINS) for (const k of ownNames(o)) {
    const d = ownDesc(o, k);
    m.set(`${n}.${k}`, d && ('value' in d ? d.value : d.get));
  }
  return m;
};
const pristineBuiltins = snapshot();
const patched = new Set();
function checkBuiltins() {
  const now = snapshot();
  const changed = [];
  for (const [k, v] of now) if ((!pristineBuiltins.has(k) || !sameValue(pristineBuiltins.get(k), v)) && !patched.has(k)) { patched.add(k); changed.push(k); }
  if (changed.length) note({kind: 'builtins', detail: `patched ${changed.slice(0, 8).join(', ')}${changed.length > 8 ? ` and ${changed.length - 8} more` : ''}`});
}

// --- state: loaded modules, mirrored variables, handles ---
const modules = new Map();
const vars = new Map(); // id -> tf.Variable (mirrors of the trusted side's variables)
const varIds = new Map(); // tf.Variable -> id
const handles = new Map(); // id -> object
const handleIds = new Map();
let nextHandle = 1;

function isClass(f) {
  try { return /^class[\s{]/.test(Function.prototype.toString.call(f)); } catch { return false; }
}
function isAsync(f) {
  return f?.constructor?.name === 'AsyncFunction';
}

function handleTag(v) {
  let id = handleIds.get(v);
  if (id === undefined) { id = nextHandle++; handleIds.set(v, id); handles.set(id, v); }
  const kind = typeof v === 'function' ? (isClass(v) ? 'class' : 'function') : 'object';
  let cls;
  try { cls = typeof v === 'function' ? v.name : v?.constructor?.name; } catch { cls = undefined; }
  return {$: 'h', id, kind, cls: typeof cls === 'string' ? cls.slice(0, 100) : undefined, async: typeof v === 'function' ? isAsync(v) : undefined};
}

const encCtx = {tf, tensor: (t) => (varIds.has(t) ? {$: 'v', id: varIds.get(t)} : undefined), object: handleTag};
const decCtx = {
  tf,
  variable: (tag) => {
    const v = vars.get(tag.id);
    if (!v) throw new Error(`grader: variable ${tag.id} was not sent`);
    return v;
  },
  handle: (tag) => {
    if (!handles.has(tag.id)) throw new Error('this object no longer exists in the sandbox (the sandbox was restarted after a crash or a timeout)');
    return handles.get(tag.id);
  },
};

function syncVars(list) {
  for (const x of list ?? []) {
    const t = makeTensor(tf, x);
    const v = vars.get(x.id);
    if (v && !v.isDisposed && v.shape.join() === t.shape.join() && v.dtype === t.dtype) {
      v.assign(t);
      t.dispose();
    } else {
      if (v && !v.isDisposed) v.dispose();
      const nv = tf.variable(t, x.trainable !== false);
      t.dispose();
      vars.set(x.id, nv);
      varIds.set(nv, x.id);
    }
  }
}
function dropVars(ids) {
  for (const id of ids ?? []) {
    const v = vars.get(id);
    if (v) { varIds.delete(v); if (!v.isDisposed) v.dispose(); vars.delete(id); }
  }
}
function varsOut() {
  const out = [];
  for (const [id, v] of vars) if (!v.isDisposed) out.push({id, ...encode(v, {tf})});
  return out;
}

function describe(v) {
  if (typeof v === 'function') return {kind: isClass(v) ? 'class' : 'function', async: isAsync(v), fname: typeof v.name === 'string' ? v.name.slice(0, 100) : ''};
  return {kind: 'value', value: encode(v, encCtx)};
}

function loadModule(file) {
  if (modules.has(file)) return modules.get(file);
  const abs = path.join(ROOT, file);
  const m = req(abs);
  modules.set(file, m);
  return m;
}

function resolveTarget(t) {
  if (t.h !== undefined) {
    const obj = decCtx.handle({id: t.h});
    if (t.method === undefined) return {fn: obj, self: undefined};
    const fn = obj[t.method];
    if (typeof fn !== 'function') throw new TypeError(`${t.method} is not a method of this object`);
    return {fn, self: obj};
  }
  const m = loadModule(t.file);
  return {fn: m[t.name], self: undefined, what: `${t.name} (exported by ${t.file})`};
}

const errFrames = (e) => String(e?.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l) && l.includes(ROOT + '/') && !l.includes('node_modules') && !l.includes('/grader/'))
  .slice(0, 4).map((l) => l.trim().replace(`${ROOT}/`, ''));

function errorTag(e) {
  if (e instanceof Error || (e && typeof e === 'object' && 'message' in e)) {
    let name = 'Error', message = '';
    try { name = String(e.name ?? 'Error'); message = String(e.message ?? ''); } catch { /* hostile getter */ }
    return {$: 'e', name: name.slice(0, 100), message: message.slice(0, 8000), frames: errFrames(e)};
  }
  let s;
  try { s = String(e); } catch { s = '(a value that cannot be printed)'; }
  return {$: 'e', name: 'Error', message: `threw a non-Error value: ${s.slice(0, 2000)}`, frames: []};
}

async function handle(msg) {
  switch (msg.op) {
    case 'load': {
      let m;
      try {
        m = loadModule(msg.file);
      } catch (e) {
        return {ok: false, error: errorTag(e), phase: 'import'};
      }
      const exports = {};
      for (const name of msg.names ?? []) if (Object.prototype.hasOwnProperty.call(m, name) && name !== 'default') exports[name] = describe(m[name]);
      const all = Object.keys(m).filter((k) => k !== '__esModule').slice(0, 200);
      const dflt = m.default !== undefined ? describe(m.default) : undefined;
      if (dflt?.kind === 'value') delete dflt.value;
      return {ok: true, exports, all, default: dflt};
    }
    case 'call': case 'new': case 'vjp': {
      dropVars(msg.dropVars);
      syncVars(msg.vars);
      const args = decode(msg.args ?? [], decCtx);
      const argTensors = tensorsIn(args, tf);
      const keep = new Set([...argTensors, ...vars.values()]);
      const {fn, self, what} = resolveTarget(msg.target);
      if (typeof fn !== 'function') return {ok: false, error: {$: 'e', name: 'TypeError', message: `${what ?? 'the target'} is not a function`}};
      const before = tf.memory().numTensors;
      let value;
      try {
        if (msg.op === 'vjp') {
          const dy = decode(msg.dy, decCtx);
          const xs = argTensors;
          const {value: y, grads} = tf.engine().gradients(() => fn.apply(self, args), xs, dy, true);
          value = grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
          y.dispose();
          dy.dispose();
        } else if (msg.op === 'new') {
          value = Reflect.construct(fn, args);
        } else {
          value = fn.apply(self, args);
          if (value && typeof value.then === 'function') {
            if (msg.sync) {
              value.then(() => {}, () => {});
              return {ok: false, error: {$: 'e', name: 'TypeError', message: `${msg.target.name ?? msg.target.method ?? 'the function'} returned a Promise, but the tests call it synchronously: remove \`async\` (and \`await\`) and return the result itself`}, vars: varsOut()};
            }
            value = await value;
          }
        }
      } catch (e) {
        return {ok: false, error: errorTag(e), vars: varsOut()};
      }
      const outTensors = tensorsIn(value, tf).filter((t) => !keep.has(t));
      const leak = tf.memory().numTensors - before - new Set(outTensors).size;
      let encoded;
      try {
        encoded = encode(value, encCtx);
      } catch (e) {
        return {ok: false, error: {$: 'e', name: 'TypeError', message: `the result cannot be sent to the tests: ${e.message}`}, vars: varsOut()};
      }
      // Nothing is disposed here: the student's code may keep what it was given or returned (a
      // cache, an optimiser's state), as it could in one process. An argument it disposed is
      // disposed on the trusted side too.
      const disposedArgs = argTensors.map((t, i) => (t.isDisposed && !varIds.has(t) ? i : -1)).filter((i) => i >= 0);
      return {ok: true, value: encoded, vars: varsOut(), leak, disposedArgs};
    }
    case 'get': {
      const obj = decCtx.handle({id: msg.h});
      let v;
      try {
        v = obj[msg.prop];
      } catch (e) {
        return {ok: false, error: errorTag(e)};
      }
      if (typeof v === 'function' && !isClass(v)) return {ok: true, method: true};
      return {ok: true, value: encode(v, encCtx), vars: varsOut()};
    }
    case 'set': {
      const obj = decCtx.handle({id: msg.h});
      syncVars(msg.vars);
      try {
        obj[msg.prop] = decode(msg.value, decCtx);
      } catch (e) {
        return {ok: false, error: errorTag(e)};
      }
      return {ok: true, vars: varsOut()};
    }
    case 'keys': {
      const obj = decCtx.handle({id: msg.h});
      return {ok: true, value: Object.keys(obj).slice(0, 500)};
    }
    default:
      return {ok: false, error: {$: 'e', name: 'Error', message: `unknown request ${msg.op}`}};
  }
}

const sock = new net.Socket({fd: 3, readable: true, writable: true});
const send = (obj) => {
  let f = frame(obj);
  if (f.length > MAX_MESSAGE) f = frame({id: obj.id, ok: false, error: {$: 'e', name: 'RangeError', message: `the result is ${f.length} bytes, more than the grader's limit of ${MAX_MESSAGE} bytes`}});
  sock.write(f);
};
const reader = frameReader(MAX_MESSAGE);
let queue = Promise.resolve();
sock.on('data', (chunk) => {
  let msgs;
  try { msgs = reader.push(chunk); } catch (e) { process.stderr.write(`grader sandbox: ${e.message}\n`); realExit(70); }
  for (const msg of msgs) {
    queue = queue.then(async () => {
      let res;
      try {
        res = await handle(msg);
      } catch (e) {
        res = {ok: false, error: errorTag(e)};
      }
      try { checkBuiltins(); } catch { /* a hostile getter */ }
      res.id = msg.id;
      res.events = events.splice(0);
      send(res);
    });
  }
});
process.on('uncaughtException', (e) => note({kind: 'uncaught', detail: String(e?.stack ?? e).split('\n').slice(0, 3).join(' | ').slice(0, 300)}));
process.on('unhandledRejection', (e) => note({kind: 'uncaught', detail: `unhandled rejection: ${String(e?.message ?? e).slice(0, 300)}`}));
sock.on('end', () => realExit(0));
sock.on('error', () => realExit(0));
send({ready: true, ms: Date.now() - t0});
