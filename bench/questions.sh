#!/usr/bin/env bash
# Citizens' questions at scale (issue 18): N gazette pages of
# ../shared/corpus/bench archived by gongkaid, questions about them made by
# tests/questions.py (the test split's frames), asked one at a time (one
# connection) strictly (relax=0, the behaviour before relaxation) and as
# answered (relaxed where the strict query is nearly empty), in one run:
# success@1, success@10, zero results and latency p50/p99 side by side, next
# to the same words typed plainly and answered strictly (today's usual search).
# Writes bench/out/questions-N.json. See bench/README.md.
#
#   bench/questions.sh            # 2,000 pages
#   QUESTION_PAGES=20000 bench/questions.sh
set -euo pipefail
bench=questions
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
n=${QUESTION_PAGES:-2000}
run=$out/questions-run-$n
[ -x "$gongkaid" ] || { echo "$bench: $gongkaid missing: tools/build.sh" >&2; exit 1; }
[ -f "$corpus" ] || { echo "$bench: SKIPPED: no corpus at $corpus"; exit 0; }
/usr/bin/python3 -c 'import jieba' 2>/dev/null || apt_install python3-jieba

make_pages "$n"
gk_setup "$run"
# No anonymous rate limit: the questions come quickly from one client.
sed -i 's/^settle   = 200ms$/settle   = 200ms\nanonymous_search_rate = 0/' "$run/gongkai.conf"
trap stop_daemon EXIT
gk_start "$gongkaid" "$run/gongkai.conf" "$run/gongkaid.log"
gk_wait_scan
echo "$bench: archiving $n pages"
gk_ingest "$pages" "$run/share" "$n" 3600
[ "$outcome" = ok ] || { echo "$bench: ingest: $outcome" >&2; exit 1; }
check_build_processes
wait_quiet "${QUIET_WAIT:-600}" || echo "$bench: WARNING: builds still running; latencies will be noisy" >&2

questions=$root/tests/questions.py
for kind in questions plain; do
  /usr/bin/python3 "$questions" generate --bench-pages "$pages" --bench-source "$corpus" --split test \
    $([ $kind = plain ] && echo --plain) > "$run/$kind.tsv"
done
# The questions strictly and relaxed; the same words without question frames
# strictly: the usual search of today, the latency relaxation is held to.
for mode in strict relaxed plain; do
  relax=$([ "$mode" = relaxed ] && echo 1 || echo 0)
  file=$run/$([ "$mode" = plain ] && echo plain || echo questions).tsv
  python3 "$questions" eval --url "$base" --questions "$file" --param relax=$relax \
    --label "$mode" --json "$run/$mode.json"
done
python3 - "$run" "$n" "$out/questions-$n.json" <<'PY'
import json, sys
run, n, dst = sys.argv[1:]
figures = {m: json.load(open(f"{run}/{m}.json")) for m in ("strict", "relaxed", "plain")}
ratio = figures["relaxed"]["p99_ms"] / max(figures["plain"]["p99_ms"], 1e-9)
json.dump({"pages": int(n), **figures, "p99_relaxed_to_plain": ratio}, open(dst, "w"), indent=1)
print(f"questions: p99 of relaxed questions / p99 of plain strict searches = {ratio:.2f} ({dst})")
PY
