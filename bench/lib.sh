# shellcheck shell=bash disable=SC2034  # sourced: the variables it sets are used by the scripts
# Shell functions shared by the benchmarks (ingest.sh, verify.sh). Source it
# after setting `bench` (the name that prefixes messages, e.g. bench=ingest).
# Needs bash 5 (EPOCHREALTIME), Python 3, curl and xxd.
#
# Sets: here (bench/), root (the checkout), out (bench/out), corpus (GAZETTE or
# ../shared/corpus/bench/gazette.jsonl.gz beside the checkout).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out
corpus=${GAZETTE:-$here/../../shared/corpus/bench/gazette.jsonl.gz}
: "${bench:=bench}"

# --- time, CPU, JSON ----------------------------------------------------------

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
# With TIMED_STAMP=1 each line of output is prefixed in LOG with the seconds
# since the start at which it arrived (to see when a program's stages end).
timed() {
  local log=$1; shift
  python3 - "$log" "$@" <<'EOF'
import os, resource, subprocess, sys, time
def busy():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")
stamp = os.environ.get("TIMED_STAMP") == "1"
b0, t0 = busy(), time.monotonic()
with open(sys.argv[1], "wb") as log:
    if stamp:
        p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in p.stdout:
            log.write(b"%.3f " % (time.monotonic() - t0) + line)
        rc = p.wait()
    else:
        rc = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
t, b1 = time.monotonic() - t0, busy()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{t:.3f} {ru.ru_maxrss} {rc} {ru.ru_utime + ru.ru_stime:.2f} {b1 - b0:.2f}")
EOF
}
apt_install() {  # apt_install PACKAGE...: as the brief of this benchmark allows (root, Debian)
  echo "$bench: installing $* with apt-get"
  if [ "$(id -u)" -ne 0 ]; then echo "$bench: need root to install $*" >&2; return 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
doc_count() {  # doc_count XAPIAN_DB_DIR
  xapian-delve "$1" 2>/dev/null | sed -n 's/^number of documents = //p'
}

# check_build_processes: sets busy (how many compilers/makes/test runs are
# running now; they skew every figure, and it warns on stderr when there are
# any) and load_at_start.
check_build_processes() {
  load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
  busy=$(ps -eo comm= | grep -cE '^(cc1plus|make|ld|ctest|gongkai_.*)$' || true)
  if [ "$busy" -gt 0 ]; then
    echo "$bench: WARNING: $busy compiler/make processes are running (load $load_at_start); figures will be noisy" >&2
  fi
}

# wait_quiet SECONDS: waits (up to SECONDS) while compilers, links, makes or
# test runs are running, checking every 5 s; returns 1 if they still are.
wait_quiet() {
  local waited=0 said=
  while pgrep -f 'cc1plus|collect2|ctest|gongkai_(unit|e2e)_tests|gmake|cmake --build' >/dev/null; do
    [ "$waited" -lt "$1" ] || return 1
    [ -n "$said" ] || { echo "$bench: waiting up to $1 s for other builds/tests to finish"; said=1; }
    sleep 5; waited=$((waited + 5))
  done
}

# --- pages --------------------------------------------------------------------

# make_pages N: writes (or reuses) bench/out/pages-N; sets pages, nbytes,
# probe_file, probe_phrase.
make_pages() {
  pages=$out/pages-$1
  python3 "$here/make_html.py" --src "$corpus" --count "$1" --out "$pages"
  read -r nbytes probe_file probe_phrase < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
p = m.get("probe") or {}
print(m["bytes"], p.get("file", "-"), p.get("phrase", "-"))' "$pages.json")
}

# --- the daemon ---------------------------------------------------------------

# gk_setup DIR: a fresh DIR with share/, an inspector token (sets token) in
# DIR/tokens, and DIR/gongkai.conf (one share, settle 200ms, port 0).
gk_setup() {
  local g=$1
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
  # Only when asked: a daemon from before [index] would refuse the section.
  if [ -n "${INDEX_SHARDS:-}" ]; then printf '[index]\nshards = %s\n' "$INDEX_SHARDS" >> "$g/gongkai.conf"; fi
}

daemon_pid=
daemon_rc=
# gk_start GONGKAID CONF LOG: starts the daemon with stderr to LOG, reads its
# port; sets daemon_pid, port, base, auth. Returns 1 (log on stderr) if it
# never reports a port.
gk_start() {
  local gongkaid=$1 conf=$2 log=$3
  "$gongkaid" --config "$conf" 2> "$log" &
  daemon_pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "$bench: gongkaid did not report its port; its log:" >&2
    cat "$log" >&2
    return 1
  fi
  base=http://127.0.0.1:$port
  auth=(-H "Authorization: Bearer $token")
}
gk_status() { curl -s -m 10 "${auth[@]}" "$base/api/v1/status" || true; }
# gk_wait_scan: until the start-up scan of the (empty) share is over.
gk_wait_scan() {
  local s
  for _ in $(seq 1 100); do
    s=$(gk_status)
    [ "$(json_num documents "$s")" = 0 ] && [ "$(json_num queued "$s")" = 0 ] && break
    sleep 0.1
  done
}
# utime + stime of the daemon and of its children (the text extraction
# workers), with those of the children they reaped, in clock ticks.
gk_proc_cpu() {
  local total=0 pid f
  for pid in "$daemon_pid" $(pgrep -P "$daemon_pid" 2>/dev/null); do
    f=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    f=${f##*) }; set -- $f; total=$(( total + ${12} + ${13} + ${14} + ${15} ))
  done
  echo "$total"
}
gk_peak_rss_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$daemon_pid/status" 2>/dev/null || true; }
# stop_daemon: SIGTERM, up to 30 s, then SIGKILL; sets daemon_rc. Safe to call twice.
stop_daemon() {
  [ -n "$daemon_pid" ] || return 0
  if kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    for _ in $(seq 1 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$daemon_pid" 2>/dev/null; then
      echo "$bench: gongkaid did not stop within 30 s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
  fi
  wait "$daemon_pid" 2>/dev/null && daemon_rc=0 || daemon_rc=$?
  daemon_pid=
}

# gk_ingest PAGES SHARE N TIMEOUT_S: copies PAGES/. into SHARE with one cp -r
# and polls the status every 0.1 s until documents >= N and queued == 0.
# Sets t0, t_copy, t_archived (all N documents archived), t_done (all
# searchable), outcome (ok | died | timeout), docs, queued, failed, backlog.
gk_ingest() {  # gk_ingest PAGES_DIR|- SHARE N TIMEOUT_S [T0]: copies (unless -) and waits until searchable
  local pages_dir=$1 share=$2 n=$3 timeout_s=$4 s t secs last_report=0
  t0=${5:-$(now)}
  [ "$pages_dir" = - ] || cp -r "$pages_dir/." "$share/"
  t_copy=$(now)
  t_archived= t_done= docs=0 queued=0 failed=0 backlog=0 outcome=timeout
  while :; do
    if ! kill -0 "$daemon_pid" 2>/dev/null; then outcome=died; break; fi
    s=$(gk_status)
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
      echo "$bench:   ${secs}s: documents=${docs:-?} queued=${queued:-?} index_backlog=${backlog:-?} failed=${failed:-?}"
    fi
    sleep 0.1
  done
}

# Anything but the daemon's own info lines: warnings, errors, and whatever a
# crash prints (the log format is "TIME LEVEL: message").
gk_log_ok_line='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (info|debug): '
gk_log_problems() { grep -cvE "$gk_log_ok_line" "$1" || true; }
