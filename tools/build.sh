#!/usr/bin/env bash
# Installs the dependencies (tools/install-deps.sh) and builds gongkai into
# ./build (override with BUILD_DIR). Extra arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/tools/install-deps.sh"
# GONGKAI_WERROR=ON (CI) makes every warning in gongkai's own code an error.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DGONGKAI_WERROR="${GONGKAI_WERROR:-OFF}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
