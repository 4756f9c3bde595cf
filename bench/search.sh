#!/usr/bin/env bash
# Search speed (issue 6, "Speed"): gongkaid's GET /api/v1/search with wrk at
# 1, 16 and 64 connections, next to nginx serving a static JSON file of the
# same size (the HTTP stack's ceiling on this machine) and next to the same
# queries run in-process on raw Xapian (bench/xapian_search_bench.cc), all in
# one run. See bench/README.md.
#
#   bench/search.sh                       # the archive of bench/out/verify-run-20000
#   SEARCH_ARCHIVE=DIR bench/search.sh    # DIR holds gongkai.conf (data_dir, tokens, share)
#   SEARCH_CONCURRENCY=N bench/search.sh  # the daemon's [index] concurrent_searches
#   SEARCH_SECONDS=15 SEARCH_XAPIAN_SECONDS=10 GONGKAID=... bench/search.sh
#   QUIET_WAIT=0 bench/search.sh          # do not wait (default: up to 600 s) for other compiles
set -euo pipefail
bench=search
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
secs=${SEARCH_SECONDS:-15}
xsecs=${SEARCH_XAPIAN_SECONDS:-10}
conns=(1 16 64)
run=$out/search-run
mkdir -p "$out"

[ -x "$gongkaid" ] || { echo "$bench: $gongkaid missing: cmake -S . -B build && make -C build -j1 gongkaid" >&2; exit 1; }
command -v wrk >/dev/null || apt_install wrk
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# --- the archive ----------------------------------------------------------------
archive=${SEARCH_ARCHIVE:-$out/verify-run-20000/gongkai}
if [ ! -f "$archive/gongkai.conf" ]; then
  # Build one as verify.sh does, with 2,000 pages (20,000 take a quarter hour).
  [ -f "$corpus" ] || { echo "$bench: no archive at $archive and no corpus at $corpus; skipping"; exit 0; }
  n=${SEARCH_PAGES:-2000}
  archive=$out/search-archive-$n
  echo "$bench: no archive; building one of $n pages in $archive"
  make_pages "$n"
  gk_setup "$archive"
  gk_start "$gongkaid" "$archive/gongkai.conf" "$archive/gongkaid.log"
  gk_wait_scan
  gk_ingest "$pages" "$archive/share" "$n" 1800
  stop_daemon
  [ "$outcome" = ok ] || { echo "$bench: building the archive: $outcome" >&2; exit 1; }
fi
data_dir=$(sed -n 's/^[[:space:]]*data_dir[[:space:]]*=[[:space:]]*//p' "$archive/gongkai.conf" | head -1)
[ -d "$data_dir/index" ] || { echo "$bench: $data_dir/index missing" >&2; exit 1; }

rm -rf "$run"; mkdir -p "$run"
token=$(head -c 24 /dev/urandom | xxd -p -c 64)
printf 'inspector %s bench\n' "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" > "$run/tokens"
# The archive's config with port 0, no anonymous rate limit or per-client
# connection cap (wrk's connections all come from loopback) and our token.
python3 - "$archive/gongkai.conf" "$run/gongkai.conf" "$run/tokens" <<'EOF'
import re, sys
src, dst, tokens = sys.argv[1:]
out, section = [], None
for line in open(src, encoding="utf-8").read().splitlines():
    m = re.match(r"\s*\[([^\]]+)\]", line)
    if m:
        section = m.group(1).strip()
        out.append(line)
        if section == "daemon":
            out.append("anonymous_search_rate = 0")
            out.append("max_connections_per_client = 0")
        continue
    key = line.split("=", 1)[0].strip()
    if section == "daemon" and key in ("listen", "anonymous_search_rate", "max_connections_per_client"):
        if key == "listen": out.append("listen = 127.0.0.1:0")
        continue
    if section == "auth" and key == "tokens_file":
        out.append("tokens_file = " + tokens)
        continue
    out.append(line)
open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")
EOF
grep -q '^\[auth\]' "$run/gongkai.conf" || printf '\n[auth]\ntokens_file = %s\n' "$run/tokens" >> "$run/gongkai.conf"
# SEARCH_CONCURRENCY=N: [index] concurrent_searches (1024: every search at
# once, as before the limit existed)
if [ -n "${SEARCH_CONCURRENCY:-}" ]; then
  if grep -q '^\[index\]' "$run/gongkai.conf"; then
    sed -i "/^\[index\]/a concurrent_searches = $SEARCH_CONCURRENCY" "$run/gongkai.conf"
  else
    printf '\n[index]\nconcurrent_searches = %s\n' "$SEARCH_CONCURRENCY" >> "$run/gongkai.conf"
  fi
fi

nginx_pid=
cleanup() {
  stop_daemon
  if [ -n "$nginx_pid" ]; then kill -TERM "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=; fi
}
trap cleanup EXIT

check_build_processes
wait_quiet "${QUIET_WAIT:-600}" || echo "$bench: WARNING: builds still running; figures will be noisy" >&2

# --- the raw-Xapian program -------------------------------------------------------
xbench=${XAPIAN_SEARCH_BENCH:-$root/build-bench/bench/xapian_search_bench}
if [ -z "${XAPIAN_SEARCH_BENCH:-}" ]; then
  echo "$bench: building xapian_search_bench in build-bench"
  cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DGONGKAI_BENCH=ON -DGONGKAI_TESTS=OFF > "$run/cmake.log" 2>&1 &&
    make -C "$root/build-bench" -j1 xapian_search_bench >> "$run/cmake.log" 2>&1 ||
    { echo "$bench: build failed; see $run/cmake.log" >&2; tail -20 "$run/cmake.log" >&2; exit 1; }
fi

# --- the daemon -------------------------------------------------------------------
# A copy of the binary: a build running meanwhile must not replace it under us.
cp "$gongkaid" "$run/gongkaid"
# Its extraction worker beside it (it is looked for there first).
[ ! -x "$(dirname "$gongkaid")/gongkai-extract" ] || cp "$(dirname "$gongkaid")/gongkai-extract" "$run/gongkai-extract"
echo "$bench: starting gongkaid on $data_dir"
# Not gk_start: after an upgrade the daemon may rebuild its index before it
# listens (minutes for 20,000 documents); wait up to 15 min for the port.
t0=$(now)
: > "$run/gongkaid.log"  # before the poll below reads it (the child opens it only after the fork)
"$run/gongkaid" --config "$run/gongkai.conf" 2> "$run/gongkaid.log" &
daemon_pid=$!
port=; last=0
while [ -z "$port" ]; do
  kill -0 "$daemon_pid" 2>/dev/null || { echo "$bench: gongkaid died; its log:" >&2; cat "$run/gongkaid.log" >&2; exit 1; }
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$run/gongkaid.log" | head -1)
  w=$(elapsed "$t0" "$(now)"); w=${w%.*}
  [ "$w" -lt 900 ] || { echo "$bench: no port after 900 s" >&2; exit 1; }
  if [ -z "$port" ] && [ "$w" -ge $((last + 15)) ]; then last=$w; echo "$bench:   ${w}s: not listening yet; last log line: $(tail -1 "$run/gongkaid.log" | cut -c1-160)"; fi
  [ -n "$port" ] || sleep 0.5
done
base=http://127.0.0.1:$port
auth=(-H "Authorization: Bearer $token")
listen_s=$(elapsed "$t0" "$(now)")
echo "$bench: listening on port $port after $listen_s s"
last=0; docs=
while :; do
  kill -0 "$daemon_pid" 2>/dev/null || { echo "$bench: gongkaid died; see $run/gongkaid.log" >&2; tail -5 "$run/gongkaid.log" >&2; exit 1; }
  s=$(gk_status); docs=$(json_num documents "$s"); queued=$(json_num queued "$s")
  [ -n "$docs" ] && [ "$queued" = 0 ] && break
  secs_waited=$(elapsed "$t0" "$(now)"); secs_waited=${secs_waited%.*}
  [ "$secs_waited" -lt 900 ] || { echo "$bench: queued still $queued after 900 s" >&2; exit 1; }
  if [ "$secs_waited" -ge $((last + 10)) ]; then last=$secs_waited; echo "$bench:   ${secs_waited}s: documents=${docs:-?} queued=${queued:-?}"; fi
  sleep 0.5
done
ready_s=$(elapsed "$t0" "$(now)")
echo "$bench: ready after $ready_s s: $docs documents, queued 0"

# --- the queries ------------------------------------------------------------------
# Taken from the gazette text (Traditional); q<TAB>type<TAB>sort.
cat > "$run/queries.tsv" <<'EOF'
行政
公告
預算
法規
補助
修正草案
施行細則
中華民國
勞動基準
環境保護
"行政院公報"
"自公布日施行"
"主管機關"
环境保护
公告事项
卫生福利部
国家发展委员会
交通部
公告	html	newest
修正	html	newest
EOF
python3 - "$run/queries.tsv" > "$run/paths" <<'EOF'
import sys, urllib.parse
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    q, *rest = line.split("\t") + ["", ""]
    p = "/api/v1/search?q=" + urllib.parse.quote(q, safe="")
    if rest[0]: p += "&type=" + rest[0]
    if rest[1]: p += "&sort=" + rest[1]
    print(p)
EOF
# Each query once: status, total, body size; keep the bodies.
mkdir -p "$run/bodies"
: > "$run/probe.tsv"
i=0
while read -r path; do
  i=$((i + 1))
  code=$(curl -s -o "$run/bodies/$i.json" -w '%{http_code}' "$base$path")
  total=$(json_get total < "$run/bodies/$i.json")
  printf '%s\t%s\t%s\t%s\n' "$code" "${total:-?}" "$(stat -c %s "$run/bodies/$i.json")" "$(sed -n "${i}p" "$run/queries.tsv" | tr '\t' ' ')" >> "$run/probe.tsv"
done < "$run/paths"
echo "$bench: the queries (HTTP status, total, body bytes, query):"
sed 's/^/  /' "$run/probe.tsv"
bad=$(awk -F'\t' '$1 != 200' "$run/probe.tsv" | wc -l)
[ "$bad" = 0 ] || echo "$bench: WARNING: $bad queries did not answer 200" >&2
# The static file: the body of median size.
median_i=$(awk -F'\t' '{print NR, $3}' "$run/probe.tsv" | sort -k2,2n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
mkdir -p "$run/nginx/www"
cp "$run/bodies/$median_i.json" "$run/nginx/www/search.json"
body_bytes=$(stat -c %s "$run/nginx/www/search.json")
echo "$bench: static file for nginx: body of query $median_i, $body_bytes bytes"

# --- wrk ---------------------------------------------------------------------------
results=$run/results.jsonl
: > "$results"
run_wrk() {  # run_wrk TOOL URL PATHS CONNECTIONS
  local tool=$1 url=$2 paths=$3 c=$4 t=2 line
  [ "$c" -ge 2 ] || t=1   # wrk needs connections >= threads
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$here/search.lua" "$url" -- "$paths" > "$run/wrk-$tool-$c.log" 2>&1 || true
  line=$(sed -n 's/^WRKJSON //p' "$run/wrk-$tool-$c.log")
  [ -n "$line" ] || { echo "$bench: wrk failed; see $run/wrk-$tool-$c.log" >&2; cat "$run/wrk-$tool-$c.log" >&2; return 1; }
  printf '{"tool": "%s", "connections": %d, "wrk_threads": %d, "wrk": %s}\n' "$tool" "$c" "$t" "$line" >> "$results"
  echo "$bench:   $tool c=$c: $(grep -E 'Requests/sec' "$run/wrk-$tool-$c.log" | tr -s ' ')"
}

# Issue 17's comparator, raw Xapian with gongkai's semantics: 2,000 checked
# matches, the facets' match spies, the words as typed ranked first and a
# snippet per hit. It runs right beside the gongkaid runs it is compared with
# (the daemon idle meanwhile): 1 thread before 1 connection, 2 threads before
# and after 16 connections, so a slower minute of a shared machine falls on
# both sides of the ratio.
raw_same() {  # raw_same THREADS TAG
  "$xbench" --db "$data_dir/index" --queries "$run/queries.tsv" --seconds "$xsecs" --threads "$1" \
    --check 2000 --spies --boost --snippets \
    --json "$run/xapian-semantics-$2.json" 2> "$run/xapian-semantics-$2.log" | sed "s/^/$bench:   ($2) /"
  printf '{"tool": "raw xapian, same semantics", "connections": %d, "tag": "%s", "xapian": %s}\n' \
    "$1" "$2" "$(cat "$run/xapian-semantics-$2.json")" >> "$results"
}

busy_before=$(cpu_busy)
daemon_cpu_ticks=0
for c in "${conns[@]}"; do
  case $c in
    1) raw_same 1 1t ;;
    16) raw_same 2 2t-before ;;
  esac
  cpu_before=$(gk_proc_cpu)
  run_wrk gongkaid "$base" "$run/paths" "$c"
  daemon_cpu_ticks=$((daemon_cpu_ticks + $(gk_proc_cpu) - cpu_before))
  [ "$c" != 16 ] || raw_same 2 2t-after
done
daemon_cpu_s=$((daemon_cpu_ticks / ticks))  # during the wrk runs only
peak_rss_kb=$(gk_peak_rss_kb)
log_problems=$(gk_log_problems "$run/gongkaid.log")
stop_daemon
echo "$bench: gongkaid stopped (exit $daemon_rc)"

# nginx on a free port, two workers, keep-alive capped at 100 requests like gongkaid.
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$run/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $run/nginx/nginx.pid;
error_log $run/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $run/nginx/tmp;
  proxy_temp_path $run/nginx/tmp;
  fastcgi_temp_path $run/nginx/tmp;
  uwsgi_temp_path $run/nginx/tmp;
  scgi_temp_path $run/nginx/tmp;
  keepalive_requests 100;
  keepalive_timeout 5s;
  server {
    listen 127.0.0.1:$nport;
    root $run/nginx/www;
    location / { default_type application/json; try_files /search.json =404; }
  }
}
EOF
mkdir -p "$run/nginx/tmp"
"$nginx_bin" -c "$run/nginx/nginx.conf" -p "$run/nginx" 2> "$run/nginx/stderr.log" &
nginx_pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.1; done
nginx_bytes=$(curl -s "http://127.0.0.1:$nport$(head -1 "$run/paths")" | wc -c)
echo "$bench: nginx on port $nport answers $nginx_bytes bytes"
for c in "${conns[@]}"; do run_wrk nginx "http://127.0.0.1:$nport" "$run/paths" "$c"; done
kill -TERM "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=

# --- raw Xapian -------------------------------------------------------------------
echo "$bench: raw Xapian, in-process, ${xsecs} s each"
for th in 1 2; do
  "$xbench" --db "$data_dir/index" --queries "$run/queries.tsv" --seconds "$xsecs" --threads "$th" \
    --json "$run/xapian-$th.json" 2> "$run/xapian-$th.log" | sed "s/^/$bench:   /"
  printf '{"tool": "raw xapian", "connections": %d, "xapian": %s}\n' "$th" "$(cat "$run/xapian-$th.json")" >> "$results"
done
"$xbench" --db "$data_dir/index" --queries "$run/queries.tsv" --seconds "$xsecs" --threads 1 --check-all \
  --json "$run/xapian-check-all.json" 2> "$run/xapian-check-all.log" | sed "s/^/$bench:   /"
printf '{"tool": "raw xapian, exact totals", "connections": 1, "xapian": %s}\n' "$(cat "$run/xapian-check-all.json")" >> "$results"
busy_s=$(( ($(cpu_busy) - busy_before) / ticks ))
busy_at_start=$busy
check_build_processes  # again: did builds or tests start meanwhile?

# --- table and JSON -----------------------------------------------------------------
python3 - "$results" "$out/search.json" <<EOF
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def norm(r):
    if "wrk" in r:
        w = r["wrk"]
        return dict(tool=r["tool"], connections=r["connections"], wrk_threads=r["wrk_threads"],
                    rps=w["requests"] / (w["duration_us"] / 1e6), p50_ms=w["p50_us"] / 1000, p99_ms=w["p99_us"] / 1000,
                    mean_ms=w["mean_us"] / 1000, max_ms=w["max_us"] / 1000, requests=w["requests"],
                    non2xx=w["non2xx"], socket_errors=w["socket_errors"])
    x = r["xapian"]
    out = dict(tool=r["tool"], connections=r["connections"], threads=x["threads"], rps=x["qps"],
               p50_ms=x["p50_ms"], p99_ms=x["p99_ms"], requests=x["queries"])
    if "tag" in r:
        out["tag"] = r["tag"]
    return out
rows = [norm(r) for r in rows]
nginx = {r["connections"]: r["rps"] for r in rows if r["tool"] == "nginx"}
nginx_best = max(nginx.values()) if nginx else 0
for r in rows:
    # raw Xapian: 1 thread against nginx at 1 connection, 2 threads against nginx's best
    ref = nginx.get(r["connections"]) if "xapian" not in r["tool"] or r["connections"] == 1 else nginx_best
    r["ratio_to_nginx"] = round(r["rps"] / ref, 5) if ref else None
print()
print(f"{'tool':<40}{'conn':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'/nginx':>9}  errors")
when = {"2t-before": ", before c=16", "2t-after": ", after c=16", "1t": ", before c=1"}
for r in rows:
    conn = r["connections"] if "threads" not in r else f"{r['threads']}t"
    ratio = f"{r['ratio_to_nginx']:.4f}" if r["ratio_to_nginx"] is not None else "-"
    err = r.get("non2xx", 0) + r.get("socket_errors", 0)
    print(f"{r['tool'] + when.get(r.get('tag'), ''):<40}{conn:>5}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{ratio:>9}  {err if 'non2xx' in r else '-'}")
g16 = next((r for r in rows if r["tool"] == "gongkaid" and r["connections"] == 16), None)
goals = {}
if g16:
    goals["p99_under_10ms_at_16"] = g16["p99_ms"] < 10
    goals["half_of_nginx_rps_at_16"] = (g16["ratio_to_nginx"] or 0) >= 0.5
    best = max(r["rps"] for r in rows if r["tool"] == "gongkaid")
    goals["half_of_nginx_best_rps"] = nginx_best > 0 and best / nginx_best >= 0.5
g1 = next((r for r in rows if r["tool"] == "gongkaid" and r["connections"] == 1), None)
# The comparator at 16 connections: the mean of the runs just before and after.
same2 = [r["rps"] for r in rows if r.get("tag") in ("2t-before", "2t-after")]
same1 = next((r for r in rows if r.get("tag") == "1t"), None)
if g16 and same2:
    same_rps = sum(same2) / len(same2)
    goals["issue17_rps_at_16_vs_raw_same_semantics"] = round(g16["rps"] / same_rps, 3)
    goals["issue17_rps_at_16_at_least_0.7x_raw"] = g16["rps"] >= 0.7 * same_rps
if g1:
    goals["issue17_p99_under_10ms_at_1"] = g1["p99_ms"] < 10
    if same1:  # what the same work costs raw Xapian, one query at a time
        goals["issue17_p99_at_1_raw_same_semantics_ms"] = same1["p99_ms"]
if g16:
    goals["issue17_p99_under_100ms_at_16"] = g16["p99_ms"] < 100
print()
print("goals (issues 6, 17):", ", ".join(f"{k}={v if not isinstance(v, bool) else ('met' if v else 'NOT met')}" for k, v in goals.items()))
doc = dict(
    archive="$archive", data_dir="$data_dir", documents=int("${docs:-0}"), listen_seconds=float("$listen_s"), ready_seconds=float("$ready_s"),
    seconds_per_wrk_run=$secs, seconds_per_xapian_run=$xsecs, static_body_bytes=$body_bytes,
    queries=[l.rstrip("\n") for l in open("$run/queries.tsv", encoding="utf-8")],
    probe=[l.rstrip("\n").split("\t") for l in open("$run/probe.tsv", encoding="utf-8")],
    gongkaid=dict(cpu_seconds_during_wrk=$daemon_cpu_s, wrk_seconds=$((secs * ${#conns[@]})), peak_rss_kb=int("${peak_rss_kb:-0}" or 0), log_problem_lines=int("$log_problems"),
                  exit=int("${daemon_rc:-0}")),
    machine=dict(nproc=$(nproc), load_at_start="$load_at_start", builds_running_at_start=$busy_at_start, builds_running_at_end=$busy, busy_cpu_seconds=$busy_s),
    results=rows, goals=goals,
    notes=["raw xapian excludes OpenCC folding (done once before timing), HTTP, JSON, facets (match spies), "
           "the catalog re-check of every hit and snippets; 'exact totals' adds get_mset(..., checkatleast=doccount) as gongkaid does for listings; "
           "'same semantics' checks 2,000 matches, runs the four facets' match spies, ranks the words as typed first and cuts a snippet per hit (MSet::snippet of the folded snippet text, as gongkai); "
           "it runs beside gongkaid's runs (1 thread before 1 connection, 2 threads before and after 16), and the ratio at 16 is against the mean of those two",
           "wrk uses 1 thread at 1 connection (it needs connections >= threads), 2 threads otherwise",
           "nginx: worker_processes auto, keepalive_requests 100 (gongkaid's cap), one static file of the median response size"])
json.dump(doc, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
print("written", sys.argv[2])
EOF
