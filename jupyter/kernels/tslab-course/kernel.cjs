#!/usr/bin/env node
// Jupyter kernel for this course: tslab 1.0.22 with the repository root as its
// TypeScript rootDir, so a notebook in chapters/ can write
//   import {softmax} from "../lib/attention/scores";
// Stock tslab sets rootDir to the notebook's folder (process.cwd()) and rejects
// ../lib ("is not under 'rootDir'"). tslab has no option or tsconfig for this, so
// expressions of its converter.js, executor.js and jupyter.js are rewritten in memory;
// node_modules is not modified. The kernel's cwd stays the notebook's folder.
// Besides the rootDir, the launcher makes the edit loop and errors what a learner expects:
//  - an edited lib/ file takes effect on the next run of a cell that imports it, also through
//    other lib files (tslab dropped only the changed module; importers kept the old copy);
//  - runtime errors name .ts files and lines (lib modules are compiled with source maps that map
//    the stack's lib frames; not Node's --enable-source-maps, which costs ~2 s and 50 MB for the
//    maps of tfjs) and the kernel's own frames are left out;
//  - a cell's execute_reply leaves before the next queued cell starts (a long synchronous cell
//    kept the previous one at In [*]);
//  - a message zeromq refuses with EBUSY (an earlier send still in flight) waits and is sent in
//    order (unhandled, it killed the kernel under load);
//  - a notebook outside the course folder gets a kernel that answers every cell with the reason
//    (message-kernel.py) instead of a kernel that dies at start.
// .cjs so that it stays CommonJS whatever package.json says.
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");
const childProcess = require("child_process");

// Jupyter starts kernels in the notebook's folder: the repo root is the nearest
// ancestor with node_modules/tslab (fallback: where this kernelspec lives).
function findRoot(start) {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "node_modules", "tslab", "dist", "main.js"))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}
const cwd = process.cwd();
const root = findRoot(cwd) || findRoot(__dirname);
const inside = root && !path.relative(root, cwd).startsWith("..");
if (!root || !inside) {
  const why = !root
    ? `no node_modules/tslab above ${cwd}; run \`npm run setup\` in the course folder`
    : `this notebook's folder ${cwd} is outside the course folder ${root}; the course kernel runs notebooks inside it (no node_modules/tslab above ${cwd}; run \`npm run setup\` in the course folder you want to use)`;
  messageKernel(`tslab-course kernel: ${why}`);
}

/** A kernel that starts and answers every cell with `msg` (Python: pyzmq + jupyter_client come with Jupyter). */
function messageKernel(msg) {
  console.error(msg);
  const script = path.join(__dirname, "message-kernel.py");
  for (const py of ["/usr/bin/python3", "python3"]) {
    const r = childProcess.spawnSync(py, [script, process.argv[2], msg], {stdio: "inherit"});
    if (!r.error) process.exit(r.status ?? 1);
  }
  process.exit(1);
}

// main.js requires ./converter etc. by their real paths: patch the modules under the same names
const dist = fs.realpathSync(path.join(root, "node_modules", "tslab", "dist"));
const repoRoot = root.split(path.sep).join("/");

function patchModule(file, edits, prefix) {
  const full = path.join(dist, file);
  let src = fs.readFileSync(full, "utf8");
  for (const [from, to, count = 1] of edits) {
    const n = src.split(from).length - 1;
    if (n !== count) {
      console.error(`tslab-course kernel: ${full} has ${n} matches of ${JSON.stringify(from)} (expected ${count}). ` +
        `This launcher is written for tslab 1.0.22; check the tslab version in package.json.`);
      process.exit(1);
    }
    src = src.split(from).join(to);
  }
  const mod = new Module(full, module);
  mod.filename = full;
  mod.paths = Module._nodeModulePaths(dist);
  mod._compile(prefix + src, full);
  mod.loaded = true;
  require.cache[full] = mod; // main.js's require("./<file>") now gets the patched module
}

// --- what the patched tslab code calls (globalThis: it reaches the patched modules and lib/progress)
const importers = new Map(); // compiled lib module -> the lib modules that imported it
const sourceMaps = new Map(); // compiled lib module (.js path) -> its .ts file and source map
const sendQueues = new WeakMap(); // zeromq socket -> messages waiting for an earlier send, in order
const notSent = (e) => process.stderr.write(`tslab-course kernel: a message was not sent: ${e && e.message}\n`);
/** Sends the waiting messages one by one, each after the previous one finished; EBUSY: wait 10 ms. */
async function drainLater(sock, q) {
  for (let tries = 0; q.length > 0;) {
    await new Promise((r) => setTimeout(r, 10));
    try { await sock.send(q[0]); q.shift(); tries = 0; } catch (e) {
      if (!e || e.code !== "EBUSY" || ++tries > 500) { notSent(e); q.shift(); tries = 0; }
    }
  }
}
const course = {
  root: repoRoot,
  /** importer (a lib module's .js path) required file (another lib module) */
  addImport(importer, file) {
    if (!importers.has(file)) importers.set(file, new Set());
    importers.get(file).add(importer);
  },
  /** file was recompiled: drop it and, transitively, every module that imported it */
  invalidate(file, sideModules, seen = new Set()) {
    if (seen.has(file)) return;
    seen.add(file);
    sideModules.delete(file);
    for (const parent of importers.get(file) || []) course.invalidate(parent, sideModules, seen);
  },
  /** lib/*.ts → CommonJS in one step with a source map, kept for formatError (tslab emits ESM, then
   * transpiles it again to CommonJS, which would break a map); JavaScript inputs keep tslab's path. */
  libModule(ts, sourceFile, esm, target, fallback) {
    if (!sourceFile || !/\.tsx?$/.test(sourceFile.fileName) || /\.d\.tsx?$/.test(sourceFile.fileName)) return fallback(esm, target);
    const out = ts.transpileModule(sourceFile.text, {
      fileName: sourceFile.fileName,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS, esModuleInterop: true, target, newLine: ts.NewLineKind.LineFeed,
        noImplicitUseStrict: true, experimentalDecorators: true, jsx: ts.JsxEmit.React, resolveJsonModule: true,
        sourceMap: true,
      },
    });
    const js = sourceFile.fileName.replace(/\.tsx?$/, ".js");
    sourceMaps.set(js, {ts: sourceFile.fileName, text: sourceFile.text, map: new Module.SourceMap(JSON.parse(out.sourceMapText))});
    return out.outputText.replace(/\n\/\/# sourceMappingURL=.*$/, "");
  },
  /** "/course/lib/a.js:88:11" → "lib/a.ts:74:16" for the lib modules compiled above */
  mapPosition(file, line, col) {
    const m = sourceMaps.get(file);
    const e = m && m.map.findEntry(line - 1, col - 1);
    if (!e || e.originalLine === undefined) return null;
    return `${m.ts}:${e.originalLine + 1}:${e.originalColumn + 1}`;
  },
  /** a cell's runtime error: the stack with .ts positions, paths relative to the course, no kernel frames */
  formatError(e) {
    if (!(e instanceof Error) || typeof e.stack !== "string") return e;
    const out = [], lines = e.stack.split("\n");
    // vm's "arrow" header (file:line, the source line, a caret) names the compiled .js: show the .ts line
    const head = /^(\S+\.js):(\d+)$/.exec(lines[0]);
    if (head && sourceMaps.has(head[1])) {
      const m = sourceMaps.get(head[1]), e0 = m.map.findEntry(+head[2] - 1, (lines[1] || "").search(/\S|$/));
      if (e0 && e0.originalLine !== undefined) {
        const caret = lines[2] !== undefined && /^\s*\^+\s*$/.test(lines[2]) ? 3 : 2;
        lines.splice(0, caret, `${m.ts}:${e0.originalLine + 1}`, m.text.split("\n")[e0.originalLine]);
      }
    }
    for (const line of lines) {
      let l = line.replace(/([^\s()]+\.js):(\d+):(\d+)/, (all, f, ln, c) => course.mapPosition(f, +ln, +c) || all)
        .split(repoRoot + "/").join("");
      if (/^\s+at /.test(l)) {
        if (/node_modules[\\/]tslab[\\/]|\(node:|^\s+at node:|^\s+at new Promise \(<anonymous>\)$/.test(l)) continue;
        l = l.replace(/\(?evalmachine\.<anonymous>:\d+:\d+\)?/, "(the cell)");
        if (l === out[out.length - 1]) continue;
      } else if (l.trim() === "" && (out.length === 0 || out[out.length - 1].trim() === "")) continue;
      out.push(l);
    }
    return out.join("\n");
  },
  /**
   * Sends a message to Jupyter now, as tslab did, unless earlier messages on the socket are waiting;
   * a send that zeromq refuses with EBUSY waits and is retried in order (drainLater). zeromq 6
   * refuses a send while an earlier send on the socket is still in flight (or the socket still
   * binds), and tslab did not handle it: on a loaded machine a progress-line update
   * (lib/progress.ts) in flight when a cell ended made the "idle" status fail and killed the
   * kernel (full-mode runs of chapters 1 and 2 at load ~19, in their training cells). Sending at
   * once, not from a promise queue, keeps updates flowing while a synchronous loop runs.
   */
  send(sock, frames) {
    const waiting = sendQueues.get(sock);
    if (waiting && waiting.length) { waiting.push(frames); return; }
    let sent;
    try { sent = sock.send(frames); } catch (e) { sent = Promise.reject(e); }
    Promise.resolve(sent).catch((e) => {
      if (!e || e.code !== "EBUSY") return notSent(e);
      const q = sendQueues.get(sock) || [];
      sendQueues.set(sock, q);
      q.push(frames);
      if (q.length === 1) drainLater(sock, q);
    });
  },
  /**
   * The heartbeat's echo. tslab sent it unguarded: a send that failed — "Socket is closed" when a
   * ping arrived while the kernel shut down (seen after a headless chapter run), EAGAIN when the
   * echoes queued up — was an unhandled rejection that printed a stack trace or killed the kernel.
   * A lost echo is only a late heartbeat, so it is dropped without a word. The loop awaits the echo
   * before it receives the next ping: a reply socket must send before it receives again.
   */
  echo(sock, frames) {
    try { return Promise.resolve(sock.send(frames)).catch(() => {}); } catch (e) { return Promise.resolve(); }
  },
  /** display_data / update_display_data on the running cell (lib/progress.ts) */
  display(bundle, update) {
    const write = require(path.join(dist, "jupyter.js")).lastWriteDisplayData;
    if (!write) return false;
    write(bundle, update);
    return true;
  },
};
globalThis.__courseKernel = course;
const prefix = "const __course = globalThis.__courseKernel, __repoRoot = __course.root;\n";

patchModule("converter.js", [
  // TypeScript rootDir: the repo root instead of the notebook folder
  ["rootDir: cwd,", "rootDir: __repoRoot,"],
  // the cell's output file then lies under outDir/<notebook folder relative to root>/
  ['(0, tspath_1.normalizeJoin)(outDir, "__tslab__.js")',
   '(0, tspath_1.normalizeJoin)(outDir, path_1.default.relative(__repoRoot, cwd), "__tslab__.js")'],
  ['(0, tspath_1.normalizeJoin)(outDir, "__tslab__.d.ts")',
   '(0, tspath_1.normalizeJoin)(outDir, path_1.default.relative(__repoRoot, cwd), "__tslab__.d.ts")'],
  // compiled lib/*.ts modules are registered under their real paths
  ["path: (0, tspath_1.normalizeJoin)(cwd, rel),", "path: (0, tspath_1.normalizeJoin)(__repoRoot, rel),"],
  // ... compiled straight to CommonJS with an inline source map
  ["data: esModuleToCommonJSModule(data, transpileTarget),",
   "data: __course.libModule(ts, builder.getSourceFile(dep), data, transpileTarget, esModuleToCommonJSModule),"],
  // show type errors of every file under the repo root (tslab drops the rest)
  ["const rel = path_1.default.relative(cwd, d.file.fileName);",
   "const rel = path_1.default.relative(__repoRoot, d.file.fileName);"],
], prefix);

patchModule("executor.js", [
  // remember which lib module imported which
  ["function wrapRequire(req, dirname, sideOutputs, sideModules) {",
   "function wrapRequire(req, dirname, sideOutputs, sideModules, importer) {"],
  ["        const cached = sideModules.get(filename);",
   "        if (importer && sideOutputs.has(filename)) __course.addImport(importer, filename);\n        const cached = sideModules.get(filename);"],
  ["mod.require = wrapRequire(mod.require, path_1.default.dirname(filename), sideOutputs, sideModules);",
   "mod.require = wrapRequire(mod.require, path_1.default.dirname(filename), sideOutputs, sideModules, filename);"],
  // a recompiled module invalidates its importers too
  ["            if (sideModules.has(out.path)) {\n                sideModules.delete(out.path);\n            }",
   "            __course.invalidate(out.path, sideModules);"],
  // runtime errors: mapped, trimmed stack
  ["console.error(e);", "console.error(__course.formatError(e));", 2],
], prefix);

// messages to Jupyter: sends that zeromq refuses with EBUSY are retried in order (see course.send)
patchModule("jupyter.js", [
  ["        sock.send(heads.concat(bodies));", "        __course.send(sock, heads.concat(bodies));"],
  // the heartbeat echo: awaited, a failed send is dropped (see course.echo)
  ["                        this.hb.send(msgs);", "                        await __course.echo(this.hb, msgs);"],
  // ... and its loop ends quietly when the socket closes under a pending receive (ENOTSOCK at shutdown)
  ["                finally { if (e_3) throw e_3.error; }", "                finally { /* the heartbeat loop ends with its socket */ }"],
], prefix);

// a queued cell starts one macrotask later, after the previous cell's execute_reply and idle status
// were sent (they are microtasks behind it; a long synchronous cell used to hold them back)
const {TaskQueue} = require(path.join(dist, "util.js"));
const add = TaskQueue.prototype.add;
TaskQueue.prototype.add = function (fn) {
  return add.call(this, () => new Promise((resolve) => setImmediate(resolve)).then(fn));
};

process.env.COURSE_ROOT = root;
require(path.join(dist, "main.js")).startKernel({
  configPath: process.argv[2], // the Jupyter connection file
  enableFindLocal: false,
  jsKernel: false,
});
