#!/usr/bin/env bash
# The long process-crash loop (the test suite runs a short one): kill -9 the
# real gongkaid at random moments while files keep arriving, ROUNDS times
# (default 34: 2,040 files, 34 kills), then check every file is archived
# exactly once with the right hash and `gongkai verify` is clean.
#   tools/crash.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=${1:-34}
[ -x "$build/tests/gongkai_e2e_tests" ] || BUILD_DIR=$build "$root/tools/build.sh" -DGONGKAI_TESTS=ON
echo "crash.sh: $rounds kills, $((60 * (rounds + 1))) files"
GONGKAI_CRASH_ROUNDS=$rounds "$build/tests/gongkai_e2e_tests" "crash: kill -9 during ingest loses and duplicates nothing" \
  --durations yes
