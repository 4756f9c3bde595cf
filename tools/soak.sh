#!/usr/bin/env bash
# Soak test, on demand: tools/soak.sh HOURS [--restart-every SECONDS] [--out DIR]
# Continuous drops, edits, deletes, renames and searches against the real
# gongkaid with periodic SIGTERM/restart; memory and fd samples go to
# soak.csv; ends by checking the archive against the share and `gongkai verify`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
hours=${1:?usage: tools/soak.sh HOURS [--restart-every SECONDS] [--out DIR]}
shift
[ -x "$build/daemon/gongkaid" ] || BUILD_DIR=$build "$root/tools/build.sh"
exec python3 "$root/tools/soak.py" --gongkaid "$build/daemon/gongkaid" --gongkai "$build/daemon/gongkai" \
  --hours "$hours" "$@"
