#!/usr/bin/env bash
# Builds gongkai with clang's sanitizers into ./build-MODE and runs the whole
# test suite under them (the e2e tests start the sanitized gongkaid).
#
#   tools/sanitize.sh address [CTEST ARGS]   AddressSanitizer + UndefinedBehaviorSanitizer,
#                                            plus the libFuzzer targets (each replays its kept inputs)
#   tools/sanitize.sh thread [CTEST ARGS]    ThreadSanitizer
#
# Any report fails the test that triggered it (halt_on_error, LeakSanitizer on).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case "$mode" in
  address) extra=(-DGONGKAI_FUZZ=ON) ;;
  thread) extra=() ;;
  *) echo "usage: tools/sanitize.sh address|thread [ctest arguments]" >&2; exit 2 ;;
esac
shift
build=${BUILD_DIR:-$root/build-$mode}
CC=clang CXX=clang++ BUILD_DIR=$build BUILD_TYPE=RelWithDebInfo \
  "$root/tools/build.sh" -DGONGKAI_TESTS=ON -DGONGKAI_SANITIZE="$mode" "${extra[@]}"
# The suppression files, where a daemon a test runs as another user (nobody)
# can read them too: the checkout may be out of its reach.
supp=$(mktemp -d /tmp/gongkai-sanitizers-XXXXXX)
cp "$root"/tests/sanitizers/*.supp "$supp"/
chmod 755 "$supp" && chmod 644 "$supp"/*
for s in /usr/lib/llvm-*/bin/llvm-symbolizer; do [ -x "$s" ] && export ASAN_SYMBOLIZER_PATH=$s TSAN_SYMBOLIZER_PATH=$s; done
# Suppressions (tests/sanitizers) name functions: without a symbolizer no
# report has names, none is suppressed, and every test fails on them.
[ -n "${TSAN_SYMBOLIZER_PATH:-}" ] || { echo "sanitize: no llvm-symbolizer (apt-get install llvm)" >&2; exit 2; }
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp
cd "$build"
# Sanitized code runs 2-10 times slower: one test at a time, generous timeouts.
ctest --output-on-failure --timeout 1800 -j "${TEST_JOBS:-1}" "$@"
