#!/usr/bin/env bash
# Verify benchmark: `gongkai verify` throughput in MB/s over an archive of N
# gazette pages, next to sha256sum over the same blob files in the same run
# (issue 3: at least 0.8x). See bench/README.md for what is measured and the
# caveats.
#
#   bench/verify.sh [N]            N pages (default 2000)
#   bench/verify.sh --quick        500 pages
#   bench/verify.sh --reuse N      time again on the archive the last run built
#                                  (bench/out/verify-run-N, with its binaries,
#                                  or with GONGKAI=... that CLI instead)
#
# Environment: GONGKAID, GONGKAI (daemon and CLI binaries, default
# build/daemon/gongkaid and build/daemon/gongkai), GAZETTE (corpus file),
# BENCH_TIMEOUT (seconds to wait for the archive to be built), RUNS (timed
# runs of each tool, default 2; the best is reported), QUIET_WAIT (before each
# timed run, wait up to this many seconds while compilers or test runs are
# running; default 0).
# Output: a table on stdout and bench/out/verify.json (plus verify-N.json).
# Exit status 1 if the archive could not be built or verify did not exit 0.
set -euo pipefail

bench=verify
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
gongkaid=${GONGKAID:-$root/build/daemon/gongkaid}
gongkai=${GONGKAI:-$root/build/daemon/gongkai}
runs=${RUNS:-2}
n=2000
reuse=

while [ $# -gt 0 ]; do
  case $1 in
    --quick) n=500 ;;
    --reuse) reuse=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*|'') echo "verify: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) n=$1 ;;
  esac
  shift
done
timeout_s=${BENCH_TIMEOUT:-$((600 + n / 5))}

if [ ! -f "$corpus" ]; then
  echo "verify: skipped: corpus not found at $corpus (set GAZETTE=... to point at gazette.jsonl.gz)"
  exit 0
fi
for b in "$gongkaid" "$gongkai"; do
  if [ ! -x "$b" ]; then
    echo "verify: $b not found; build it first:" >&2
    echo "  cmake -S . -B build && make -C build -j1 gongkai gongkaid   (or set GONGKAID=... GONGKAI=...)" >&2
    exit 1
  fi
done
if ! command -v openssl >/dev/null; then echo "verify: openssl (the command) is needed" >&2; exit 1; fi

mkdir -p "$out"
run=$out/verify-run-$n
g=$run/gongkai
conf=$g/gongkai.conf
glog=$g/gongkaid.log
check_build_processes
make_pages "$n"
echo "verify: $n pages, $nbytes bytes"

if [ -n "$reuse" ]; then
  if [ ! -f "$run/archive.env" ]; then
    echo "verify: --reuse: no complete archive in $run (run without --reuse first)" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$run/archive.env"
  echo "verify: reusing the archive in $g (built $built_at)"
  if [ -n "${GONGKAI:-}" ]; then
    # A new CLI timed on the old archive (the daemon that built it stays).
    cp -p "$gongkai" "$run/bin/gongkai"
    echo "verify: timing $gongkai (copied into $run/bin)"
  fi
else
  rm -rf "$run"
  mkdir -p "$run/bin"
  # Copies of the binaries, so that a rebuild of build/ by someone else during
  # the run cannot change the program between the ingest and the timed runs.
  cp -p "$gongkaid" "$run/bin/gongkaid"
  cp -p "$gongkai" "$run/bin/gongkai"
  # The daemon looks for its extraction worker beside itself first; without
  # it every page would be archived with no text indexed.
  extract=$(dirname "$gongkaid")/gongkai-extract
  [ -x "$extract" ] || { echo "verify: $extract missing (make gongkai-extract)" >&2; exit 1; }
  cp -p "$extract" "$run/bin/gongkai-extract"

  # --- the archive ------------------------------------------------------------
  trap stop_daemon EXIT
  gk_setup "$g"
  gk_start "$run/bin/gongkaid" "$conf" "$glog" || exit 1
  gk_wait_scan
  echo "verify: gongkaid pid $daemon_pid on $base; copying $n pages into the share"
  gk_ingest "$pages" "$g/share" "$n" "$timeout_s"
  final_status=$(gk_status)
  [ -n "$final_status" ] || final_status='{}'
  ingest_secs=null
  [ "$outcome" = ok ] && ingest_secs=$(elapsed "$t0" "$t_done")
  stop_daemon
  log_problems=$(gk_log_problems "$glog")
  if [ "$outcome" != ok ]; then
    echo "verify: the archive was not built (gongkaid: $outcome, exit ${daemon_rc:-?}): documents=$docs queued=$queued failed=$failed; log tail:" >&2
    tail -20 "$glog" >&2
    exit 1
  fi
  archived_secs=$(elapsed "$t0" "$t_archived")
  echo "verify: archive built: $docs documents, searchable after ${ingest_secs}s; gongkaid stopped (exit $daemon_rc)"
  if [ "${log_problems:-0}" -gt 0 ]; then
    echo "verify: gongkaid log has $log_problems lines other than info, e.g.:" >&2
    grep -vE "$gk_log_ok_line" "$glog" | head -5 >&2
  fi
  built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  printf '%s=%q\n' built_at "$built_at" ingest_secs "$ingest_secs" archived_secs "$archived_secs" \
    daemon_rc "$daemon_rc" log_problems "$log_problems" final_status "$final_status" > "$run/archive.env"
fi

data=$g/data
blobs=$data/blobs
read -r blob_files blob_bytes < <(find "$blobs" -type f -printf '%s\n' | awk '{n++; s+=$1} END {printf "%d %d\n", n, s}')
echo "verify: $blob_files blob files, $blob_bytes bytes; warming the page cache"
# Everything verify or the hashers read is read once first, so that every
# timed run below finds it in the page cache (nobody pays for the disk).
find "$data" -type f -print0 | xargs -0 cat > /dev/null

# --- the timed runs -----------------------------------------------------------
# Alternating, so that a disturbance (a compile starting) hits both sides.
results=$run/results.tsv   # tool run seconds rss_kb rc cpu busy log
: > "$results"
quiet_wait=${QUIET_WAIT:-0}
for i in $(seq 1 "$runs"); do
  wait_quiet "$quiet_wait" || echo "verify: WARNING: builds or tests still running; run $i will be noisy" >&2
  log=$run/gongkai-verify-$i.log
  read -r secs rss rc cpu busy_s < <(TIMED_STAMP=1 timed "$log" "$run/bin/gongkai" --config "$conf" verify)
  printf 'gongkai verify\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$secs" "$rss" "$rc" "$cpu" "$busy_s" "$log" >> "$results"
  echo "verify:   run $i: gongkai verify ${secs}s (exit $rc)"
  [ "$rc" = 0 ] || { echo "verify: gongkai verify exited $rc; its output:" >&2; tail -20 "$log" >&2; }

  wait_quiet "$quiet_wait" || true
  log=$run/sha256sum-$i.log
  read -r secs rss rc cpu busy_s < <(timed "$log" bash -c 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null' _ "$blobs")
  printf 'sha256sum\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$secs" "$rss" "$rc" "$cpu" "$busy_s" "$log" >> "$results"
  echo "verify:   run $i: sha256sum ${secs}s (exit $rc)"

  wait_quiet "$quiet_wait" || true
  log=$run/openssl-$i.log
  read -r secs rss rc cpu busy_s < <(timed "$log" bash -c 'find "$1" -type f -print0 | xargs -0 openssl dgst -sha256 > /dev/null' _ "$blobs")
  printf 'openssl dgst -sha256\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$secs" "$rss" "$rc" "$cpu" "$busy_s" "$log" >> "$results"
  echo "verify:   run $i: openssl dgst -sha256 ${secs}s (exit $rc)"
done

# --- report -------------------------------------------------------------------
python3 - "$results" "$n" "$nbytes" "$blob_files" "$blob_bytes" "$corpus" "$gongkaid" "$gongkai" "$root" "$out" \
  "$load_at_start" "$busy" "$ingest_secs" "$archived_secs" "$daemon_rc" "$log_problems" \
  "$final_status" "$(du -sb "$data" | cut -f1)" "$run" "$built_at" "${reuse:-}" "$quiet_wait" <<'EOF'
import json, os, platform, re, subprocess, sys, time
(results, n, nbytes, blob_files, blob_bytes, corpus, gongkaid, gongkai, root, out, load_at_start, busy,
 ingest_secs, archived_secs, daemon_rc, log_problems, final_status, data_bytes, run, built_at, reuse,
 quiet_wait) = sys.argv[1:]
n, nbytes, blob_files, blob_bytes = int(n), int(nbytes), int(blob_files), int(blob_bytes)
mb = blob_bytes / 1e6

tools = {}
for line in open(results, encoding="utf-8"):
    tool, i, secs, rss, rc, cpu, busy_s, log = line.rstrip("\n").split("\t")
    tools.setdefault(tool, []).append({
        "run": int(i), "seconds": float(secs), "exit_code": int(rc), "cpu_seconds": float(cpu),
        "other_cpu_seconds": round(max(0.0, float(busy_s) - float(cpu)), 2),
        "peak_rss_mb": round(int(rss) / 1024, 1), "log": os.path.relpath(log, root)})

# gongkai verify's own output: the summary line and, from the stamped
# progress lines, when each stage ended.
summary_re = re.compile(r"verify: (OK|FAILED) \S+ (\d+) records, (\d+) documents, (\d+) versions, (\d+) blobs "
                        r"\((\d+) bytes, ([\d.]+) MB/s\), (\d+) checkpoints; (\d+) problems, (\d+) warnings")
for r in tools.get("gongkai verify", []):
    stages, summary, problems = {}, None, []
    for line in open(os.path.join(root, r["log"]), encoding="utf-8", errors="replace"):
        t, _, text = line.rstrip("\n").partition(" ")
        m = re.match(r"verify: (\w+) \d+", text)
        if m and m.group(1) not in ("OK", "FAILED"):
            stages[m.group(1)] = float(t)
        m = summary_re.search(text)
        if m:
            g = m.groups()
            summary = {"result": g[0], "records": int(g[1]), "documents": int(g[2]), "versions": int(g[3]),
                       "blobs": int(g[4]), "blob_bytes": int(g[5]), "own_mb_per_s": float(g[6]),
                       "checkpoints": int(g[7]), "problems": int(g[8]), "warnings": int(g[9])}
        if text.startswith(("PROBLEM", "warning")):
            problems.append(text)
    r["stage_ends_seconds"] = stages
    r["summary"] = summary
    r["problem_lines"] = problems[:20]

rows = []
for tool, rs in tools.items():
    best = min(rs, key=lambda r: r["seconds"])
    rows.append({"tool": tool, "best_seconds": best["seconds"], "mb_per_s": round(mb / best["seconds"], 1),
                 "best_cpu_seconds": best["cpu_seconds"], "best_other_cpu_seconds": best["other_cpu_seconds"],
                 "all_exit_0": all(r["exit_code"] == 0 for r in rs), "runs": rs})
ref = next(r for r in rows if r["tool"] == "sha256sum")
for r in rows:
    r["mb_per_s_vs_sha256sum"] = round(r["mb_per_s"] / ref["mb_per_s"], 2)
gv = next(r for r in rows if r["tool"] == "gongkai verify")
valid = gv["all_exit_0"] and all(r["all_exit_0"] for r in rows)

def git(*args):
    try:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
def binary(path, copy):  # the copy in the run folder is what ran (cp -p keeps the mtime)
    return {"path": path, "mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.stat(copy).st_mtime))}
try:
    status = json.loads(final_status)
except ValueError:
    status = {}
report = {
    "benchmark": "verify", "pages": n, "page_bytes": nbytes, "corpus": os.path.abspath(corpus),
    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "valid": valid,
    "blobs": {"files": blob_files, "bytes": blob_bytes}, "data_dir_bytes": int(data_bytes),
    "archive": {"documents": status.get("documents"), "failed": status.get("failed"),
                "searchable_after_seconds": float(ingest_secs), "archived_after_seconds": float(archived_secs),
                "daemon_exit_code": int(daemon_rc) if daemon_rc else None, "log_problem_lines": int(log_problems or 0),
                "run_dir": os.path.relpath(run, root), "built_at": built_at, "reused": bool(reuse)},
    "runs_per_tool": len(gv["runs"]), "quiet_wait_seconds": int(quiet_wait),
    "goal": {"mb_per_s_vs_sha256sum": 0.8, "met": valid and gv["mb_per_s_vs_sha256sum"] >= 0.8},
    "host": {"cpus": os.cpu_count(), "kernel": platform.release(),
             "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
             "loadavg_at_start": load_at_start, "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
             "build_processes_at_start": int(busy),
             "sha256sum": subprocess.run(["sha256sum", "--version"], capture_output=True, text=True).stdout.split("\n")[0],
             "openssl": subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()},
    "gongkai": {"gongkaid": binary(gongkaid, os.path.join(run, "bin/gongkaid")),
                "gongkai": binary(gongkai, os.path.join(run, "bin/gongkai")), "commit": git("rev-parse", "--short", "HEAD"),
                "tree_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
    "results": rows}
for name in ("verify.json", f"verify-{n}.json"):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
        f.write("\n")

print()
print(f"verify: {n} gazette pages, archive of {blob_files} blobs, {mb:.1f} MB (MB = 10^6 bytes); "
      f"page cache warm; best of {len(gv['runs'])} runs")
print(f"{'tool':<22} {'seconds':>8} {'runs':>15} {'MB/s':>8} {'CPU s':>6} {'other CPU s':>11} {'vs sha256sum':>12}")
for r in rows:
    each = " ".join(f"{x['seconds']:.2f}" for x in r["runs"])
    print(f"{r['tool']:<22} {r['best_seconds']:>8.2f} {each:>15} {r['mb_per_s']:>8.1f} {r['best_cpu_seconds']:>6.1f} "
          f"{r['best_other_cpu_seconds']:>11.1f} {r['mb_per_s_vs_sha256sum']:>11.2f}x")
best = min(gv["runs"], key=lambda r: r["seconds"])
s = best["summary"]
if s:
    print(f"gongkai verify: {s['result']}: {s['records']} records, {s['documents']} documents, {s['blobs']} blobs, "
          f"{s['checkpoints']} checkpoints, {s['problems']} problems, {s['warnings']} warnings; "
          f"its own figure {s['own_mb_per_s']} MB/s")
if best["stage_ends_seconds"]:
    print("gongkai verify stages (best run), ended at: " +
          ", ".join(f"{k} {v:.2f} s" for k, v in best["stage_ends_seconds"].items()) +
          " (integrity check is in 'records'; the index check runs beside them, waited for before the summary)")
if not valid:
    print("verify: INVALID RUN: a tool did not exit 0 (see the logs in " + os.path.relpath(run, root) + ")")
else:
    print(f"goal (issue 3): gongkai verify at least 0.8x sha256sum's MB/s: "
          f"{'met' if report['goal']['met'] else 'MISSED'} ({gv['mb_per_s_vs_sha256sum']:.2f}x)")
print(f"written: {os.path.join(out, 'verify.json')}")
sys.exit(0 if valid else 1)
EOF
