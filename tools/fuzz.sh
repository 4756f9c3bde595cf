#!/usr/bin/env bash
# Runs one libFuzzer target (or all) for SECONDS each under ASan + UBSan.
#
#   tools/fuzz.sh NAME SECONDS    e.g. tools/fuzz.sh fuzz_extract_pdf 600
#   tools/fuzz.sh all SECONDS     FUZZ_JOBS at a time (default: the number of cores)
#   tools/fuzz.sh list
#
# Targets are in tests/fuzz; the build is ./build-address (tools/sanitize.sh
# address makes it; this script builds what is missing). Seeds: the kept inputs
# in tests/fuzz/corpus/NAME, plus matching files from ../shared/corpus when it
# is there. A crash is copied into tests/fuzz/corpus/NAME (commit it with the
# fix: it is replayed by the test suite from then on) and fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-address}
name=${1:-}
seconds=${2:-60}
targets=(fuzz_extract_txt fuzz_extract_html fuzz_extract_pdf fuzz_extract_docx fuzz_extract_xlsx fuzz_extract_archive
         fuzz_extract_odt fuzz_extract_ofd fuzz_sidecar fuzz_config fuzz_checkpoint fuzz_query fuzz_entry_data fuzz_http)
if [ "$name" = list ] || [ -z "$name" ]; then printf '%s\n' "${targets[@]}"; [ -n "$name" ]; exit; fi
build_targets() {  # the targets named, and the whole ASan build when there is none yet
  if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang CXX=clang++ BUILD_DIR=$build "$root/tools/build.sh" -DGONGKAI_TESTS=ON -DGONGKAI_SANITIZE=address -DGONGKAI_FUZZ=ON
  else
    cmake --build "$build" -j "$(nproc)" --target "$@" >/dev/null
  fi
}
if [ "$name" = all ]; then
  # FUZZ_JOBS targets at a time (default: one per core; each fuzzes on one),
  # each one's output printed whole when it ends. The build comes first, once.
  build_targets "${targets[@]}"
  out=$(mktemp -d /tmp/gongkai-fuzz-XXXXXX)
  printf '%s\n' "${targets[@]}" |
    FUZZ_BUILT=1 xargs -P "${FUZZ_JOBS:-$(nproc)}" -I{} sh -c \
      '"$0" {} "$1" >"$2/{}.out" 2>&1 || echo {} >>"$2/failed"; cat "$2/{}.out"' "$0" "$seconds" "$out"
  # No "failed" file means every target passed (a bare cat of it would fail
  # the script under pipefail).
  failed=
  [ ! -f "$out/failed" ] || failed=$(tr '\n' ' ' <"$out/failed")
  rm -rf "$out"
  [ -z "$failed" ] || { echo "fuzz.sh: FAILED: $failed" >&2; exit 1; }
  exit 0
fi
[[ " ${targets[*]} " == *" $name "* ]] || { echo "fuzz.sh: no target $name (tools/fuzz.sh list)" >&2; exit 2; }

[ -n "${FUZZ_BUILT:-}" ] || build_targets "$name"  # else built by the "all" run that started this one

work=$build/fuzz/$name
mkdir -p "$work/corpus" "$work/artifacts"
seeds=("$root/tests/fuzz/corpus/$name")
shared=$root/../shared/corpus
case "$name" in
  fuzz_extract_txt) pattern='*.txt' ;;
  fuzz_extract_html) pattern='*.htm*' ;;
  fuzz_extract_pdf) pattern='*.pdf' ;;
  fuzz_extract_docx) pattern='*.docx' ;;
  fuzz_extract_odt) pattern='*.odt' ;;
  fuzz_extract_archive) pattern='*.zip' ;;
  *) pattern= ;;
esac
if [ -n "$pattern" ] && [ -d "$shared" ]; then
  rm -rf "$work/shared-seeds"
  mkdir -p "$work/shared-seeds"
  n=0
  while IFS= read -r -d '' f; do  # numbered: the corpus repeats names in other folders
    n=$((n + 1))
    cp "$f" "$work/shared-seeds/$n-$(basename "$f")"
  done < <(find "$shared" -path "$shared/bench" -prune -o -type f -name "$pattern" -size -256k -print0)
  seeds+=("$work/shared-seeds")
elif [ -n "$pattern" ]; then
  echo "fuzz.sh: $shared not found; seeding $name from tests/fuzz/corpus only"
fi

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
# Readable reports where llvm-symbolizer is not on PATH (Debian ships it versioned).
for s in /usr/lib/llvm-*/bin/llvm-symbolizer; do [ -x "$s" ] && export ASAN_SYMBOLIZER_PATH=$s; done
export LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "fuzz.sh: $name for ${seconds}s"
set +e
# FUZZ_SEED fixes libFuzzer's random choices (CI sets it, so a run does not
# fail at random on a finding another run would not reach).
"$build/tests/fuzz/$name" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 -max_len=262144 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "${seeds[@]}" 2>"$work/log"
rc=$?
set -e
grep -aE '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$work/log" | sed "s/^/  $name: /"
if [ $rc -ne 0 ]; then
  tail -40 "$work/log"
  for f in "$work"/artifacts/*; do
    [ -f "$f" ] || continue
    cp "$f" "$root/tests/fuzz/corpus/$name/$(basename "$f")"
    echo "fuzz.sh: kept $(basename "$f") in tests/fuzz/corpus/$name"
  done
  echo "fuzz.sh: $name FAILED (exit $rc); log: $work/log" >&2
  exit 1
fi
