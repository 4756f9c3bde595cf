#!/usr/bin/env bash
# Ingest benchmark: how long gongkai takes to make N gazette pages archived,
# signed and searchable, next to recollindex (and omindex) indexing the same
# pages. See bench/README.md for what is measured and the caveats.
#
#   bench/ingest.sh [N]            N pages (default 2000)
#   bench/ingest.sh --quick        500 pages
#   bench/ingest.sh --tools gongkai,recollindex,omindex N
#
# Environment: GONGKAID (daemon binary, default build/daemon/gongkaid),
# GAZETTE (corpus file), BENCH_TIMEOUT (seconds to wait for gongkai).
# Output: a table on stdout and bench/out/ingest.json (plus ingest-N.json).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
corpus=${GAZETTE:-$here/../../shared/corpus/bench/gazette.jsonl.gz}
gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
n=2000
tools=gongkai,recollindex,omindex

while [ $# -gt 0 ]; do
  case $1 in
    --quick) n=500 ;;
    --tools) tools=$2; shift ;;
    --tools=*) tools=${1#--tools=} ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*|'') echo "ingest: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) n=$1 ;;
  esac
  shift
done
want() { [[ ",$tools," == *",$1,"* ]]; }
timeout_s=${BENCH_TIMEOUT:-$((600 + n / 5))}

if [ ! -f "$corpus" ]; then
  echo "ingest: skipped: corpus not found at $corpus (set GAZETTE=... to point at gazette.jsonl.gz)"
  exit 0
fi

out=$here/out
pages=$out/pages-$n
run=$out/run-$n
mkdir -p "$out"

# Time in microseconds, without forking (the status poll runs 10 times a second
# on a machine that may have only two cores).
now() { local t=$EPOCHREALTIME; echo "${t/./}"; }
elapsed() { printf '%d.%03d' $((($2 - $1) / 1000000)) $(((($2 - $1) % 1000000) / 1000)); }
# CPU time the whole machine spent busy (not idle, not waiting for I/O), in
# clock ticks; compared with the tool's own CPU time it shows other work.
cpu_busy() { local _ u n sy _i _w irq sirq st _r; read -r _ u n sy _i _w irq sirq st _r < /proc/stat; echo $((u + n + sy + irq + sirq + st)); }
ticks=$(getconf CLK_TCK)
json_num() {  # json_num KEY JSON: the integer value of "KEY": in a flat JSON object, or ""
  if [[ $2 =~ \"$1\":[[:space:]]*(-?[0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; fi
}
json_get() {  # json_get KEY... < JSON: prints each key's value, space-separated ("" if absent)
  python3 -c '
import json, sys
try: d = json.load(sys.stdin)
except ValueError: d = {}
print(" ".join(str(d.get(k, "")) for k in sys.argv[1:]))' "$@"
}
# timed LOG CMD...: runs CMD with stdout+stderr to LOG; prints
# "SECONDS PEAK_RSS_KB RC CPU_SECONDS MACHINE_BUSY_CPU_SECONDS".
timed() {
  local log=$1; shift
  python3 - "$log" "$@" <<'EOF'
import os, resource, subprocess, sys, time
def busy():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")
b0, t0 = busy(), time.monotonic()
with open(sys.argv[1], "wb") as log:
    rc = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
t, b1 = time.monotonic() - t0, busy()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{t:.3f} {ru.ru_maxrss} {rc} {ru.ru_utime + ru.ru_stime:.2f} {b1 - b0:.2f}")
EOF
}
apt_install() {  # apt_install PACKAGE...: as the brief of this benchmark allows (root, Debian)
  echo "ingest: installing $* with apt-get"
  if [ "$(id -u)" -ne 0 ]; then echo "ingest: need root to install $*" >&2; return 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
doc_count() {  # doc_count XAPIAN_DB_DIR
  xapian-delve "$1" 2>/dev/null | sed -n 's/^number of documents = //p'
}

# Other work on the machine (a compile, say) skews every figure below.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
busy=$(ps -eo comm= | grep -cE '^(cc1plus|make|ld|ctest|gongkai_.*)$' || true)
if [ "$busy" -gt 0 ]; then
  echo "ingest: WARNING: $busy compiler/make processes are running (load $load_at_start); figures will be noisy" >&2
fi

# --- tools ------------------------------------------------------------------
if want recollindex && ! command -v recollindex >/dev/null; then apt_install recoll; fi
if want omindex && ! command -v omindex >/dev/null; then apt_install xapian-omega; fi
if { want recollindex || want omindex; } && ! command -v xapian-delve >/dev/null; then apt_install xapian-tools; fi
if want gongkai && [ ! -x "$gongkaid" ]; then
  echo "ingest: $gongkaid not found; build it first:" >&2
  echo "  cmake -S . -B build && make -C build -j1 gongkaid   (or set GONGKAID=...)" >&2
  exit 1
fi

# --- pages ------------------------------------------------------------------
python3 "$here/make_html.py" --src "$corpus" --count "$n" --out "$pages"
read -r nbytes probe_file probe_phrase < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
p = m.get("probe") or {}
print(m["bytes"], p.get("file", "-"), p.get("phrase", "-"))' "$pages.json")
echo "ingest: $n pages, $nbytes bytes; probe phrase \"$probe_phrase\" from $probe_file"
mkdir -p "$run"
results=$run/results.tsv   # tool docs seconds rss_kb store_bytes extra-json
: > "$results"

# --- gongkai ----------------------------------------------------------------
daemon_pid=
stop_daemon() {
  [ -n "$daemon_pid" ] || return 0
  if kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    for _ in $(seq 1 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$daemon_pid" 2>/dev/null; then
      echo "ingest: gongkaid did not stop within 30 s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
  fi
  wait "$daemon_pid" 2>/dev/null && daemon_rc=0 || daemon_rc=$?
  daemon_pid=
}
trap stop_daemon EXIT

if want gongkai; then
  g=$run/gongkai
  rm -rf "$g"
  mkdir -p "$g/share"
  token=$(head -c 24 /dev/urandom | xxd -p -c 64)
  printf 'inspector %s bench\n' "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" > "$g/tokens"
  cat > "$g/gongkai.conf" <<EOF
[daemon]
data_dir = $g/data
listen   = 127.0.0.1:0
settle   = 200ms

[auth]
tokens_file = $g/tokens

[share.bench]
path   = $g/share
office = bench
EOF
  glog=$g/gongkaid.log
  "$gongkaid" --config "$g/gongkai.conf" 2> "$glog" &
  daemon_pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$glog" | head -1)
    [ -n "$port" ] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "ingest: gongkaid did not report its port; its log:" >&2
    cat "$glog" >&2
    exit 1
  fi
  base=http://127.0.0.1:$port
  auth=(-H "Authorization: Bearer $token")
  status() { curl -s -m 10 "${auth[@]}" "$base/api/v1/status" || true; }
  # The start-up scan of the empty share must be over before the clock starts.
  for _ in $(seq 1 100); do
    s=$(status)
    [ "$(json_num documents "$s")" = 0 ] && [ "$(json_num queued "$s")" = 0 ] && break
    sleep 0.1
  done
  proc_cpu() {  # utime + stime of the daemon, in clock ticks
    local f; f=$(cat "/proc/$daemon_pid/stat" 2>/dev/null) || { echo 0; return; }
    f=${f##*) }; set -- $f; echo $(( ${12} + ${13} ))
  }
  echo "ingest: gongkaid pid $daemon_pid on $base; copying $n pages into the share"

  g_cpu0=$(proc_cpu) g_busy0=$(cpu_busy)
  t0=$(now)
  cp -r "$pages/." "$g/share/"
  t_copy=$(now)
  t_archived= t_done= last_report=0 docs=0 queued=0 failed=0 backlog=0 outcome=timeout
  while :; do
    if ! kill -0 "$daemon_pid" 2>/dev/null; then outcome=died; break; fi
    s=$(status)
    docs=$(json_num documents "$s") queued=$(json_num queued "$s")
    failed=$(json_num failed "$s") backlog=$(json_num index_backlog "$s")
    t=$(now)
    if [ -n "$docs" ] && [ "$docs" -ge "$n" ]; then
      [ -n "$t_archived" ] || t_archived=$t
      if [ "$queued" = 0 ]; then t_done=$t; outcome=ok; break; fi
    fi
    secs=$(elapsed "$t0" "$t"); secs=${secs%.*}
    if [ "$secs" -ge "$timeout_s" ]; then break; fi
    if [ "$secs" -ge $((last_report + 10)) ]; then
      last_report=$secs
      echo "ingest:   ${secs}s: documents=${docs:-?} queued=${queued:-?} index_backlog=${backlog:-?} failed=${failed:-?}"
    fi
    sleep 0.1
  done

  g_copy=$(elapsed "$t0" "$t_copy")
  g_archived=$([ -n "$t_archived" ] && elapsed "$t0" "$t_archived" || echo null)
  if [ "$outcome" = ok ]; then g_secs=$(elapsed "$t0" "$t_done"); else g_secs=null; fi
  final_status=$(status)
  [ -n "$final_status" ] || final_status='{}'

  # Is the probe phrase searchable, and does it find its page?
  search_total=null search_found=false
  if [ "$outcome" = ok ] && [ "$probe_phrase" != - ]; then
    sres=$(curl -s -m 30 -G "${auth[@]}" --data-urlencode "q=\"$probe_phrase\"" --data-urlencode limit=100 \
      "$base/api/v1/search" || true)
    read -r search_total search_found < <(python3 -c '
import json, sys
try: d = json.loads(sys.argv[1])
except ValueError: d = {}
found = any(r.get("path", "").endswith(sys.argv[2]) for r in d.get("results", []))
print(d.get("total", "null"), "true" if found else "false")' "$sres" "$probe_file")
    [ "$search_found" = true ] || echo "ingest: search for \"$probe_phrase\" did not find $probe_file: $sres" >&2
  fi
  g_rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$daemon_pid/status" 2>/dev/null || true)
  g_cpu=$(elapsed 0 $((($(proc_cpu) - g_cpu0) * 1000000 / ticks)))
  g_busy=$(elapsed 0 $((($(cpu_busy) - g_busy0) * 1000000 / ticks)))
  stop_daemon
  g_store=$(du -sb "$g/data" | cut -f1)
  # Anything but the daemon's own info lines: warnings, errors, and whatever a
  # crash prints (the log format is "TIME LEVEL: message").
  ok_line='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (info|debug): '
  g_log_problems=$(grep -cvE "$ok_line" "$glog" || true)
  read -r docs queued failed < <(json_get documents queued failed <<<"$final_status")
  case $outcome in
    ok) echo "ingest: gongkai done: $docs documents in ${g_secs}s (copy ${g_copy}s, all archived at ${g_archived}s)" ;;
    died) echo "ingest: gongkaid DIED (exit $daemon_rc) after ${docs:-?} documents; log tail:" >&2; tail -20 "$glog" >&2 ;;
    timeout) echo "ingest: gongkai did NOT finish within ${timeout_s}s: documents=$docs queued=$queued failed=$failed" >&2
             tail -20 "$glog" >&2 ;;
  esac
  if [ "${g_log_problems:-0}" -gt 0 ]; then
    echo "ingest: gongkaid log has $g_log_problems lines other than info, e.g.:" >&2
    grep -vE "$ok_line" "$glog" | head -5 >&2
  fi
  extra=$(python3 -c '
import json, sys
a = sys.argv
print(json.dumps({"outcome": a[1], "copy_seconds": json.loads(a[2]), "archived_seconds": json.loads(a[3]),
  "failed": json.loads(a[4] or "null"), "queued_at_end": json.loads(a[5] or "null"),
  "daemon_exit_code": json.loads(a[6] or "null"), "log_problem_lines": int(a[7] or 0),
  "search_probe": {"phrase": a[8], "file": a[9], "total": json.loads(a[10]), "found_file": a[11] == "true"},
  "settle_ms": 200, "cpu_seconds": float(a[12]), "machine_busy_cpu_seconds": float(a[13])}, ensure_ascii=False))' \
    "$outcome" "$g_copy" "$g_archived" "$failed" "$queued" "${daemon_rc:-}" "$g_log_problems" \
    "$probe_phrase" "$probe_file" "$search_total" "$search_found" "$g_cpu" "$g_busy")
  printf 'gongkai\t%s\t%s\t%s\t%s\t%s\n' "${docs:-0}" "$g_secs" "${g_rss:-null}" "$g_store" "$extra" >> "$results"
fi

# --- recollindex ------------------------------------------------------------
if want recollindex; then
  r=$run/recoll
  rm -rf "$r"
  mkdir -p "$r"
  # noaspell: skip building the spelling dictionary, which is not indexing.
  printf 'topdirs = %s\nnoaspell = 1\nloglevel = 2\n' "$pages" > "$r/recoll.conf"
  echo "ingest: recollindex -c $r"
  read -r r_secs r_rss r_rc r_cpu r_busy < <(timed "$r/recollindex.log" recollindex -c "$r")
  [ "$r_rc" = 0 ] || echo "ingest: recollindex exited $r_rc; see $r/recollindex.log" >&2
  r_docs=$(doc_count "$r/xapiandb")
  r_hits=$(recollq -c "$r" -Q "\"$probe_phrase\"" 2>/dev/null | sed -n 's/^\([0-9][0-9]*\) results.*/\1/p' | head -1)
  r_version=$(recollq -v 2>&1 | head -1 || true)
  extra=$(python3 -c 'import json,sys; print(json.dumps({"exit_code": int(sys.argv[1]), "version": sys.argv[2], "probe_hits": int(sys.argv[3]) if sys.argv[3] else None, "cpu_seconds": float(sys.argv[4]), "machine_busy_cpu_seconds": float(sys.argv[5])}))' \
    "$r_rc" "$r_version" "${r_hits:-}" "$r_cpu" "$r_busy")
  printf 'recollindex\t%s\t%s\t%s\t%s\t%s\n' "${r_docs:-0}" "$r_secs" "$r_rss" "$(du -sb "$r" | cut -f1)" "$extra" >> "$results"
fi

# --- omindex ----------------------------------------------------------------
if want omindex; then
  o=$run/omindex
  rm -rf "$o"
  mkdir -p "$o"
  echo "ingest: XAPIAN_CJK_NGRAM=1 omindex --db $o/db --url / $pages"
  read -r o_secs o_rss o_rc o_cpu o_busy < <(XAPIAN_CJK_NGRAM=1 timed "$o/omindex.log" omindex --db "$o/db" --url / "$pages")
  [ "$o_rc" = 0 ] || echo "ingest: omindex exited $o_rc; see $o/omindex.log" >&2
  o_docs=$(doc_count "$o/db")
  o_hits=$(XAPIAN_CJK_NGRAM=1 quest -d "$o/db" -m 1 "\"$probe_phrase\"" 2>/dev/null |
    sed -n 's/^MSet:.*//;s/^Exactly \([0-9]*\) matches.*/\1/p;s/^Between \([0-9]*\) and.*/\1/p' | head -1)
  o_version=$(omindex --version 2>&1 | head -1 || true)
  extra=$(python3 -c 'import json,sys; print(json.dumps({"exit_code": int(sys.argv[1]), "version": sys.argv[2], "probe_hits": int(sys.argv[3]) if sys.argv[3] else None, "cpu_seconds": float(sys.argv[4]), "machine_busy_cpu_seconds": float(sys.argv[5])}))' \
    "$o_rc" "$o_version" "${o_hits:-}" "$o_cpu" "$o_busy")
  printf 'omindex\t%s\t%s\t%s\t%s\t%s\n' "${o_docs:-0}" "$o_secs" "$o_rss" "$(du -sb "$o" | cut -f1)" "$extra" >> "$results"
fi

# --- report -----------------------------------------------------------------
python3 - "$results" "$n" "$nbytes" "$corpus" "$gongkaid" "$root" "$out" "$probe_phrase" "$load_at_start" "$busy" <<'EOF'
import json, os, platform, subprocess, sys, time
results, n, nbytes, corpus, gongkaid, root, out, phrase, load_at_start, busy = sys.argv[1:]
n, nbytes = int(n), int(nbytes)
rows = []
for line in open(results, encoding="utf-8"):
    tool, docs, secs, rss, store, extra = line.rstrip("\n").split("\t")
    secs = None if secs == "null" else float(secs)
    rows.append({"tool": tool, "docs": int(docs or 0), "seconds": secs,
                 "docs_per_s": round(int(docs or 0) / secs, 1) if secs else None,
                 "mb_per_s": round(nbytes / 1e6 / secs, 2) if secs else None,
                 "peak_rss_mb": round(int(rss) / 1024, 1) if rss not in ("", "null") else None,
                 "store_mb": round(int(store) / 1e6, 1) if store else None,
                 **json.loads(extra)})
ref = next((r["seconds"] for r in rows if r["tool"] == "recollindex" and r["seconds"]), None)
for r in rows:
    if r.get("cpu_seconds") is not None and r.get("machine_busy_cpu_seconds") is not None:
        r["other_cpu_seconds"] = round(max(0.0, r["machine_busy_cpu_seconds"] - r["cpu_seconds"]), 1)
    r["time_vs_recollindex"] = round(r["seconds"] / ref, 2) if ref and r["seconds"] else None

def git(*args):
    try:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
report = {"benchmark": "ingest", "pages": n, "bytes": nbytes, "corpus": os.path.abspath(corpus),
          "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
          "host": {"cpus": os.cpu_count(), "kernel": platform.release(),
                   "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                   "loadavg_at_start": load_at_start, "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
                   "build_processes_at_start": int(busy)},
          "gongkaid": {"path": gongkaid, "commit": git("rev-parse", "--short", "HEAD"),
                       "binary_mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.stat(gongkaid).st_mtime))
                                       if os.path.exists(gongkaid) else None,
                       "tree_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
          "results": rows}
for name in ("ingest.json", f"ingest-{n}.json"):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
        f.write("\n")

fmt = lambda v, spec: "-" if v is None else format(v, spec)
print()
print(f"ingest: {n} gazette pages, {nbytes / 1e6:.1f} MB (MB = 10^6 bytes)")
print(f"{'tool':<12} {'docs':>6} {'seconds':>8} {'docs/s':>8} {'MB/s':>7} {'time/recoll':>11} {'peak RSS MB':>11} {'on disk MB':>10} {'CPU s':>7} {'other CPU s':>11}")
for r in rows:
    print(f"{r['tool']:<12} {r['docs']:>6} {fmt(r['seconds'], '.2f'):>8} {fmt(r['docs_per_s'], '.1f'):>8} "
          f"{fmt(r['mb_per_s'], '.2f'):>7} {fmt(r['time_vs_recollindex'], '.2f'):>11} "
          f"{fmt(r['peak_rss_mb'], '.1f'):>11} {fmt(r['store_mb'], '.1f'):>10} "
          f"{fmt(r.get('cpu_seconds'), '.1f'):>7} {fmt(r.get('other_cpu_seconds'), '.1f'):>11}")
g = next((r for r in rows if r["tool"] == "gongkai"), None)
if g:
    p = g["search_probe"]
    print(f"gongkai: outcome {g['outcome']}; copy {g['copy_seconds']} s; all documents archived at "
          f"{g['archived_seconds']} s; failed {g['failed']}; log lines other than info {g['log_problem_lines']}; "
          f"search \"{p['phrase']}\": total {p['total']}, found {p['file']}: {p['found_file']}")
for r in rows:
    if "probe_hits" in r:
        print(f"{r['tool']}: {r['version']}; exit {r['exit_code']}; \"{phrase}\" hits {r['probe_hits']}")
print(f"written: {os.path.join(out, 'ingest.json')}")
EOF
