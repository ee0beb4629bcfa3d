#!/usr/bin/env bash
# The test command: installs what is needed, then lint, types, layers and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
bash scripts/venv.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy
lint-imports
# a throwaway PostgreSQL on loopback for the store tests (stopped when this script exits)
eval "$(bash scripts/pg.sh start)"
trap 'bash scripts/pg.sh stop' EXIT
set +e
python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "pytest ran no tests: that is a failure"; exit 1; fi
exit "$rc"
