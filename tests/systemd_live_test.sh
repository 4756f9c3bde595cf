#!/bin/sh
# Starts gongkaid for real under the host's systemd, with the hardening of
# systemd/gongkaid.service, as a throw-away unit: Type=notify start-up, the
# STATUS= text, the HTTP port, a document archived through the read-only
# view, reload and stop. Needs systemd as PID 1 and root; skipped otherwise
# (CI containers), where `systemd_unit` and the NOTIFY_SOCKET e2e tests stand in.
# usage: systemd_live_test.sh SOURCE_DIR GONGKAID_BINARY. Exit 77 = skipped.
set -eu
src=$1
gongkaid=$2
if [ ! -d /run/systemd/system ]; then
  echo "SKIP: systemd is not PID 1 here; the unit is checked offline (systemd_unit) and the"
  echo "      notifications with a test NOTIFY_SOCKET (gongkai_e2e_tests [systemd])"
  exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: starting a system unit needs root"
  exit 77
fi

name=gongkaid-live-test-$$
unit=/run/systemd/system/$name.service
# Outside /tmp and /home, which the unit hides (PrivateTmp=, ProtectHome=).
scratch=$(mktemp -d /var/lib/gongkai-live-test.XXXXXX)
cleanup() {
  systemctl stop "$name" 2>/dev/null || true
  rm -f "$unit"
  systemctl daemon-reload
  rm -rf "$scratch" "/var/lib/private/$name" "/var/lib/$name"
}
trap cleanup EXIT
chmod 755 "$scratch"
mkdir -p "$scratch/share"
printf '服務單元測試\n' >"$scratch/share/live.txt"
chmod -R a+rX "$scratch"
cp "$gongkaid" "$scratch/gongkaid"
cat >"$scratch/gongkaid.conf" <<CONF
[daemon]
data_dir = /var/lib/$name
listen = 127.0.0.1:0
[share.live]
path = $scratch/share
CONF

# The packaged unit with this run's binary, config and state folder; a
# dynamic user instead of the packaged gongkai user, so the host is not changed.
sed -e "s|^ExecStart=.*|ExecStart=$scratch/gongkaid --config $scratch/gongkaid.conf|" \
    -e "s|^ExecReload=/usr/sbin/gongkaid |ExecReload=$scratch/gongkaid |" \
    -e "s|^StateDirectory=.*|StateDirectory=$name|" \
    -e "s|^User=.*|DynamicUser=yes|" -e "/^Group=/d" \
    "$src/systemd/gongkaid.service" >"$unit"
systemctl daemon-reload

fail=0
check() {
  what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
# Type=notify: returns once READY=1 arrived (or the start failed).
check "systemctl start (READY=1)" systemctl start "$name"
check "active" systemctl is-active --quiet "$name"
port=$(journalctl -u "$name" -o cat | sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' | tail -1)
check "port answers" curl -fsS "http://127.0.0.1:$port/healthz" -o /dev/null
status_ok() { systemctl show -p StatusText --value "$name" | grep -q '^1 documents'; }
i=0
while ! status_ok && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
check "STATUS= shows the archived document" status_ok
# ExecReload= (gongkaid --reload) returns once the daemon has reloaded.
check "systemctl reload" systemctl reload "$name"
check "active after reload" systemctl is-active --quiet "$name"
reload_logged() { journalctl -u "$name" -o cat | grep -q 'reloaded its configuration'; }
i=0
while ! reload_logged && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
check "ExecReload= logged the daemon's answer" reload_logged
# journald strips the "<6>" prefixes it understood.
check "journal parsed the priority prefixes" sh -c "! journalctl -u '$name' -o cat | grep -q '^<[0-9]>'"
check "systemctl stop" systemctl stop "$name"
[ $fail -ne 0 ] && journalctl -u "$name" -o short-precise --no-pager | tail -50
exit $fail
