#!/usr/bin/env bash
# The README's main command: set up, execute the chapters, build the site and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COURSE_MODE=${COURSE_MODE:-quick}
export JUPYTER_PATH="$PWD/jupyter"
/usr/bin/python3 scripts/run_notebooks.py
if [ -f site/build.ts ]; then
  npm run --silent build:site
  exec npm run --silent serve
else
  echo "Executed chapters are in build/chapters/. Next: npm run notebook"
fi
