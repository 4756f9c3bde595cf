#!/usr/bin/env bash
# README command 2: set everything up and run the whole test suite (unit,
# end-to-end against the real gongkaid binary, corpus tests when ../shared is
# present). Exit status is the suite's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
BUILD_DIR=$build "$root/tools/build.sh" -DGONGKAI_TESTS=ON
cd "$build"
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}" "$@"
