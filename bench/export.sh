#!/usr/bin/env bash
# Export benchmark: `gongkai export` (a BagIt bag streamed into a tar) and
# `gongkai verify-bag` over an archive, their time and peak RSS, next to GNU
# tar of the same blob folder (issue 7: a 10 GB export in constant memory).
#
#   bench/export.sh [SIZE_MB]        a fresh archive of 16 files of random bytes
#                                    totalling SIZE_MB (default 2000), built by gongkaid
#   bench/export.sh --conf FILE      an existing archive instead (e.g. the one
#                                    verify.sh built: bench/out/verify-run-20000/gongkai/gongkai.conf)
#
# Environment: GONGKAID, GONGKAI (default build/daemon/gongkaid and
# build/daemon/gongkai), FILES (files in the synthetic archive, default 16),
# BENCH_TIMEOUT (seconds to wait for gongkaid to archive them),
# ZIP=1 (also export a zip: deflate, CPU-bound on random bytes).
# Output: a table on stdout and bench/out/export.json. Peak RSS is the
# process's maximum resident set (getrusage), which is what "constant memory"
# is about: it must not grow with SIZE_MB. The bag is deleted afterwards.
set -euo pipefail

bench=export
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
gongkai=${GONGKAI:-$root/build/daemon/gongkai}
files=${FILES:-16}
size_mb=2000
conf=

while [ $# -gt 0 ]; do
  case $1 in
    --conf) conf=$(realpath "$2"); shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*|'') echo "export: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) size_mb=$1 ;;
  esac
  shift
done
for b in "$gongkaid" "$gongkai"; do
  [ -x "$b" ] || { echo "export: $b not found; build it first (or set GONGKAID=... GONGKAI=...)" >&2; exit 1; }
done

mkdir -p "$out"
check_build_processes
if [ -z "$conf" ]; then
  run=$out/export-run-$size_mb
  g=$run/gongkai
  conf=$g/gongkai.conf
  trap stop_daemon EXIT
  gk_setup "$g"
  echo "export: writing $files files of random bytes, $size_mb MB in all, into $g/share"
  per_file=$((size_mb * 1000000 / files))
  for i in $(seq 1 "$files"); do
    head -c "$per_file" /dev/urandom > "$g/share/file-$i.bin"
  done
  gk_start "$gongkaid" "$conf" "$g/gongkaid.log" || exit 1
  echo "export: gongkaid pid $daemon_pid archiving them"
  deadline=$((SECONDS + ${BENCH_TIMEOUT:-$((600 + size_mb / 10))}))
  until s=$("$gongkai" --config "$conf" status --json 2>/dev/null) &&
        [ "$(json_num documents "$s")" = "$files" ] && [ "$(json_num queued "$s")" = 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "export: gongkaid did not archive the files in time" >&2; exit 1; }
    sleep 1
  done
  stop_daemon
  rm -rf "$g/share"  # only the archive is measured; the share was a copy of it
else
  run=$out/export-run-conf
  mkdir -p "$run"
fi
data=$(sed -n 's/^data_dir *= *//p' "$conf")
case $data in /*) ;; *) data=$(dirname "$conf")/$data ;; esac
read -r blob_files blob_bytes < <(find "$data/blobs" -type f -printf '%s\n' | awk '{n++; s+=$1} END {printf "%d %.0f\n", n, s}')
echo "export: archive $data: $blob_files blobs, $blob_bytes bytes; warming the page cache"
find "$data" -type f -print0 | xargs -0 cat > /dev/null

results=$run/results.tsv
: > "$results"
measure() {  # measure NAME CMD...: one timed run, appended to results
  local name=$1; shift
  local log=$run/$(echo "$name" | tr ' /' '__').log
  read -r secs rss rc cpu _busy < <(timed "$log" "$@")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$rss" "$rc" "$cpu" >> "$results"
  echo "export:   $name: ${secs}s, peak RSS $((rss / 1024)) MB (exit $rc)"
  [ "$rc" = 0 ] || { echo "export: $name exited $rc:" >&2; tail -5 "$log" >&2; }
}
bag=$run/bag.tar
rm -f "$bag" "$run/bag.zip" "$run/blobs.tar"
measure "gongkai status (floor)" "$gongkai" --config "$conf" status --json
measure "gongkai export tar" "$gongkai" --config "$conf" export --out "$bag"
bag_bytes=$(stat -c %s "$bag")
measure "gongkai verify-bag" "$gongkai" verify-bag "$bag"
rm -f "$bag"
if [ "${ZIP:-0}" = 1 ]; then
  measure "gongkai export zip" "$gongkai" --config "$conf" export --out "$run/bag.zip"
  rm -f "$run/bag.zip"
fi
measure "tar -cf of blobs/" tar -cf "$run/blobs.tar" -C "$data" blobs
rm -f "$run/blobs.tar"

python3 - "$results" "$blob_files" "$blob_bytes" "$bag_bytes" "$data" "$out" "$load_at_start" "$busy" <<'EOF'
import json, os, sys, time
results, blob_files, blob_bytes, bag_bytes, data, out, load, busy = sys.argv[1:]
blob_bytes = int(blob_bytes)
rows = []
for line in open(results):
    name, secs, rss, rc, cpu = line.rstrip("\n").split("\t")
    rows.append({"tool": name, "seconds": float(secs), "peak_rss_mb": round(int(rss) / 1024, 1),
                 "exit_code": int(rc), "cpu_seconds": float(cpu),
                 "mb_per_s": None if name.startswith("gongkai status") else round(blob_bytes / 1e6 / float(secs), 1)})
report = {"benchmark": "export", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
          "archive": {"data_dir": data, "blobs": int(blob_files), "blob_bytes": blob_bytes},
          "bag_bytes": int(bag_bytes), "host": {"cpus": os.cpu_count(), "loadavg_at_start": load,
          "build_processes_at_start": int(busy)}, "results": rows,
          "valid": all(r["exit_code"] == 0 for r in rows)}
with open(os.path.join(out, "export.json"), "w") as f:
    json.dump(report, f, indent=1)
    f.write("\n")
print(f"\nexport: {int(blob_files)} blobs, {blob_bytes / 1e6:.0f} MB (MB = 10^6 bytes), page cache warm; bag {int(bag_bytes) / 1e6:.0f} MB")
print(f"{'':<24} {'seconds':>8} {'MB/s':>7} {'CPU s':>6} {'peak RSS MB':>12}")
for r in rows:
    rate = "" if r["mb_per_s"] is None else f"{r['mb_per_s']:.1f}"
    print(f"{r['tool']:<24} {r['seconds']:>8.2f} {rate:>7} {r['cpu_seconds']:>6.1f} {r['peak_rss_mb']:>12.1f}")
print("written:", os.path.join(out, "export.json"))
sys.exit(0 if report["valid"] else 1)
EOF
