/**
 * The sandbox the student's code runs in: bubblewrap (Debian `bubblewrap`) with every namespace
 * unshared (no network, its own PID namespace: every process it starts dies with it), a read-only
 * view of only what the code needs (the system's /usr, node_modules, the student's copy of the
 * course's lib/ — never the tests, the grader, the reference solutions or the results folder), its
 * own small tmpfs as /tmp and HOME, dying with its parent, and rlimits (CPU time, data size, file
 * size, process count, no core files) plus a 1 GiB JavaScript heap. When the grader runs as root,
 * the sandboxed process runs as `nobody` without capabilities (the process limit does not bind root).
 * Where bubblewrap cannot run, `sandboxInfo()` says why and the grader runs the student's code in a
 * plain child process (still outside the trusted test process) and says so in every output.
 */
import {spawnSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface SandboxInfo {
  kind: 'bwrap' | 'none';
  /** why there is no sandbox (kind none) */
  reason?: string;
  bwrap?: string;
}

let cached: SandboxInfo | undefined;

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
    const p = path.join(d, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

/** Is bubblewrap there and able to create its namespaces here? (cached; GRADER_SANDBOX=none turns it off) */
export function sandboxInfo(): SandboxInfo {
  if (process.env.GRADER_SANDBOX === 'none') return {kind: 'none', reason: 'GRADER_SANDBOX=none was set'};
  if (cached) return cached;
  if (process.platform !== 'linux') return (cached = {kind: 'none', reason: `bubblewrap needs Linux (this is ${process.platform})`});
  const bwrap = which('bwrap');
  if (!bwrap) return (cached = {kind: 'none', reason: 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap'});
  if (isRoot() && !which('setpriv')) return (cached = {kind: 'none', reason: 'running as root without setpriv (util-linux) to drop to an unprivileged user in the sandbox'});
  const r = spawnSync(bwrap, [...namespaces(), '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', ...dropUser(), 'true'], {encoding: 'utf8', timeout: 20_000});
  if (r.status !== 0) return (cached = {kind: 'none', reason: `bubblewrap cannot create namespaces here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().slice(0, 300)}`});
  return (cached = {kind: 'bwrap', bwrap});
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * As root, bubblewrap mounts with root's rights (so the grader's files need not be readable by
 * anyone else on the way to them) and the sandboxed process then becomes `nobody` with no
 * capabilities and no_new_privs, inside the sandbox (so RLIMIT_NPROC binds: it does not bind
 * root). As a normal user, bubblewrap runs unprivileged in a user namespace.
 */
function namespaces(): string[] {
  return isRoot()
    ? ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP']
    : ['--unshare-all', '--cap-drop', 'ALL'];
}

function dropUser(): string[] {
  return isRoot() ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'] : [];
}

export interface Limits {
  /** CPU seconds for the whole sandboxed process (RLIMIT_CPU) */
  cpuSeconds: number;
  /** bytes of data (RLIMIT_DATA: heap, array buffers) */
  dataBytes: number;
  /** largest file it may write (RLIMIT_FSIZE) */
  fileBytes: number;
  /** processes and threads (RLIMIT_NPROC; counted per user, so only with the drop to nobody) */
  processes: number;
  /** V8 heap (--max-old-space-size), MiB */
  heapMiB: number;
  /** size of its /tmp (tmpfs) */
  tmpBytes: number;
}

export const DEFAULT_LIMITS: Limits = {cpuSeconds: 600, dataBytes: 2 * 1024 ** 3, fileBytes: 16 * 1024 ** 2, processes: 256, heapMiB: 1024, tmpBytes: 64 * 1024 ** 2};

export interface SandboxCommand {argv: string[]; env: Record<string, string>; cwd: string; sandboxed: boolean; note?: string}

const SERVER_DIR = __dirname;

/**
 * The command that runs grader/sandbox/server.mjs on a student's copy of the course (`box`: lib/,
 * package.json, an empty node_modules/ to mount over) with `nodeModules` read-only.
 */
export function sandboxCommand(box: string, nodeModules: string, limits: Limits = DEFAULT_LIMITS, info = sandboxInfo()): SandboxCommand {
  const node = process.execPath;
  const nodeArgs = [`--max-old-space-size=${limits.heapMiB}`, '--import', 'tsx', '--disable-warning=ExperimentalWarning'];
  const rl = [`--cpu=${limits.cpuSeconds}`, `--data=${limits.dataBytes}`, `--fsize=${limits.fileBytes}`, '--core=0'];
  const prlimit = which('prlimit');
  if (info.kind !== 'bwrap') {
    // no sandbox: a plain child process on the student's copy (node_modules linked in)
    const nm = path.join(box, 'node_modules');
    fs.rmSync(nm, {recursive: true, force: true});
    fs.symlinkSync(nodeModules, nm, 'dir');
    return {
      argv: [...(prlimit ? [prlimit, ...rl, '--'] : []), node, ...nodeArgs, path.join(SERVER_DIR, 'server.mjs')],
      env: {PATH: '/usr/bin:/bin', HOME: os.tmpdir(), TMPDIR: os.tmpdir(), GRADER_COURSE_DIR: box, COURSE_BACKEND: 'cpu', NODE_ENV: 'test', NO_COLOR: '1', TSX_DISABLE_CACHE: '1'},
      cwd: box, sandboxed: false, note: info.reason,
    };
  }
  // folders bubblewrap creates for mount points are root's 0700 in privileged mode: make each one
  // readable for `nobody` before anything is mounted below it
  const made = new Set<string>(['/']);
  const dirs = (to: string): string[] => {
    const out: string[] = [];
    for (let d = path.posix.dirname(to); !made.has(d); d = path.posix.dirname(d)) { made.add(d); out.unshift('--perms', '0755', '--dir', d); }
    return out;
  };
  const ro = (from: string, to = from) => [...dirs(to), '--ro-bind', from, to];
  const binds: string[] = [];
  for (const d of ['/usr', '/etc/alternatives', '/etc/ld.so.cache', '/etc/ssl/openssl.cnf']) if (fs.existsSync(d)) binds.push(...ro(d));
  for (const d of ['/lib', '/lib64', '/bin', '/sbin']) {
    let st: fs.Stats | undefined;
    try { st = fs.lstatSync(d); } catch { continue; }
    if (st.isSymbolicLink()) binds.push('--symlink', fs.readlinkSync(d), d);
    else binds.push(...ro(d));
  }
  const nodeDir = path.dirname(fs.realpathSync(node));
  if (!nodeDir.startsWith('/usr/')) binds.push(...ro(path.dirname(nodeDir), '/opt/node'));
  const nodeIn = nodeDir.startsWith('/usr/') ? fs.realpathSync(node) : path.join('/opt/node', path.basename(nodeDir), path.basename(node));
  const argv = [
    ...(prlimit ? [prlimit, ...rl, ...(isRoot() ? [`--nproc=${limits.processes}`] : []), '--'] : []),
    info.bwrap!,
    ...namespaces(), '--die-with-parent', '--new-session',
    ...binds,
    '--proc', '/proc', '--dev', '/dev',
    '--perms', '1777', '--size', String(limits.tmpBytes), '--tmpfs', '/tmp',
    ...ro(box, '/course'),
    ...ro(nodeModules, '/course/node_modules'),
    ...ro(SERVER_DIR, '/grader'),
    '--remount-ro', '/',
    '--chdir', '/course',
    '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'HOME', '/tmp', '--setenv', 'TMPDIR', '/tmp',
    '--setenv', 'GRADER_COURSE_DIR', '/course', '--setenv', 'COURSE_BACKEND', 'cpu', '--setenv', 'NODE_ENV', 'test', '--setenv', 'NO_COLOR', '1',
    '--setenv', 'TSX_DISABLE_CACHE', '1',
    '--',
    ...dropUser(),
    nodeIn, ...nodeArgs, '/grader/server.mjs',
  ];
  return {argv, env: {PATH: '/usr/bin:/bin'}, cwd: '/', sandboxed: true};
}

/** Files of the pristine copy the sandbox may see: the course's lib/ (stubs) and package.json, no tests. */
export function writeBox(pristine: string, box: string, studentFiles: Map<string, string>): void {
  const copy = (from: string, to: string) => {
    fs.mkdirSync(to, {recursive: true, mode: 0o755});
    for (const e of fs.readdirSync(from, {withFileTypes: true})) {
      const a = path.join(from, e.name), b = path.join(to, e.name);
      if (e.isDirectory()) copy(a, b);
      else if (e.isFile()) { fs.copyFileSync(a, b); fs.chmodSync(b, 0o644); }
    }
  };
  fs.mkdirSync(box, {recursive: true, mode: 0o755});
  fs.chmodSync(box, 0o755);
  if (fs.existsSync(path.join(pristine, 'lib'))) copy(path.join(pristine, 'lib'), path.join(box, 'lib'));
  for (const f of ['package.json', 'tsconfig.json']) if (fs.existsSync(path.join(pristine, f))) fs.copyFileSync(path.join(pristine, f), path.join(box, f));
  for (const [file, text] of studentFiles) {
    const to = path.join(box, file);
    fs.mkdirSync(path.dirname(to), {recursive: true, mode: 0o755});
    fs.writeFileSync(to, text, {mode: 0o644});
  }
  fs.mkdirSync(path.join(box, 'node_modules'), {mode: 0o755});
}
