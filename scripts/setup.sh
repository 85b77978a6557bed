#!/usr/bin/env bash
# Idempotent set-up of the course on a fresh machine (safe to re-run):
#   1. Debian packages: Jupyter (notebook, nbconvert, nbclient, ipykernel, jupyter-client) and
#      Chromium for the site's browser tests — installed with apt when missing;
#   2. npm packages from package-lock.json (npm ci; skipped when node_modules is up to date);
#   3. the tfjs wasm binaries checked in node_modules (no network at run time), and the optional
#      native OpenBLAS GEMM built when gcc and libopenblas-dev are present;
#   4. the tslab-course Jupyter kernelspec registered for the current user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '[setup] %s\n' "$*"; }

# 20.19 is the first Node 20 that require()s ES modules (fast-png, loaded by lib/viz/vit.ts from tslab and tsx)
node_ok=$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 20 || (a === 20 && b >= 19) ? 1 : 0' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "[setup] Node.js 20.19 or newer is needed (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# --- 1. Debian packages ---------------------------------------------------------------------
PY=/usr/bin/python3
need_apt=()
"$PY" -c 'import nbclient, nbformat, nbconvert' 2>/dev/null || need_apt+=(python3-nbclient python3-nbconvert)
"$PY" -c 'import notebook' 2>/dev/null || need_apt+=(jupyter-notebook python3-ipykernel)
command -v jupyter-kernelspec >/dev/null 2>&1 || need_apt+=(jupyter-client)
if [ "${COURSE_SKIP_BROWSER:-0}" != 1 ]; then command -v chromium >/dev/null 2>&1 || need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    say "installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    cat >&2 <<MSG
[setup] apt-get is not available. Please install by hand:
  - Python 3 with Jupyter: pip install notebook nbclient nbconvert ipykernel
  - Chromium (only for the site's browser tests)
then re-run: npm run setup
MSG
    exit 1
  fi
else
  say "Debian packages: present"
fi

# --- 2. npm packages ------------------------------------------------------------------------
stamp=node_modules/.course-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d node_modules/tslab ]; then
  say "npm packages: up to date"
else
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# --- 3. tfjs wasm binaries ------------------------------------------------------------------
for f in tfjs-backend-wasm.wasm tfjs-backend-wasm-simd.wasm tfjs-backend-wasm-threaded-simd.wasm; do
  [ -f "node_modules/@tensorflow/tfjs-backend-wasm/dist/$f" ] || { echo "[setup] missing wasm binary $f in node_modules; re-run npm ci" >&2; exit 1; }
done
say "tfjs wasm binaries: present (loaded from node_modules)"

# --- 3b. optional native GEMM (OpenBLAS) for the wasm backend ------------------------------
# built when a compiler and OpenBLAS are there (Debian: gcc libopenblas-dev); says so when not.
# Off by default; COURSE_NATIVE_GEMM=1 turns it on (lib/core/native-gemm.ts, lib/core/README.md).
say "$(bash scripts/bench/build-native-gemm.sh 2>&1 | tail -1)"

# --- 4. kernelspec ---------------------------------------------------------------------------
if command -v jupyter >/dev/null 2>&1; then
  jupyter kernelspec install --user --name tslab-course "$ROOT/jupyter/kernels/tslab-course" >/dev/null 2>&1 \
    && say "Jupyter kernel 'TypeScript (course)' (tslab-course) registered for $(whoami)" \
    || say "could not register the kernelspec; the course's own commands use JUPYTER_PATH=$ROOT/jupyter instead"
fi
say "done"
