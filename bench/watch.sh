#!/usr/bin/env bash
# Watching benchmarks (issue 4): how long the start-up scan of N unchanged
# files takes, and the latency from a file's close-write to its being
# searchable while files arrive at a steady rate. See bench/README.md.
#
#   bench/watch.sh [N]              N files for the scan (default 100000)
#   bench/watch.sh --quick          10,000 files, 10 s of arrivals
#   bench/watch.sh --only scan      or --only latency
#
# Environment: GONGKAID (default build/daemon/gongkaid), RUNS (timed restarts,
# default 3), RATE (files per second, default 100), DURATION (seconds of
# arrivals, default 30), SETTLE (default 200ms, as the other benchmarks),
# BENCH_TIMEOUT (seconds to wait for the first archive of the N files).
# Output: a table on stdout and bench/out/watch.json.
set -euo pipefail

bench=watch
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
n=100000 duration=${DURATION:-30} only=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) n=10000; duration=10 ;;
    --only) only=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*|'') echo "watch: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) n=$1 ;;
  esac
  shift
done
runs=${RUNS:-3} rate=${RATE:-100} settle=${SETTLE:-200ms}
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
[ -x "$gongkaid" ] || { echo "watch: $gongkaid not found; build it first (or set GONGKAID=...)" >&2; exit 1; }

mkdir -p "$out"
check_build_processes
trap stop_daemon EXIT
scan_json=null latency_json=null

# --- start-up scan of N unchanged files ----------------------------------------
# N small text files in folders of 100 are archived once (the start-up scan
# meets them all: a burst beyond the default queue capacity, too); then the
# daemon is restarted RUNS times and each start-up scan, which finds nothing
# to do, is timed by the daemon itself ("scanned share bench: N files, 0 to
# check in S s") and from the launch to that line.
if want scan; then
  g=$out/watch-scan-$n
  gk_setup "$g"
  sed -i "s/^settle .*/settle   = $settle/" "$g/gongkai.conf"
  echo "watch: writing $n files into $g/share"
  python3 - "$g/share" "$n" <<'EOF'
import os, sys
share, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(share, f"d{i // 100:04d}")
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}.txt"), "w", encoding="utf-8") as f:
        f.write(f"啟動掃描測試文件 第{i}號 scan{i}\n")
EOF
  gk_start "$gongkaid" "$g/gongkai.conf" "$g/gongkaid-first.log" || exit 1
  echo "watch: gongkaid pid $daemon_pid archiving them"
  t0=$(now)
  deadline=$((SECONDS + ${BENCH_TIMEOUT:-$((600 + n / 50))}))
  until s=$(gk_status) && [ "$(json_num documents "$s")" = "$n" ] && [ "$(json_num queued "$s")" = 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "watch: $n files not archived in time: $s" >&2; exit 1; }
    sleep 0.5
  done
  first_archive=$(elapsed "$t0" "$(now)")
  echo "watch: $n files archived and indexed in $first_archive s (from the launch)"
  stop_daemon

  scan_rows=
  for r in $(seq 1 "$runs"); do
    log=$g/gongkaid-scan-$r.log
    t0=$(now)
    gk_start "$gongkaid" "$g/gongkai.conf" "$log" || exit 1
    line=
    for _ in $(seq 1 6000); do
      line=$(grep -m1 "scanned share bench: " "$log" || true)
      [ -n "$line" ] && break
      sleep 0.05
    done
    wall=$(elapsed "$t0" "$(now)")
    [[ $line =~ :\ ([0-9]+)\ files,\ ([0-9]+)\ to\ check\ in\ ([0-9.]+)\ s ]] ||
      { echo "watch: no scan line in $log" >&2; exit 1; }
    rss=$(gk_peak_rss_kb)
    echo "watch: restart $r: scan of ${BASH_REMATCH[1]} files, ${BASH_REMATCH[2]} to check: ${BASH_REMATCH[3]} s (launch to scan line $wall s), peak RSS ${rss} kB"
    scan_rows+="{\"files\": ${BASH_REMATCH[1]}, \"to_check\": ${BASH_REMATCH[2]}, \"scan_s\": ${BASH_REMATCH[3]}, \"launch_to_scanned_s\": $wall, \"peak_rss_kb\": ${rss:-null}},"
    stop_daemon
  done
  scan_json="{\"files\": $n, \"first_archive_s\": $first_archive, \"runs\": [${scan_rows%,}]}"
fi

# --- close-write to searchable at RATE files per second ------------------------
# A writer creates RATE files per second for DURATION seconds (each written
# and closed at once; the time after close() is its start). A poller asks
# GET /api/v1/search?sort=newest (the newest 3 s worth of files, in pages of
# 100; inspector token, so no rate limit) every 50 ms and notes when each path
# first appears. Latency = first
# seen - closed; it includes the settle time, and the poll interval blurs it
# by up to 50 ms.
if want latency; then
  g=$out/watch-latency
  gk_setup "$g"
  sed -i "s/^settle .*/settle   = $settle/" "$g/gongkai.conf"
  gk_start "$gongkaid" "$g/gongkai.conf" "$g/gongkaid.log" || exit 1
  gk_wait_scan
  echo "watch: gongkaid pid $daemon_pid; $rate files/s for $duration s into $g/share"
  latency_json=$(python3 - "$g/share" "$base" "$token" "$rate" "$duration" <<'EOF'
import http.client, json, os, sys, threading, time, urllib.parse
share, base, token, rate, duration = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
host = urllib.parse.urlparse(base)
closed, seen, done, errors = {}, {}, threading.Event(), []

# "newest" sorts by the modified time in whole seconds, and ties come in no
# useful order: so each poll reads the newest few seconds' worth of files.
pages = int(3 * rate) // 100 + 1

def poll():
    conn, deadline = None, None
    while True:
        try:
            conn = conn or http.client.HTTPConnection(host.hostname, host.port, timeout=10)
            for page in range(pages):
                conn.request("GET", f"/api/v1/search?sort=newest&limit=100&offset={page * 100}",
                             headers={"Authorization": "Bearer " + token})
                body = conn.getresponse().read()
                now = time.monotonic()
                for r in json.loads(body)["results"]:
                    seen.setdefault(r["path"], now)
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:  # KeyError: an error answer
            errors.append(repr(e)[:200])
            conn = None
        if done.is_set():
            deadline = deadline or time.monotonic() + 60
            if all(p in seen for p in list(closed)) or time.monotonic() > deadline:
                return
        time.sleep(0.05)

poller = threading.Thread(target=poll)
poller.start()
total = int(rate * duration)
start = time.monotonic()
for i in range(total):
    delay = start + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    rel = f"lat{i // 1000:03d}/f{i:05d}.txt"
    os.makedirs(os.path.join(share, os.path.dirname(rel)), exist_ok=True)
    with open(os.path.join(share, rel), "w", encoding="utf-8") as f:
        f.write(f"延遲測試文件 第{i}號 latency{i}\n")
    closed[rel] = time.monotonic()
wrote = time.monotonic() - start
done.set()
poller.join()
lat = sorted(seen[p] - closed[p] for p in closed if p in seen)
pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else None
print(json.dumps({"files": total, "rate_per_s": round(total / wrote, 1), "found": len(lat),
                  "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0),
                  "poll_ms": 50, "poll_errors": len(errors), "first_error": errors[0] if errors else None}))
EOF
)
  echo "watch: latency $latency_json"
  stop_daemon
fi

python3 - "$out/watch.json" "$scan_json" "$latency_json" "$settle" "$busy" "$load_at_start" <<'EOF'
import json, sys
path, scan, latency, settle, busy, load = sys.argv[1:]
json.dump({"settle": settle, "build_processes_at_start": int(busy), "load_at_start": load,
           "scan": json.loads(scan), "latency": json.loads(latency)}, open(path, "w"), indent=1)
scan, latency = json.loads(scan), json.loads(latency)
if scan:
    print(f"\nstart-up scan of {scan['files']:,} unchanged files (first archived in {scan['first_archive_s']} s)")
    print("| run | scan s | launch to scanned s | peak RSS MB |\n|---:|---:|---:|---:|")
    for i, r in enumerate(scan["runs"], 1):
        print(f"| {i} | {r['scan_s']} | {r['launch_to_scanned_s']} | {(r['peak_rss_kb'] or 0) / 1024:.0f} |")
if latency:
    l = latency
    print(f"\nclose-write to searchable, {l['rate_per_s']} files/s, settle {settle}: {l['found']}/{l['files']} found")
    print(f"| p50 ms | p90 ms | p99 ms | max ms |\n|---:|---:|---:|---:|\n| {l['p50_ms']} | {l['p90_ms']} | {l['p99_ms']} | {l['max_ms']} |")
EOF
