#!/usr/bin/env bash
# Append benchmark: how many signed records per second the catalog appends
# (Ed25519 signature + Merkle tree update + a signed checkpoint per batch, in
# one SQLite transaction), for batches of 1, 16 and 256 changes. See
# bench/README.md.
#
#   bench/append.sh [append_bench options]   e.g. --records 20000 --batches 1,16,256 --seconds 120
#
# Builds bench/append_bench.cc in its own build folder (build-bench, Release,
# -DGONGKAI_BENCH=ON, make -j1, after waiting for any compiler already
# running), then runs it in a fresh temporary folder (TMPDIR decides where:
# fsync costs depend on that file system).
# Environment: BUILD_DIR (default build-bench), BUILD_WAIT (seconds to wait
# for other builds and test runs, before building and again before measuring;
# default 1800).
# Output: a table on stdout and bench/out/append.json.
set -euo pipefail

bench=append
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
build=${BUILD_DIR:-$root/build-bench}
case ${1:-} in -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

# Two cores shared with other engineers: never two builds at once.
wait_for_compilers() {
  wait_quiet "${BUILD_WAIT:-1800}" || { echo "append: gave up waiting for other builds" >&2; exit 1; }
}
mkdir -p "$out"
wait_for_compilers
cmake -S "$root" -B "$build" -DGONGKAI_BENCH=ON -DGONGKAI_TESTS=OFF -DCMAKE_BUILD_TYPE=Release > "$out/append-cmake.log" 2>&1 ||
  { cat "$out/append-cmake.log" >&2; exit 1; }
wait_for_compilers
make -C "$build" -j1 append_bench

wait_for_compilers   # and for quiet before measuring
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-append.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
check_build_processes
fs=$(df -T "$tmp" | awk 'NR == 2 {print $2 " on " $1}')
echo "append: running in $tmp ($fs)"
"$build/bench/append_bench" --dir "$tmp" --json "$tmp/append.json" "$@"

python3 - "$tmp/append.json" "$out/append.json" "$root" "$load_at_start" "$busy" "$fs" <<'EOF'
import json, os, platform, subprocess, sys, time
src, dst, root, load_at_start, busy, fs = sys.argv[1:]
d = json.load(open(src))
git = lambda *a: subprocess.run(["git", "-C", root, *a], capture_output=True, text=True).stdout.strip()
d["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
d["dir_filesystem"] = fs
d["host"] = {"cpus": os.cpu_count(), "kernel": platform.release(), "loadavg_at_start": load_at_start,
             "loadavg_at_end": open("/proc/loadavg").read().split()[:3], "build_processes_at_start": int(busy)}
d["build"] = {"type": "Release", "commit": git("rev-parse", "--short", "HEAD"),
              "tree_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
with open(dst, "w") as f:
    json.dump(d, f, indent=1)
    f.write("\n")
print(f"written: {dst}")
EOF
