#!/usr/bin/env bash
# The style gate CI runs: clang-format (.clang-format) must leave every C++
# file of ours unchanged, and clang-tidy (.clang-tidy) must report nothing on
# any translation unit of the build in BUILD_DIR (default ./build, which must
# exist: tools/build.sh writes its compile_commands.json).
#
#   tools/style.sh           check both
#   tools/style.sh --fix     rewrite the files with clang-format (tidy is only checked)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cd "$root"
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^tests/fuzz/corpus/')
if [ "${1:-}" = --fix ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
echo "style: clang-format on ${#files[@]} files"
clang-format --dry-run --Werror "${files[@]}"
[ -f "$build/compile_commands.json" ] || { echo "style: no $build/compile_commands.json (run tools/build.sh first)" >&2; exit 2; }
# Our own sources only (tests and benchmarks included), not generated ones.
sources=$(git ls-files '*.cc' | grep -v '^tests/fuzz/' | sed "s|^|$root/|" | paste -sd'|')
command -v run-clang-tidy-14 >/dev/null || { echo "style: run-clang-tidy-14 is missing (apt-get install clang-tidy)" >&2; exit 2; }
echo "style: clang-tidy on the build's translation units"
log=$build/clang-tidy.log
run-clang-tidy-14 -p "$build" -j "$(nproc)" -quiet "($sources)\$" >"$log" 2>&1 || true
problems=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '(warning|error):' | grep -v 'warnings generated' | sort -u || true)
if [ -n "$problems" ]; then
  echo "$problems" >&2
  echo "style: clang-tidy found $(echo "$problems" | wc -l) problems (all of its output: $log)" >&2
  exit 1
fi
echo "style: clean"
