#!/usr/bin/env bash
# npm run notebook [-- ARGS]: classic Jupyter Notebook at the repository root with the course kernel.
# npm run lab [-- ARGS]:      JupyterLab from .venv/ (installed by npm run setup), same kernel.
# As root (containers, cloud machines) it adds --allow-root; without a display, --no-browser (the
# server prints the URL to open). Extra ARGS go to Jupyter, e.g. --port=8890.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
app=notebook
if [ "${1:-}" = --lab ]; then app=lab; shift; fi
if [ "$app" = lab ]; then
  prog="$ROOT/.venv/bin/jupyter-lab"
  if [ ! -x "$prog" ]; then
    if [ -f "$ROOT/build/lab-pip.log" ]; then
      echo "npm run lab: JupyterLab is not installed — npm run setup tried, but pip could not install it from its configured index (build/lab-pip.log). Configure pip's index (PyPI or a local mirror) and run npm run setup again, or use npm run notebook (classic Jupyter, same kernel)." >&2
    else
      echo "npm run lab: JupyterLab is not installed in .venv/ — run npm run setup (it installs it with pip), or use npm run notebook" >&2
    fi
    exit 1
  fi
else
  prog=$(command -v jupyter-notebook || true)
  [ -n "$prog" ] || { echo "npm run notebook: the program jupyter-notebook is missing — run npm run setup (Debian package jupyter-notebook)" >&2; exit 1; }
fi
[ -f node_modules/tslab/dist/main.js ] || { echo "npm run $app: node_modules/tslab is missing — run npm run setup" >&2; exit 1; }
export JUPYTER_PATH="$ROOT/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export PATH="$ROOT/node_modules/.bin:$PATH"
args=("--notebook-dir=$ROOT")
[ "$(id -u)" -eq 0 ] && args+=(--allow-root)
[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && args+=(--no-browser)
exec "$prog" "${args[@]}" "$@"
