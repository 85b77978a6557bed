#!/usr/bin/env node
// Jupyter kernel for this course: tslab 1.0.22 with the repository root as its
// TypeScript rootDir, so a notebook in chapters/ can write
//   import {softmax} from "../lib/attention/scores";
// Stock tslab sets rootDir to the notebook's folder (process.cwd()) and rejects
// ../lib ("is not under 'rootDir'"). tslab has no option or tsconfig for this, so
// five expressions of its converter.js are rewritten in memory; node_modules is
// not modified. The kernel's cwd stays the notebook's folder.
// .cjs so that it stays CommonJS whatever package.json says.
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");

// Jupyter starts kernels in the notebook's folder: the repo root is the nearest
// ancestor with node_modules/tslab (fallback: where this kernelspec lives).
function findRoot(start) {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "node_modules", "tslab", "dist", "main.js"))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}
const root = findRoot(process.cwd()) || findRoot(__dirname);
if (!root) {
  console.error(`tslab-course kernel: no node_modules/tslab above ${process.cwd()}; run \`npm run setup\` in the course folder`);
  process.exit(1);
}
const dist = path.join(root, "node_modules", "tslab", "dist");
const convPath = path.join(dist, "converter.js");
let src = fs.readFileSync(convPath, "utf8");
const edits = [
  // TypeScript rootDir: the repo root instead of the notebook folder
  ["rootDir: cwd,", "rootDir: __repoRoot,"],
  // the cell's output file then lies under outDir/<notebook folder relative to root>/
  ['(0, tspath_1.normalizeJoin)(outDir, "__tslab__.js")',
   '(0, tspath_1.normalizeJoin)(outDir, path_1.default.relative(__repoRoot, cwd), "__tslab__.js")'],
  ['(0, tspath_1.normalizeJoin)(outDir, "__tslab__.d.ts")',
   '(0, tspath_1.normalizeJoin)(outDir, path_1.default.relative(__repoRoot, cwd), "__tslab__.d.ts")'],
  // compiled lib/*.ts modules are registered under their real paths
  ["path: (0, tspath_1.normalizeJoin)(cwd, rel),", "path: (0, tspath_1.normalizeJoin)(__repoRoot, rel),"],
  // show type errors of every file under the repo root (tslab drops the rest)
  ["const rel = path_1.default.relative(cwd, d.file.fileName);",
   "const rel = path_1.default.relative(__repoRoot, d.file.fileName);"],
];
for (const [from, to] of edits) {
  const n = src.split(from).length - 1;
  if (n !== 1) {
    console.error(`tslab-course kernel: ${convPath} has ${n} matches of ${JSON.stringify(from)} (expected 1). ` +
      `This launcher is written for tslab 1.0.22; check the tslab version in package.json.`);
    process.exit(1);
  }
  src = src.replace(from, to);
}
src = `const __repoRoot = ${JSON.stringify(root.split(path.sep).join("/"))};\n` + src;
const conv = new Module(convPath, module);
conv.filename = convPath;
conv.paths = Module._nodeModulePaths(dist);
conv._compile(src, convPath);
conv.loaded = true;
require.cache[convPath] = conv; // main.js's require("./converter") now gets the patched module
process.env.COURSE_ROOT = root;

require(path.join(dist, "main.js")).startKernel({
  configPath: process.argv[2], // the Jupyter connection file
  enableFindLocal: false,
  jsKernel: false,
});
