#!/usr/bin/env bash
# The test command.
#   bash scripts/test.sh [PYTEST ARGS]          installs what is needed, then lint, types,
#                                               layers, sizes and the whole test suite
#   bash scripts/test.sh --quick [PYTEST ARGS]  the inner loop: the same checks and the tests
#                                               without the `integration` marker (no
#                                               PostgreSQL, no real processes)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = "--quick" ]; then
    quick=1
    shift
fi
# both are no-ops (a few seconds) when everything is already installed
bash scripts/system-packages.sh
bash scripts/venv.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy
lint-imports
python scripts/check_sizes.py
if [ "$quick" = 1 ]; then
    set -- -m "not integration" "$@"
else
    # a throwaway PostgreSQL on loopback for the store tests (stopped when this script exits)
    eval "$(bash scripts/pg.sh start)"
    trap 'bash scripts/pg.sh stop' EXIT
fi
set +e
python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "pytest ran no tests: that is a failure"; exit 1; fi
exit "$rc"
