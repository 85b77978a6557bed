#!/usr/bin/env bash
# Idempotent set-up of the course on a fresh machine (safe to re-run):
#   1. Debian packages: Jupyter (notebook, nbconvert, nbclient, ipykernel, jupyter-client), venv,
#      gcc + libopenblas-dev for the native kernels (skipped with COURSE_NATIVE=0), and bubblewrap
#      (the grader's sandbox for student code) — installed
#      with apt when a program is missing;
#   2. npm packages from package-lock.json (npm ci; skipped when node_modules is up to date);
#   3. the tfjs wasm binaries checked in node_modules (no network at run time), and the native
#      kernels (OpenBLAS GEMM + vectorised elementwise kernels, used by default) built;
#   4. the tslab-course Jupyter kernelspec registered for the current user;
#   5. the git filter that keeps a learner's outputs out of commits of chapters/*.ipynb;
#   6. JupyterLab in a virtual environment .venv/ (pip, from pip's configured index; optional).
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
# Check for the programs (and, for libraries, import in isolated mode -I from /), never for a name
# that a folder of the course could shadow: the check must fail exactly when the command would.
has() { command -v "$1" >/dev/null 2>&1; }
pymod() { (cd / && "$PY" -I -c "import $1") >/dev/null 2>&1; }
need_apt=()
has "$PY" || need_apt+=(python3)
has jupyter-notebook || need_apt+=(jupyter-notebook)
has jupyter-execute || need_apt+=(python3-nbclient)
pymod nbconvert || need_apt+=(python3-nbconvert)
pymod ipykernel || need_apt+=(python3-ipykernel)
has jupyter-kernelspec || need_apt+=(jupyter-client)
pymod ensurepip || need_apt+=(python3-venv)
# Chromium for the site's browser tests and screenshots
if [ "${COURSE_SKIP_BROWSER:-0}" != 1 ]; then has chromium || need_apt+=(chromium); fi
# the grader's sandbox for student code (grader/sandbox): bubblewrap, and setpriv/prlimit (util-linux)
has bwrap || need_apt+=(bubblewrap)
has prlimit || need_apt+=(util-linux)
# the native kernels (lib/core/native/build.sh): a C compiler and OpenBLAS with its headers
if [ "${COURSE_NATIVE:-1}" != 0 ]; then
  has gcc || need_apt+=(gcc)
  compgen -G '/usr/include/*/cblas.h' >/dev/null || [ -f /usr/include/cblas.h ] || [ -f /usr/include/openblas/cblas.h ] || need_apt+=(libopenblas-dev)
fi
if [ "${1:-}" = --check-apt ]; then  # what would be installed, nothing more (used by the tests)
  echo "missing Debian packages: ${need_apt[*]:-none}"; exit 0
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    say "installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    for prog in jupyter-notebook jupyter-execute jupyter-kernelspec; do
      has "$prog" || { echo "[setup] $prog is still missing after apt-get install ${need_apt[*]}" >&2; exit 1; }
    done
  else
    cat >&2 <<MSG
[setup] apt-get is not available. Please install by hand:
  - Python 3 with Jupyter: pip install "notebook<7" nbclient nbconvert ipykernel (and the venv module)
  - Chromium (only for the site's browser tests)
  - a C compiler and OpenBLAS headers for the fast native kernels (e.g. gcc, openblas-devel);
    without them the course runs on the slower pure wasm path
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

# --- 3b. native kernels (OpenBLAS) for the wasm backend -------------------------------------
# used by default after a start-up self-check (lib/core/native-kernels.ts); COURSE_NATIVE=0 turns
# them off. Rebuilt on every setup (about a second), so a pulled change of the C source is picked up.
if [ "${COURSE_NATIVE:-1}" != 0 ]; then
  say "$(bash lib/core/native/build.sh 2>&1 | tail -1)"
else
  say "native kernels: skipped (COURSE_NATIVE=0)"
fi

# --- 4. kernelspec ---------------------------------------------------------------------------
if command -v jupyter >/dev/null 2>&1; then
  jupyter kernelspec install --user --name tslab-course "$ROOT/jupyter/kernels/tslab-course" >/dev/null 2>&1 \
    && say "Jupyter kernel 'TypeScript (course)' (tslab-course) registered for $(whoami)" \
    || say "could not register the kernelspec; the course's own commands use JUPYTER_PATH=$ROOT/jupyter instead"
fi
# --- 5. git filter: a learner's outputs never reach a commit ---------------------------------
# .gitattributes applies it to chapters/*.ipynb only (site/full-runs/ keeps its outputs).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git config filter.course-strip-outputs.clean "$PY scripts/strip_outputs.py"
  say "git filter course-strip-outputs: chapters/*.ipynb are committed without outputs"
fi

# --- 6. JupyterLab (optional) in .venv/ ------------------------------------------------------
# Debian 12 does not package JupyterLab: pip installs it into a git-ignored virtual environment,
# from pip's configured index. Without that index, setup says so and goes on.
if [ "${COURSE_SKIP_LAB:-0}" = 1 ]; then
  say "JupyterLab: skipped (COURSE_SKIP_LAB=1)"
elif [ -x .venv/bin/jupyter-lab ]; then
  say "JupyterLab: present ($(.venv/bin/jupyter-lab --version 2>/dev/null)) in .venv/"
else
  say "JupyterLab: installing into .venv/ with pip (about a minute)"; mkdir -p build
  if { [ -x .venv/bin/pip ] || "$PY" -m venv .venv; } \
     && .venv/bin/pip install --quiet --retries 0 --timeout 20 --disable-pip-version-check jupyterlab >build/lab-pip.log 2>&1 \
     && [ -x .venv/bin/jupyter-lab ]; then
    rm -f build/lab-pip.log
    say "JupyterLab: $(.venv/bin/jupyter-lab --version) installed in .venv/ (npm run lab)"
  else
    say "JupyterLab: NOT installed — pip could not install jupyterlab from its configured index (see build/lab-pip.log); npm run notebook works without it"
  fi
fi
say "done"
