#!/usr/bin/env bash
# All tests: type check, vitest, every chapter executed in Jupyter (quick mode), then in the browser (run mode).
# Ends with one plain summary line "N passed, N failed" covering everything it ran.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
export COURSE_MODE=${COURSE_MODE:-quick}
export JUPYTER_PATH="$PWD/jupyter"
export PATH="$PWD/node_modules/.bin:$PATH"
passed=0; failed=0; skipped=0
t0=$(date +%s)

echo "== type check (tsc, strict) =="
if node node_modules/typescript/bin/tsc -p .; then echo "typecheck: ok"; passed=$((passed+1)); else echo "typecheck: FAILED"; failed=$((failed+1)); fi

# counts of a vitest JSON report: "passed failed" (a suite that failed to load counts as failed)
vitest_counts() {
  node -e '
  try { const r = require(process.argv[1]);
        console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites || 0) + (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0)); }
  catch { console.log("0 1"); }' "$PWD/$1"
}

echo "== vitest =="
rm -f build/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=build/vitest.json
read -r vp vf < <(vitest_counts build/vitest.json)
passed=$((passed+vp)); failed=$((failed+vf))

# The numerical wasm tests once more on the pure wasm path (the run above uses the native kernels,
# the default when built): what a learner without a C compiler / OpenBLAS, or the browser, runs.
echo "== vitest, pure wasm path (COURSE_NATIVE=0) =="
rm -f build/vitest-wasm.json
COURSE_NATIVE=0 npx vitest run test/core/formulations-wasm.test.ts test/core/native-kernels-wasm.test.ts test/core/wasm-kernels-wasm.test.ts test/train/wasm.test.ts test/foundation/backend.test.ts \
  --reporter=default --reporter=json --outputFile.json=build/vitest-wasm.json
read -r vp vf < <(vitest_counts build/vitest-wasm.json)
passed=$((passed+vp)); failed=$((failed+vf))

echo "== Jupyter servers, headless (the README's npm run notebook / npm run lab) =="
# three servers at once (each on its own free port): as root, as user nobody, JupyterLab
/usr/bin/python3 scripts/check_jupyter.py > build/jupyter-1.log &
if [ "$(id -u)" -eq 0 ]; then /usr/bin/python3 scripts/check_jupyter.py --user nobody > build/jupyter-2.log & else : > build/jupyter-2.log; fi
/usr/bin/python3 scripts/check_jupyter.py --lab > build/jupyter-3.log &
wait
cat build/jupyter-1.log build/jupyter-2.log build/jupyter-3.log | tee build/jupyter.log
jp=$(grep -c '^ok ' build/jupyter.log || true); jf=$(grep -c '^FAIL ' build/jupyter.log || true); js=$(grep -c '^skip ' build/jupyter.log || true)
if [ "$jp" = 0 ] && [ "$jf" = 0 ]; then jf=1; fi
passed=$((passed+jp)); failed=$((failed+jf)); skipped=$((skipped+js))

echo "== chapters in Jupyter (COURSE_MODE=$COURSE_MODE) =="
/usr/bin/python3 scripts/run_notebooks.py | tee build/notebooks.log
np=$(grep -c '^ok ' build/notebooks.log || true); nf=$(grep -c '^FAIL ' build/notebooks.log || true)
if [ "$np" = 0 ] && [ "$nf" = 0 ]; then nf=1; fi
passed=$((passed+np)); failed=$((failed+nf))

# every chapter once more in the reader's browser (site run mode, quick, wasm), compared with the
# Jupyter run above (test/site/run-chapters.browser.ts); "Run all" times go to build/run-mode-times.json
echo "== chapters in the browser (run mode: quick, wasm, headless Chromium) =="
rm -f build/vitest-run-mode.json
npx vitest run --config test/site/run-chapters.vitest.mts --reporter=default --reporter=json --outputFile.json=build/vitest-run-mode.json
read -r vp vf < <(vitest_counts build/vitest-run-mode.json)
passed=$((passed+vp)); failed=$((failed+vf))

echo "== total: $(( $(date +%s) - t0 ))s =="
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
