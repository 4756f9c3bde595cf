#!/usr/bin/env bash
# Ingest benchmark: how long gongkai takes to make N gazette pages archived,
# signed and searchable, next to recollindex (and omindex) indexing the same
# pages. See bench/README.md for what is measured and the caveats.
#
#   bench/ingest.sh [N]            N pages (default 2000)
#   bench/ingest.sh --quick        500 pages
#   bench/ingest.sh --tools gongkai,gongkai-prefilled,recollindex,omindex N
#
# gongkai: pages copied into the share of a running daemon; gongkai-prefilled:
# the daemon started on a share that already holds them; gongkai-in-place
# (only when asked): the daemon started with the pages directory itself as
# its share, nothing copied, as recollindex reads it (a 300,000-page run fits
# on the disk only so).
#
# Environment: GONGKAID (daemon binary, default build/daemon/gongkaid),
# GAZETTE (corpus file), BENCH_TIMEOUT (seconds to wait for gongkai),
# INDEX_SHARDS (the daemon's [index] shards; unset: the section is left out).
# Output: a table on stdout and bench/out/ingest.json (plus ingest-N.json).
set -euo pipefail

bench=ingest
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
n=2000
tools=gongkai,gongkai-prefilled,recollindex,omindex

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

run=$out/run-$n
mkdir -p "$out"

# Other work on the machine (a compile, say) skews every figure below.
check_build_processes

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
make_pages "$n"
echo "ingest: $n pages, $nbytes bytes; probe phrase \"$probe_phrase\" from $probe_file"
mkdir -p "$run"
results=$run/results.tsv   # tool docs seconds rss_kb store_bytes extra-json
: > "$results"

# --- gongkai ----------------------------------------------------------------
trap stop_daemon EXIT

bench_gongkai() {  # bench_gongkai gongkai|gongkai-prefilled|gongkai-in-place
  local tool=$1 g=$run/$1
  gk_setup "$g"
  glog=$g/gongkaid.log
  if [ "$tool" != gongkai ]; then
    # The pages are in the share before the daemon starts: its start-up scan
    # finds them all. The clock runs from the launch.
    if [ "$tool" = gongkai-in-place ]; then
      sed -i "s|^path   = $g/share\$|path   = $pages|" "$g/gongkai.conf"
      grep -q "^path   = $pages\$" "$g/gongkai.conf" || { echo "ingest: cannot point the share at $pages" >&2; exit 1; }
    else
      cp -r "$pages/." "$g/share/"
    fi
    g_busy0=$(cpu_busy)
    local launch=$(now)
    gk_start "$gongkaid" "$g/gongkai.conf" "$glog" || exit 1
    echo "ingest: gongkaid pid $daemon_pid on $base, started on a share holding $n pages"
    g_cpu0=0
    gk_ingest - "$g/share" "$n" "$timeout_s" "$launch"
  else
    gk_start "$gongkaid" "$g/gongkai.conf" "$glog" || exit 1
    # The start-up scan of the empty share must be over before the clock starts.
    gk_wait_scan
    echo "ingest: gongkaid pid $daemon_pid on $base; copying $n pages into the share"
    g_cpu0=$(gk_proc_cpu) g_busy0=$(cpu_busy)
    gk_ingest "$pages" "$g/share" "$n" "$timeout_s"
  fi

  g_copy=$(elapsed "$t0" "$t_copy")
  g_archived=$([ -n "$t_archived" ] && elapsed "$t0" "$t_archived" || echo null)
  if [ "$outcome" = ok ]; then g_secs=$(elapsed "$t0" "$t_done"); else g_secs=null; fi
  final_status=$(gk_status)
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
  g_rss=$(gk_peak_rss_kb)
  # At rest: the whole share archived and indexed, nothing queued.
  g_rss_end=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$daemon_pid/status" 2>/dev/null || true)
  g_cpu=$(elapsed 0 $((($(gk_proc_cpu) - g_cpu0) * 1000000 / ticks)))
  g_busy=$(elapsed 0 $((($(cpu_busy) - g_busy0) * 1000000 / ticks)))
  stop_daemon
  g_store=$(du -sb "$g/data" | cut -f1)
  g_log_problems=$(gk_log_problems "$glog")
  read -r docs queued failed < <(json_get documents queued failed <<<"$final_status")
  case $outcome in
    ok) echo "ingest: $tool done: $docs documents in ${g_secs}s (copy ${g_copy}s, all archived at ${g_archived}s)" ;;
    died) echo "ingest: gongkaid DIED (exit $daemon_rc) after ${docs:-?} documents; log tail:" >&2; tail -20 "$glog" >&2 ;;
    timeout) echo "ingest: gongkai did NOT finish within ${timeout_s}s: documents=$docs queued=$queued failed=$failed" >&2
             tail -20 "$glog" >&2 ;;
  esac
  if [ "${g_log_problems:-0}" -gt 0 ]; then
    echo "ingest: gongkaid log has $g_log_problems lines other than info, e.g.:" >&2
    grep -vE "$gk_log_ok_line" "$glog" | head -5 >&2
  fi
  extra=$(python3 -c '
import json, sys
a = sys.argv
print(json.dumps({"outcome": a[1], "copy_seconds": json.loads(a[2]), "archived_seconds": json.loads(a[3]),
  "failed": json.loads(a[4] or "null"), "queued_at_end": json.loads(a[5] or "null"),
  "daemon_exit_code": json.loads(a[6] or "null"), "log_problem_lines": int(a[7] or 0),
  "search_probe": {"phrase": a[8], "file": a[9], "total": json.loads(a[10]), "found_file": a[11] == "true"},
  "settle_ms": 200, "cpu_seconds": float(a[12]), "machine_busy_cpu_seconds": float(a[13]),
  "rss_at_end_mb": round(int(a[14]) / 1024, 1) if a[14] else None}, ensure_ascii=False))' \
    "$outcome" "$g_copy" "$g_archived" "$failed" "$queued" "${daemon_rc:-}" "$g_log_problems" \
    "$probe_phrase" "$probe_file" "$search_total" "$search_found" "$g_cpu" "$g_busy" "${g_rss_end:-}")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "${docs:-0}" "$g_secs" "${g_rss:-null}" "$g_store" "$extra" >> "$results"
}
for tool in gongkai gongkai-prefilled gongkai-in-place; do
  if want $tool; then bench_gongkai $tool; fi
done

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
print(f"{'tool':<17} {'docs':>6} {'seconds':>8} {'docs/s':>8} {'MB/s':>7} {'time/recoll':>11} {'peak RSS MB':>11} {'on disk MB':>10} {'CPU s':>7} {'other CPU s':>11}")
for r in rows:
    print(f"{r['tool']:<17} {r['docs']:>6} {fmt(r['seconds'], '.2f'):>8} {fmt(r['docs_per_s'], '.1f'):>8} "
          f"{fmt(r['mb_per_s'], '.2f'):>7} {fmt(r['time_vs_recollindex'], '.2f'):>11} "
          f"{fmt(r['peak_rss_mb'], '.1f'):>11} {fmt(r['store_mb'], '.1f'):>10} "
          f"{fmt(r.get('cpu_seconds'), '.1f'):>7} {fmt(r.get('other_cpu_seconds'), '.1f'):>11}")
for g in (r for r in rows if r["tool"].startswith("gongkai")):
    p = g["search_probe"]
    print(f"{g['tool']}: outcome {g['outcome']}; copy {g['copy_seconds']} s; all documents archived at "
          f"{g['archived_seconds']} s; failed {g['failed']}; log lines other than info {g['log_problem_lines']}; "
          f"search \"{p['phrase']}\": total {p['total']}, found {p['file']}: {p['found_file']}")
for r in rows:
    if "probe_hits" in r:
        print(f"{r['tool']}: {r['version']}; exit {r['exit_code']}; \"{phrase}\" hits {r['probe_hits']}")
print(f"written: {os.path.join(out, 'ingest.json')}")
EOF
