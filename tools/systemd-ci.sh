#!/usr/bin/env bash
# The systemd stage of CI (.ci/run): the .deb built, installed and run for real
# under systemd as PID 1, in a fresh Debian 12 root that
# ../shared/tools/systemd-root.sh boots with systemd-nspawn.
#
#   tools/systemd-ci.sh --check   on the host: exit 0 when systemd-nspawn can run
#                                 here, else one line saying why and exit 77
#   tools/systemd-ci.sh           inside the booted root, as root, from the
#                                 checkout: the stage itself
#
# .ci/run: tools/systemd-ci.sh --check && \
#          ../shared/tools/systemd-root.sh . ../shared 'bash tools/systemd-ci.sh'
#
# Inside, as a new admin on a minimal Debian would:
#   1. build the .deb (Debian's build flags, no tests), then purge the build
#      dependencies again, so that the package is installed where only its
#      Depends bring its libraries, and no procps (/bin/kill);
#   2. apt install ./gongkai_*.deb; add a share; systemctl enable --now;
#   3. drop a file and find it with the search API (HTTP from bash's
#      /dev/tcp: no curl, which would bring libraries of its own);
#   4. systemctl reload: a token written into the tokens file is refused
#      before and accepted as soon as reload returns; a new configuration whose
#      port is taken is refused by reload, and the daemon serves on the old one;
#   5. systemctl restart: the same documents, versions and log size;
#   6. the watchdog: kill -STOP the main process, and systemd kills and
#      restarts it after WatchdogSec= (the unit's value; the wait is bounded);
#   7. gongkai-hub: PostgreSQL installed, the hub started as a unit, the node
#      names it as its witness and serves its cosignature; the hub mirrors the
#      node's document and finds it; restarted, the hub
#      still holds the witnessed size; gongkai-hub-shards (xapian-tcpsrv)
#      serves its shards;
#   8. systemd-analyze security: exposure <= 1.5 for the three units;
#   9. apt purge: program, configuration, tokens and enablement gone, the
#      archive (catalog, blobs, keys) and the gongkai user kept (see
#      systemd/debian/postrm); installed again, the package finds the archive
#      intact: the same documents, and gongkai verify passes.
# Each step prints its time. Through systemd-root.sh the stage took 4m23s to
# 9m52s on 2 cores shared with other builds (5 runs): the build 2 to 7 minutes
# of it, purging and installing 10 to 70 s, the watchdog step 66 s, the rest
# under 20 s.
set -euo pipefail

skip() {
  echo "SKIP: systemd stage: $*"
  exit 77
}

if [ "${1:-}" = --check ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn boots a container)"
  for tool in systemd-nspawn debootstrap; do
    command -v $tool >/dev/null && continue
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container debootstrap; } \
      >/dev/null 2>&1; then
      skip "systemd-nspawn is not installed and cannot be (apt-get install systemd-container debootstrap failed)"
    fi
    break
  done
  unshare --mount --pid --uts --ipc --net --fork true 2>/dev/null ||
    skip "no mount/pid/network namespaces here (an unprivileged container?)"
  # systemd-nspawn itself on a tiny tree that borrows the host's /usr: it needs
  # the namespaces, a writable cgroup hierarchy and /dev, as booting does.
  mkdir -p /run/systemd/nspawn
  [ "$(stat -f -c %T /run/systemd/nspawn)" = tmpfs ] || mount -t tmpfs tmpfs /run/systemd/nspawn
  probe=$(mktemp -d)
  trap 'rm -rf "$probe"' EXIT
  mkdir -p "$probe/usr" "$probe/etc"
  cp /etc/os-release "$probe/etc/os-release"
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$probe/$d"; done
  if ! out=$(timeout 60 systemd-nspawn --quiet --register=no --keep-unit -D "$probe" --bind-ro=/usr \
               /usr/bin/true 2>&1); then
    skip "systemd-nspawn cannot run here: $(printf '%s\n' "$out" | grep -v '^$' | head -1)"
  fi
  exit 0
fi

# --- inside the booted root -------------------------------------------------
[ "$(id -u)" -eq 0 ] || { echo "systemd-ci: run as root inside the booted root" >&2; exit 2; }
[ -d /run/systemd/system ] || { echo "systemd-ci: systemd is not PID 1 here; run it through systemd-root.sh" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
src=$(pwd)
conf=/etc/gongkai/gongkaid.conf
share=/srv/gongkai-ci/share
port=8080
fail=0
times=()
step_start=$SECONDS
current=
step() {  # step NAME: ends the previous step's timing
  if [ -n "$current" ]; then times+=("$(printf '%4d s  %s' $((SECONDS - step_start)) "$current")"); fi
  current=$1
  step_start=$SECONDS
  echo "=== systemd-ci: $1 (at ${SECONDS} s)"
}
ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*"
  fail=1
}
quiet() { "$@" >/dev/null 2>&1; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
die() {
  bad "$*"
  journalctl -u gongkaid --no-pager -o short-precise 2>/dev/null | tail -40
  exit 1
}
on_exit() {
  local rc=$?
  if [ -n "$current" ]; then times+=("$(printf '%4d s  %s' $((SECONDS - step_start)) "$current")"); fi
  echo "=== systemd-ci: times"
  printf '%s\n' "${times[@]}"
  echo "=== systemd-ci: $([ $rc -eq 0 ] && [ $fail -eq 0 ] && echo passed || echo FAILED) after ${SECONDS} s"
}
trap on_exit EXIT

# GET PATH [TOKEN]: sets status and body. Plain bash (/dev/tcp), HTTP/1.0, so
# the server closes the connection after its answer. No pipes on what came
# back (pipefail and an early-exiting reader do not mix).
status=
body=
get() {
  local path=$1 auth= response line
  if [ -n "${2:-}" ]; then auth="Authorization: Bearer $2"$'\r\n'; fi
  response=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
               printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n' "$path" "$auth" >&3 &&
               timeout 30 cat <&3) 2>/dev/null) || true
  line=${response%%$'\r'*}
  status=${line#* }
  status=${status%% *}
  body=${response#*$'\r\n\r\n'}
}
body_has() { [[ $body == *"$1"* ]]; }
contains() { [[ $1 == *"$2"* ]]; }
urlencode() {
  local LC_ALL=C s=$1 out= c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [a-zA-Z0-9.~_-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}
field() { if [[ $body =~ \"$1\":([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; fi; }
# wait_for SECONDS COMMAND...: polls once a second.
wait_for() {
  local limit=$1 i=0
  shift
  until "$@"; do
    i=$((i + 1))
    [ $i -lt "$limit" ] || return 1
    sleep 1
  done
}
healthy() { get /healthz && [ "$status" = 200 ]; }
main_pid() { systemctl show -P MainPID gongkaid; }
usec() { systemd-analyze timespan "$1" | sed -n 's/.*μs: *//p'; }

step "build the .deb (Debian's build flags, no tests)"
# The build dependencies of tools/install-deps.sh without the test-only ones,
# and curl for tests/systemd_live_test.sh.
build_deps=(build-essential cmake pkg-config dpkg-dev file libpoco-dev libxapian-dev libarchive-dev libssl-dev
            libsqlite3-dev libuchardet-dev libopencc-dev libxml2-dev libpoppler-cpp-dev libsystemd-dev libpq-dev curl)
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${build_deps[@]}" >/dev/null
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
build=$(mktemp -d /root/gongkai-build.XXXXXX)
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
  cmake -S "$src" -B "$build" -DGONGKAI_TESTS=OFF >"$build/cmake.log" || { cat "$build/cmake.log"; die "cmake"; }
nice cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; die "build"; }
(cd "$build" && cpack -G DEB -B "$build/out" >"$build/cpack.log" 2>&1) || { cat "$build/cpack.log"; die "cpack"; }
deb=$(ls "$build"/out/gongkai_*.deb)
cp "$deb" /root/
deb=/root/$(basename "$deb")
ok "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

step "the systemd_live test, here where systemd is PID 1"
if sh "$src/tests/systemd_live_test.sh" "$src" "$build/daemon/gongkaid"; then ok "systemd_live"; else bad "systemd_live"; fi

step "purge the build dependencies: back to a minimal Debian"
apt-get purge -y -qq --auto-remove "${build_deps[@]}" >/dev/null
rm -rf "$build"
check "the libraries went with them (libxapian30, libpoconet80 not installed)" \
  sh -c '! dpkg -s libxapian30 >/dev/null 2>&1 && ! dpkg -s libpoconet80 >/dev/null 2>&1'
if [ -e /bin/kill ] || [ -e /usr/bin/kill ]; then
  echo "note: a kill program is installed here ($(command -v kill)), so reload is not tried without it"
else
  ok "no /bin/kill (procps) here"
fi

step "apt install ./$(basename "$deb")"
apt-get install -y -qq "$deb" >/dev/null
check "gongkai is installed" quiet dpkg -s gongkai
check "not started by the installation" sh -c '! systemctl is-active --quiet gongkaid'
check "the gongkai user exists" quiet getent passwd gongkai

step "configure a share and systemctl enable --now gongkaid"
mkdir -p "$share"
cat >>"$conf" <<CONF

[share.ci]
path = $share
office = 持續整合辦公室
CONF
check "gongkai config check" quiet gongkai config check "$conf"
systemctl enable --now gongkaid || die "systemctl enable --now gongkaid"
check "active" systemctl is-active --quiet gongkaid
check "enabled" systemctl is-enabled --quiet gongkaid
check "answers on port $port" healthy

step "drop a file and find it over HTTP"
word="系統服務單元測試"
printf '%s：文件在 systemd 之下歸檔並可檢索。\n' "$word" >"$share/通知.txt"
found() { get "/api/v1/search?q=$(urlencode "$word")" && [ "$status" = 200 ] && [ "$(field total)" = 1 ]; }
wait_for 60 found || die "search for $word did not find the file: $status $body"
check "the search result is the file" body_has '"path":"通知.txt"'
status_ok() { systemctl show -P StatusText gongkaid | grep '^1 documents' >/dev/null; }
check "systemctl status shows the document" wait_for 30 status_ok
systemctl show -P StatusText gongkaid

step "systemctl reload: a new token takes effect"
token=gk_ci_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
get /api/v1/status "$token"
check "a token not yet in the tokens file is refused ($status)" test "$status" = 401
printf 'inspector %s ci\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >>/var/lib/gongkai/tokens
pid=$(main_pid)
check "systemctl reload" systemctl reload gongkaid
# No waiting: reload returns once the daemon has reloaded (gongkaid --reload).
get /api/v1/status "$token"
check "the token is accepted as soon as reload returned ($status)" test "$status" = 200
check "same main process ($pid)" test "$(main_pid)" = "$pid"

step "systemctl reload: a new configuration that cannot start is refused"
# Another program listens on the port of the new configuration (systemd's
# socket activator: it listens at once, and on the first connection executes
# sleep, which keeps the socket). Seen as listening in /proc/net/tcp.
taken=18081
systemd-socket-activate -l "127.0.0.1:$taken" sleep 3600 >/dev/null 2>&1 &
holder=$!
listening() { grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' $taken) 00000000:0000 0A " /proc/net/tcp; }
wait_for 10 listening || die "could not take port $taken"
cp "$conf" /root/gongkaid.conf.good
sed -i "s/^listen = 127.0.0.1:$port\$/listen = 127.0.0.1:$taken/" "$conf"
check "the configuration now names port $taken" grep -q "^listen = 127.0.0.1:$taken\$" "$conf"
check "systemctl reload fails" sh -c '! systemctl reload gongkaid 2>/dev/null'
check "still active" systemctl is-active --quiet gongkaid
check "same main process" test "$(main_pid)" = "$pid"
check "the old port answers" healthy
says_why() { journalctl -u gongkaid -o cat | grep "kept the running configuration.*cannot listen on 127.0.0.1:$taken" >/dev/null; }
check "the journal says why" wait_for 10 says_why
journalctl -u gongkaid -o cat | grep "kept the running configuration" | tail -1
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
cp /root/gongkaid.conf.good "$conf"
check "systemctl reload with the configuration restored" systemctl reload gongkaid

step "systemctl restart: nothing duplicated"
get /api/v1/status "$token"
before="$(field documents) documents, $(field versions) versions, $(field records) records"
systemctl restart gongkaid || die "systemctl restart"
check "a new main process" test "$(main_pid)" != "$pid"
check "answers after the restart" wait_for 30 healthy
idle() { get /api/v1/status "$token" && [ "$status" = 200 ] && [ "$(field queued)" = 0 ]; }
wait_for 60 idle || bad "not idle after the restart: $body"
after="$(field documents) documents, $(field versions) versions, $(field records) records"
check "the same archive after the restart ($after)" test "$after" = "$before"
check "still one hit" found

step "the watchdog: kill -STOP the main process"
watchdog=$(usec "$(systemctl show -P WatchdogUSec gongkaid)")
restart_sec=$(usec "$(systemctl show -P RestartUSec gongkaid)")
[ "${watchdog:-0}" -gt 0 ] || die "the unit has no WatchdogSec="
limit=$(((watchdog + restart_sec) / 1000000 + 60))
pid=$(main_pid)
restarts=$(systemctl show -P NRestarts gongkaid)
echo "WatchdogSec=$((watchdog / 1000000))s, RestartSec=$((restart_sec / 1000000))s: waiting at most ${limit}s"
stopped_at=$SECONDS
kill -STOP "$pid"
restarted() { p=$(main_pid) && [ "$p" != 0 ] && [ "$p" != "$pid" ] && systemctl is-active --quiet gongkaid; }
if wait_for "$limit" restarted; then
  ok "killed and restarted after $((SECONDS - stopped_at)) s (new main process $(main_pid))"
else
  kill -CONT "$pid" 2>/dev/null || true
  bad "not restarted within ${limit}s"
fi
check "the journal names the watchdog" sh -c "journalctl -u gongkaid -o cat | grep -q 'Watchdog timeout'"
check "NRestarts went up" test "$(systemctl show -P NRestarts gongkaid)" -gt "$restarts"
check "answers again" wait_for 30 healthy
check "the document is still found" wait_for 30 found

step "gongkai-hub: the county's witness, on PostgreSQL, cosigns the node's checkpoints"
apt-get install -y -qq --no-install-recommends postgresql >/dev/null || die "apt install postgresql"
check "PostgreSQL is up" wait_for 60 quiet runuser -u postgres -- psql -Atqc 'SELECT 1'
quiet runuser -u postgres -- createuser gongkai || bad "createuser gongkai"
quiet runuser -u postgres -- createdb -O gongkai gongkai_hub || bad "createdb gongkai_hub"
get /api/v1/keys
[[ $body =~ \"note_key\":\"([^\"]+)\" ]] || die "no note_key in /api/v1/keys: $body"
# A hub token for the mirror, made by the CLI through the running daemon.
hub_token=$(runuser -u gongkai -- gongkai --config /etc/gongkai/gongkaid.conf token add --role hub --name county-hub 2>/dev/null) ||
  die "gongkai token add --role hub"
get /api/v1/status "$hub_token"
check "a hub token reads the status ($status)" test "$status" = 200
get /api/v1/requests "$hub_token"
check "a hub token may not list the requests ($status)" test "$status" = 403
install -m 0640 -g gongkai /dev/null /etc/gongkai/hub-ci.token
printf '%s\n' "$hub_token" >/etc/gongkai/hub-ci.token
cat >/etc/gongkai/gongkai-hub.conf <<CONF
[hub]
data_dir = /var/lib/gongkai-hub
listen = 127.0.0.1:8091
postgres = postgresql:///gongkai_hub?host=/run/postgresql
name = hub.ci.test/witness
sync_interval = 1s

[node.ci]
url = http://127.0.0.1:$port
note_key = ${BASH_REMATCH[1]}
token_file = /etc/gongkai/hub-ci.token
CONF
check "not started by the installation" sh -c '! systemctl is-active --quiet gongkai-hub'
systemctl start gongkai-hub || { journalctl -u gongkai-hub --no-pager -o cat | tail -20; die "systemctl start gongkai-hub"; }
check "gongkai-hub active (it told systemd it is ready)" systemctl is-active --quiet gongkai-hub
check "its witness key, mode 0600, owned by gongkai" \
  test "$(stat -c '%a %U' /var/lib/gongkai-hub/witness.pem)" = "600 gongkai"
sed -i 's|^;witnesses = .*|witnesses = http://127.0.0.1:8091/witness|' "$conf"
check "systemctl reload gongkaid with the hub as its witness" systemctl reload gongkaid
cosigned() { get /tlog/checkpoint && [ "$status" = 200 ] && body_has $'\n\xe2\x80\x94 hub.ci.test/witness '; }
check "the node's checkpoint comes back cosigned by the hub" wait_for 30 cosigned
node_size=$(printf '%s\n' "$body" | sed -n 2p)
hub_port() { port=8091; get "$@"; port=8080; }
hub_port /metrics
has_line() { grep -qxF -- "$1" <<<"$body"; }
check "the hub's metrics: size $node_size witnessed" has_line "gongkai_hub_witnessed_tree_size{node=\"ci\"} $node_size"
check "the hub's metrics: no split view" has_line 'gongkai_hub_split_views{node="ci"} 0'
mirrored() { hub_port "/api/v1/search?q=$(urlencode "$word")" && [ "$status" = 200 ] && body_has '"node":"ci"'; }
check "the hub mirrors the node's document: found at the hub (extraction workers run in the unit)" wait_for 60 mirrored
hub_port /metrics
check "the hub's metrics: the mirror is not stale" has_line 'gongkai_hub_mirror_stale{node="ci"} 0'
pid=$(systemctl show -P MainPID gongkai-hub)
systemctl restart gongkai-hub || die "systemctl restart gongkai-hub"
check "gongkai-hub restarted (new main process)" test "$(systemctl show -P MainPID gongkai-hub)" != "$pid"
hub_port /api/v1/status
check "after the restart it still holds size $node_size (PostgreSQL)" body_has "\"witnessed_size\":$node_size"
# Its shards for a front hub (several hub machines): xapian-tcpsrv as a unit.
apt-get install -y -qq --no-install-recommends xapian-tools >/dev/null || bad "apt-get install xapian-tools"
systemctl start gongkai-hub-shards || bad "systemctl start gongkai-hub-shards"
greeting() { [ "$(timeout 5 bash -c 'head -c 1 </dev/tcp/127.0.0.1/33333' | wc -c)" = 1 ]; }
check "gongkai-hub-shards serves the mirror's shards on 33333 (a Xapian greeting)" wait_for 30 greeting

step "systemd-analyze security"
for unit in gongkaid gongkai-hub gongkai-hub-shards; do
  report=$(systemd-analyze security --no-pager $unit 2>&1) || true
  exposure=$(printf '%s\n' "$report" | sed -n "s/.*Overall exposure level for $unit.service: \([0-9.]*\).*/\1/p")
  echo "$unit exposure level: ${exposure:-?}"
  check "$unit exposure ${exposure:-?} <= 1.5" awk -v s="${exposure:-99}" 'BEGIN { exit !(s <= 1.5) }'
done

step "apt purge: configuration gone, archive kept"
get /api/v1/status "$token"
documents=$(field documents)
# The hub's token for the node is the admin's file, not the package's: dpkg
# would (rightly) leave it, and /etc/gongkai with it.
rm -f /etc/gongkai/hub-ci.token
purged=$(apt-get purge -y -qq gongkai 2>&1) || bad "apt purge gongkai"
printf '%s\n' "$purged" | grep -v '^(Reading database' || true
check "purge says it kept the archive" contains "$purged" "kept the archive in /var/lib/gongkai"
check "the package is gone (not even its configuration files)" sh -c '! dpkg -s gongkai >/dev/null 2>&1'
check "the daemon is gone" sh -c '! systemctl is-active --quiet gongkaid && test ! -e /usr/sbin/gongkaid'
check "the hub is gone" sh -c '! systemctl is-active --quiet gongkai-hub && test ! -e /usr/sbin/gongkai-hub'
check "its shards' server is stopped" sh -c '! systemctl is-active --quiet gongkai-hub-shards'
check "the witness key kept" test -s /var/lib/gongkai-hub/witness.pem
check "/etc/gongkai removed" test ! -e /etc/gongkai
check "no enablement symlink left" test ! -e /etc/systemd/system/multi-user.target.wants/gongkaid.service
check "not masked" test ! -L /etc/systemd/system/gongkaid.service
check "tokens file removed" test ! -e /var/lib/gongkai/tokens
check "the archive kept: catalog" test -s /var/lib/gongkai/catalog.sqlite
check "the archive kept: blobs" sh -c 'find /var/lib/gongkai/blobs -type f | grep -q .'
check "the archive kept: signing keys" test -s /var/lib/gongkai/keys/ACTIVE
check "the gongkai user kept (it owns the archive)" quiet getent passwd gongkai

step "installed again: the kept archive is intact"
apt-get install -y -qq "$deb" >/dev/null
cat >>"$conf" <<CONF

[share.ci]
path = $share
office = 持續整合辦公室
CONF
systemctl enable --now gongkaid || die "systemctl enable --now gongkaid after the purge"
check "answers" wait_for 30 healthy
check "the document is found again" wait_for 60 found
check "gongkai verify on the kept archive" quiet gongkai --config "$conf" verify
printf 'inspector %s ci\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >>/var/lib/gongkai/tokens
systemctl reload gongkaid
get /api/v1/status "$token"
check "the same $documents documents" test "$(field documents)" = "$documents"

step "done"
[ $fail -eq 0 ] || journalctl -u gongkaid --no-pager -o short-precise | tail -60
exit $fail
