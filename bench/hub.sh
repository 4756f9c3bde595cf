#!/usr/bin/env bash
# The county hub at scale (issue 16): simulated townships on loopback
# (bench/hub_townships.cc, one process serving every node's signed log and
# public pages) mirrored by the real gongkai-hub on a real PostgreSQL. In one run:
#   1. a single gongkaid ingesting NODE_PAGES pages: the node's rate to compare with;
#   2. the hub's first sync of every township: documents verified, extracted
#      and indexed per second, and per CPU-second, peak memory;
#   3. hub search p50/p99 with wrk at 1 and 16 connections over all shards,
#      next to raw Xapian on the same shards (bench/xapian_search_bench.cc);
#   4. a new document at one township: seconds until the hub finds it;
#   5. one township rewriting its history: seconds until the hub refuses it;
#   6. 10 % of the townships down: seconds until all are marked stale, and
#      search p50/p99 at 1 connection meanwhile.
# See bench/README.md.
#
#   bench/hub.sh                                200 townships x 1,000 pages
#   HUB_NODES=20 HUB_PAGES=100 bench/hub.sh     a quick run
#   HUB_SYNC_INTERVAL=10s HUB_SYNC_WORKERS=0 HUB_SHARDS=8 NODE_PAGES=2000 SEARCH_SECONDS=15 bench/hub.sh
#   HUB_BUILD=build bench/hub.sh                a build of yours (-DGONGKAI_BENCH=ON)
set -euo pipefail
bench=hub
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nodes=${HUB_NODES:-200}
per_node=${HUB_PAGES:-1000}
interval=${HUB_SYNC_INTERVAL:-10s}
sync_workers=${HUB_SYNC_WORKERS:-0}
shards=${HUB_SHARDS:-8}
node_pages=${NODE_PAGES:-2000}
secs=${SEARCH_SECONDS:-15}
total=$((nodes * per_node))
run=$out/hub-run
[ -f "$corpus" ] || { echo "$bench: no corpus at $corpus; skipping"; exit 0; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || apt_install postgresql
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
command -v wrk >/dev/null || apt_install wrk
rm -rf "$run"; mkdir -p "$run"

# --- build ----------------------------------------------------------------------
# HUB_BUILD=DIR: a build made with -DGONGKAI_BENCH=ON to use as it is.
bin=${HUB_BUILD:-$root/build-bench}
if [ -z "${HUB_BUILD:-}" ]; then
  echo "$bench: building Release binaries in build-bench"
  cmake -S "$root" -B "$bin" -DCMAKE_BUILD_TYPE=Release -DGONGKAI_BENCH=ON -DGONGKAI_TESTS=OFF > "$run/build.log" 2>&1 &&
    cmake --build "$bin" -j "$(nproc)" --target gongkaid gongkai-hub gongkai-extract hub_townships xapian_search_bench >> "$run/build.log" 2>&1 ||
    { echo "$bench: build failed; see $run/build.log" >&2; tail -20 "$run/build.log" >&2; exit 1; }
fi
check_build_processes
wait_quiet "${QUIET_WAIT:-600}" || echo "$bench: WARNING: builds still running; figures will be noisy" >&2

# The pages: every distinct one the townships serve (page j of node k is
# page (k * HUB_PAGES + j) mod F), and the node's own run.
f=$((total < 20000 ? total : 20000))
make_pages "$f"
town_pages=$pages

# --- 1. one node's ingest rate ------------------------------------------------------
n1=$((node_pages < f ? node_pages : f))
make_pages "$n1"
echo "$bench: 1. one gongkaid ingesting $n1 pages"
gk_setup "$run/node"
gk_start "$bin/daemon/gongkaid" "$run/node/gongkai.conf" "$run/node/gongkaid.log"
gk_wait_scan
cpu0=$(gk_proc_cpu)
gk_ingest "$pages" "$run/node/share" "$n1" 1800
node_cpu=$(( $(gk_proc_cpu) - cpu0 ))
stop_daemon
[ "$outcome" = ok ] || { echo "$bench: the node's ingest: $outcome" >&2; exit 1; }
node_s=$(elapsed "$t0" "$t_done")
node_rate=$(python3 -c "print(round($n1 / $node_s, 1))")
node_rate_cpu=$(python3 -c "print(round($n1 / ($node_cpu / $ticks), 1))")
echo "$bench:   $n1 pages in $node_s s: $node_rate docs/s, $node_rate_cpu docs per CPU-second"
rm -rf "$run/node/data" "$run/node/share"

# --- PostgreSQL, the townships, the hub ------------------------------------------------
pg=$run/pg
mkdir -p "$pg"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then chown nobody "$pg"; as_owner=(runuser -u nobody --); fi
"${as_owner[@]}" "$pg_bin/initdb" -D "$pg/data" -U gongkai --auth=trust --no-sync --no-locale -E UTF8 > "$run/pg-init.log" 2>&1
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$pg'" start > /dev/null
towns_pid=
cleanup() {
  stop_daemon  # the hub (started by gk_start, as the node was)
  [ -z "$towns_pid" ] || { kill -TERM "$towns_pid" 2>/dev/null || true; wait "$towns_pid" 2>/dev/null || true; }
  "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg/data" -m immediate -w stop > /dev/null 2>&1 || true
}
trap cleanup EXIT

echo "$bench: starting $nodes simulated townships of $per_node pages each (from $f distinct pages)"
"$bin/bench/hub_townships" --pages-dir "$town_pages" --nodes "$nodes" --pages "$per_node" \
  --nodes-out "$run/nodes.conf" > "$run/towns.log" 2>&1 &
towns_pid=$!
for _ in $(seq 1 1200); do grep -q '^ready' "$run/towns.log" && break; kill -0 "$towns_pid" || break; sleep 0.5; done
towns_port=$(sed -n 's/^ready //p' "$run/towns.log")
[ -n "$towns_port" ] || { echo "$bench: the townships did not start:" >&2; cat "$run/towns.log" >&2; exit 1; }
control() { curl -sf "http://127.0.0.1:$towns_port/_control/$1"; }

mkdir -p "$run/hub"
cat > "$run/hub/gongkai-hub.conf" <<EOF
[hub]
data_dir = $run/hub/data
listen = 127.0.0.1:0
postgres = host=$pg user=gongkai dbname=postgres
name = hub.bench.gongkai.test
sync_interval = $interval
sync_workers = $sync_workers
shards = $shards
http_threads = 32

$(cat "$run/nodes.conf")
EOF
hub_status() { curl -s -m 30 "$hub/api/v1/status" || true; }
# mirror_sum FIELD: the sum over the nodes of status.nodes[].FIELD (numbers; booleans count as 1)
mirror_sum() { hub_status | python3 -c '
import json, sys
try: nodes = json.load(sys.stdin).get("nodes", {})
except ValueError: nodes = {}
print(sum(int(n.get(sys.argv[1]) or 0) for n in nodes.values()))' "$1"; }

echo "$bench: 2. the hub's first sync of $total pages ($interval between syncs, sync_workers=$sync_workers, shards=$shards)"
t_start=$(now)
gk_start "$bin/daemon/gongkai-hub" "$run/hub/gongkai-hub.conf" "$run/hub/hub.log"  # same CLI and log line
hub_pid=$daemon_pid hub=$base
hub_rss_kb() {  # peak of the hub, current of its workers
  local kb=0 pid
  kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$hub_pid/status")
  for pid in $(pgrep -P "$hub_pid" 2>/dev/null); do
    kb=$((kb + $(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$kb"
}
last=0; docs=0; peak_kb=0
while :; do
  kill -0 "$hub_pid" 2>/dev/null || { echo "$bench: the hub died:" >&2; tail -20 "$run/hub/hub.log" >&2; exit 1; }
  docs=$(mirror_sum documents)
  kb=$(hub_rss_kb); [ "$kb" -le "$peak_kb" ] || peak_kb=$kb
  [ "$docs" -ge "$total" ] && break
  w=$(elapsed "$t_start" "$(now)"); w=${w%.*}
  [ "$w" -lt "${HUB_TIMEOUT:-7200}" ] || { echo "$bench: $docs of $total documents after $w s" >&2; exit 1; }
  if [ "$w" -ge $((last + 15)) ]; then last=$w; echo "$bench:   ${w}s: $docs documents mirrored, $((peak_kb / 1024)) MB"; fi
  sleep 1
done
t_synced=$(now)
sync_cpu=$(gk_proc_cpu)  # the hub's and its workers' (daemon_pid is the hub)
sync_s=$(elapsed "$t_start" "$t_synced")
sync_rate=$(python3 -c "print(round($total / $sync_s, 1))")
sync_rate_cpu=$(python3 -c "print(round($total / ($sync_cpu / $ticks), 1))")
index_mb=$(du -sm "$run/hub/data/mirror" | cut -f1)
echo "$bench:   $total documents in $sync_s s: $sync_rate docs/s, $sync_rate_cpu per CPU-second;" \
  "peak $((peak_kb / 1024)) MB (hub + workers); shards $index_mb MB"

# --- 3. search ----------------------------------------------------------------------
cat > "$run/queries.tsv" <<'EOF'
行政
公告
預算
法規
補助
修正草案
施行細則
勞動基準
环境保护
卫生福利部
"主管機關"
交通部
EOF
python3 - "$run/queries.tsv" > "$run/paths" <<'EOF'
import sys, urllib.parse
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    print("/api/v1/search?q=" + urllib.parse.quote(line.split("\t")[0], safe=""))
EOF
results=$run/results.jsonl
: > "$results"
run_wrk() {  # run_wrk LABEL CONNECTIONS
  local label=$1 c=$2 t=2 line
  [ "$c" -ge 2 ] || t=1
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$here/search.lua" "$hub" -- "$run/paths" > "$run/wrk-$label-$c.log" 2>&1 || true
  line=$(sed -n 's/^WRKJSON //p' "$run/wrk-$label-$c.log")
  [ -n "$line" ] || { echo "$bench: wrk failed; see $run/wrk-$label-$c.log" >&2; return 1; }
  printf '{"run": "%s", "connections": %d, "wrk": %s}\n' "$label" "$c" "$line" >> "$results"
  echo "$bench:   hub search ($label), $c connection(s): $(python3 -c '
import json, sys
w = json.loads(sys.argv[1])
print("%.0f req/s, p50 %.1f ms, p99 %.1f ms, non-2xx %d" % (w["requests"] * 1e6 / w["duration_us"],
      w["p50_us"] / 1000, w["p99_us"] / 1000, w["non2xx"]))' "$line")"
}
dbs=()
for d in "$run/hub/data/mirror"/*/; do dbs+=(--db "$d"); done
echo "$bench: 3. search over $nodes townships in $((${#dbs[@]} / 2)) shards"
for c in 1 16; do run_wrk all-up "$c"; done
for t in 1 2; do
  "$bin/bench/xapian_search_bench" "${dbs[@]}" --queries "$run/queries.tsv" --seconds "$secs" --threads "$t" \
    --check 2000 --spies --boost --json "$run/xapian-$t.json" > "$run/xapian-$t.log" 2>&1
  echo "$bench:   raw Xapian, $t thread(s): $(tail -1 "$run/xapian-$t.log")"
done

# --- 4. a new document --------------------------------------------------------------
# The townships of scenarios 4 and 5: neither among those down in 6 (the first ones).
# await WHAT START CONDITION...: polls CONDITION until it holds (at most 600 s
# after START, a now() time); sets waited to the seconds since START.
await() {
  local what=$1 start=$2 w
  shift 2
  until "$@"; do
    w=$(elapsed "$start" "$(now)")
    [ "${w%.*}" -lt 600 ] || { echo "$bench: $what: not within 600 s" >&2; exit 1; }
    sleep 0.2
  done
  waited=$(elapsed "$start" "$(now)")
}
add_node=$((nodes / 2)) fork_node=$((nodes - 1))
fork_name=$(printf 't%03d' "$fork_node")
echo "$bench: 4. a new document at $(printf 't%03d' "$add_node")"
marker=QZHUBNEW$RANDOM
t_add=$(now)
control "add?node=$add_node&marker=$marker" > /dev/null
found_new() { [ "$(json_num total "$(curl -s "$hub/api/v1/search?q=$marker")")" = 1 ]; }
await "the new document found at the hub" "$t_add" found_new
new_s=$waited
echo "$bench:   searchable at the hub after $new_s s (sync interval $interval)"

# --- 5. a split view ----------------------------------------------------------------
echo "$bench: 5. $fork_name rewrites its history"
refused0=$(mirror_sum refused)
t_fork=$(now)
control "fork?node=$fork_node" > /dev/null
refused_more() { [ "$(mirror_sum refused)" -gt "$refused0" ]; }
await "the rewritten history refused" "$t_fork" refused_more
fork_s=$waited
grep -m1 "mirror $fork_name: REFUSED" "$run/hub/hub.log" | cut -c1-200 | sed "s/^/$bench:   /"
echo "$bench:   refused after $fork_s s"

# --- 6. 10 % down -------------------------------------------------------------------
down=$((nodes / 10 > 0 ? nodes / 10 : 1))
echo "$bench: 6. $down townships down"
stale0=$(mirror_sum stale)  # the township refused in 5 stays stale
t_down=$(now)
control "down?count=$down" > /dev/null
all_down_stale() { [ "$(mirror_sum stale)" -ge $((stale0 + down)) ]; }
await "the down townships all stale" "$t_down" all_down_stale
down_s=$waited
echo "$bench:   all $down marked stale after $down_s s"
run_wrk down "1"
run_wrk down "16"
control up > /dev/null
hub_peak_kb=$(hub_rss_kb); [ "$hub_peak_kb" -le "$peak_kb" ] || peak_kb=$hub_peak_kb
problems=$(gk_log_problems "$run/hub/hub.log")

python3 - "$run" "$out/hub.json" <<EOF
import json, sys
run, dst = sys.argv[1:]
wrk = [json.loads(l) for l in open(run + "/results.jsonl")]
xap = {t: json.load(open(f"{run}/xapian-{t}.json")) for t in (1, 2)}
result = {
    "nodes": $nodes, "pages_per_node": $per_node, "documents": $total, "distinct_pages": $f,
    "sync_interval": "$interval", "sync_workers": "$sync_workers", "shards": "$shards",
    "node_ingest": {"pages": $n1, "seconds": $node_s, "docs_per_s": $node_rate,
                    "docs_per_cpu_s": $node_rate_cpu},
    "hub_sync": {"seconds": $sync_s, "docs_per_s": $sync_rate, "docs_per_cpu_s": $sync_rate_cpu,
                 "ratio_per_cpu_to_node": round($sync_rate_cpu / $node_rate_cpu, 2),
                 "peak_rss_mb": $peak_kb // 1024, "shards_mb": $index_mb},
    "search": wrk, "raw_xapian": xap,
    "new_document_searchable_s": $new_s, "split_view_refused_s": $fork_s,
    "down": {"nodes": $down, "all_stale_after_s": $down_s},
    "hub_log_problem_lines": $problems,
}
json.dump(result, open(dst, "w"), indent=1, ensure_ascii=False)
print(f"hub: wrote {dst}")
EOF
