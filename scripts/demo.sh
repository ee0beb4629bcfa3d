#!/usr/bin/env bash
# The demo command: installs what is needed and runs hall-console --demo
# (hub, simulated cameras and incoming reports on an embedded SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
bash scripts/venv.sh
export PATH="$PWD/.venv/bin:$PATH"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display: running under xvfb-run (screenshots in ./var/)" >&2
  exec xvfb-run -a -s "-screen 0 1920x1080x24" hall-console --demo "$@"
fi
exec hall-console --demo "$@"
