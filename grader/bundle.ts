/**
 * The Gradescope autograder bundle: `setup.sh` + `run_autograder` at the top, the grader
 * (scripts/grade.ts and grader/), its package.json and the pristine course (stubbed lib,
 * visible + hidden tests; no reference solution, so submissions cannot import it at run time).
 * Gradescope unzips it to /autograder/source, runs setup.sh once, then run_autograder per submission.
 */
import {zipSync} from 'fflate';
import * as fs from 'fs';
import * as path from 'path';
import {writePristine} from './release';
import {LoadedAssignment} from './spec';

const SETUP_SH = `#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu).
set -euo pipefail
cd "$(dirname "$0")"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  apt-get update
  apt-get install -y --no-install-recommends ca-certificates curl gnupg
  curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
  apt-get install -y --no-install-recommends nodejs
fi
# the sandbox for student code (bubblewrap; the grader says so in every output when it is missing)
if ! command -v bwrap >/dev/null 2>&1; then
  apt-get update && apt-get install -y --no-install-recommends bubblewrap || echo "setup.sh: could not install bubblewrap: submissions will be graded WITHOUT a sandbox"
fi
if node -e 'for (const m of ["vitest", "tsx", "@tensorflow/tfjs", "fflate", "typescript"]) require.resolve(m)' >/dev/null 2>&1; then
  echo "setup.sh: dependencies already installed"
else
  npm install --no-audit --no-fund
fi
node -e 'require("./pristine/assignment.json")' >/dev/null
echo "setup.sh: ready"
`;

const RUN_AUTOGRADER = `#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT (default /autograder) lets the course
# test this script in a simulated layout.
set -uo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
mkdir -p "$ROOT/results"
cd "$SRC"
rm -f "$ROOT/results/results.json"
nice -n 10 node node_modules/tsx/dist/cli.mjs scripts/grade.ts --quiet \\
  --pristine "$SRC/pristine" --node-modules "$SRC/node_modules" \\
  --out "$SRC/grading-output" --gradescope "$ROOT/results/results.json.tmp" \\
  "$ROOT/submission"
status=$?
if [ -s "$ROOT/results/results.json.tmp" ]; then
  mv -f "$ROOT/results/results.json.tmp" "$ROOT/results/results.json"
else
  printf '{"score": 0, "output": "The autograder failed (exit %s) before writing results; please tell your teacher.", "tests": []}\\n' "$status" > "$ROOT/results/results.json"
fi
exit 0
`;

export interface Bundle {dir: string; zip: string; files: string[]}

function walk(d: string, base = d): string[] {
  return fs.readdirSync(d, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(d, e.name);
    if (e.name === 'node_modules') return [];
    return e.isDirectory() ? walk(p, base) : [path.relative(base, p)];
  });
}

/** The grader's own code (TypeScript and the .mjs files vitest and the sandbox load), without docs. */
function copyGrader(from: string, to: string): void {
  fs.mkdirSync(to, {recursive: true});
  for (const e of fs.readdirSync(from, {withFileTypes: true})) {
    if (e.isDirectory()) copyGrader(path.join(from, e.name), path.join(to, e.name));
    else if (e.isFile() && /\.(ts|mjs)$/.test(e.name)) fs.copyFileSync(path.join(from, e.name), path.join(to, e.name));
  }
}

export function writeBundle(a: LoadedAssignment, outDir: string): Bundle {
  const {root, spec} = a;
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) {
    if (!fs.existsSync(path.join(outDir, 'autograder', 'run_autograder'))) throw new Error(`${outDir} exists and is not an autograder bundle; choose an empty or new folder`);
    fs.rmSync(outDir, {recursive: true, force: true});
  }
  const dir = path.join(outDir, 'autograder');
  fs.mkdirSync(path.join(dir, 'scripts'), {recursive: true});
  writePristine(a, path.join(dir, 'pristine'));
  fs.copyFileSync(path.join(root, 'scripts', 'grade.ts'), path.join(dir, 'scripts', 'grade.ts'));
  copyGrader(path.join(root, 'grader'), path.join(dir, 'grader'));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {dependencies: Record<string, string>; devDependencies: Record<string, string>};
  const all = {...pkg.dependencies, ...pkg.devDependencies};
  const pristinePkg = JSON.parse(fs.readFileSync(path.join(dir, 'pristine', 'package.json'), 'utf8')) as {dependencies: Record<string, string>};
  const deps: Record<string, string> = {...pristinePkg.dependencies};
  for (const n of ['vitest', 'tsx', 'typescript', 'fflate', '@types/node']) deps[n] = all[n]!;
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({
    name: `attention-course-${spec.id}-autograder`, version: '1.0.0', private: true,
    description: `Gradescope autograder for ${spec.title}`, engines: {node: '>=20'},
    dependencies: Object.fromEntries(Object.entries(deps).sort(([x], [y]) => x.localeCompare(y))),
  }, null, 2)}\n`);
  // the grader finds its course root by package.json + assignments/
  fs.mkdirSync(path.join(dir, 'assignments', spec.id), {recursive: true});
  fs.copyFileSync(path.join(dir, 'pristine', 'assignment.json'), path.join(dir, 'assignments', spec.id, 'assignment.json'));
  fs.writeFileSync(path.join(dir, 'setup.sh'), SETUP_SH, {mode: 0o755});
  fs.writeFileSync(path.join(dir, 'run_autograder'), RUN_AUTOGRADER, {mode: 0o755});
  const files = walk(dir).sort();
  const entries: Record<string, [Uint8Array, {os: number; attrs: number}]> = {};
  for (const f of files) {
    const mode = fs.statSync(path.join(dir, f)).mode & 0o777;
    entries[f.split(path.sep).join('/')] = [new Uint8Array(fs.readFileSync(path.join(dir, f))), {os: 3, attrs: ((0o100000 | mode) << 16) >>> 0}];
  }
  const zip = path.join(outDir, 'autograder.zip');
  fs.writeFileSync(zip, zipSync(entries as unknown as Parameters<typeof zipSync>[0]));
  return {dir, zip, files};
}
