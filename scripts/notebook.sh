#!/usr/bin/env bash
# Start classic Jupyter at the repository root with the course's kernel on JUPYTER_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export JUPYTER_PATH="$PWD/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export PATH="$PWD/node_modules/.bin:$PATH"
exec jupyter notebook --notebook-dir="$PWD" "$@"
