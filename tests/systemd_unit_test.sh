#!/bin/sh
# Checks systemd/gongkaid.service and its companions with systemd's own tools:
#   - `systemd-analyze verify` reports nothing (unknown keys, bad values and a
#     missing ExecStart binary all print a line),
#   - `systemd-analyze security --offline=true` rates the exposure <= 2.0,
#   - systemd-sysusers and systemd-tmpfiles accept their snippets.
# Everything runs against a scratch root holding the built gongkaid at the
# unit's ExecStart path, so nothing is installed on the host.
# usage: systemd_unit_test.sh SOURCE_DIR GONGKAID_BINARY. Exit 77 = skipped.
set -eu
src=$1
gongkaid=$2
unit=$src/systemd/gongkaid.service

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not found (apt-get install systemd)"
  exit 77
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd/system" "$root/etc"
# The units gongkaid.service depends on (targets, slices) come from the host.
cp /usr/lib/systemd/system/*.target /usr/lib/systemd/system/*.slice "$root/usr/lib/systemd/system/"
cp "$unit" "$root/usr/lib/systemd/system/gongkaid.service"
for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit"); do
  mkdir -p "$root$(dirname "$cmd")"
  case "$cmd" in
    */gongkaid) cp "$gongkaid" "$root$cmd" ;;
    *) cp "$cmd" "$root$cmd" ;;
  esac
done

status=0
out=$(systemd-analyze verify --man=no --root="$root" "$root/usr/lib/systemd/system/gongkaid.service" 2>&1) || status=1
if [ -n "$out" ] || [ $status -ne 0 ]; then
  echo "FAIL: systemd-analyze verify:"
  echo "$out"
  exit 1
fi
echo "ok: systemd-analyze verify is clean"

report=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for gongkaid.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
  echo "FAIL: no exposure level in:"
  echo "$report"
  exit 1
fi
echo "exposure level: $score"
printf '%s\n' "$report" | grep '✗' || true
if ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
  echo "FAIL: exposure level $score > 2.0"
  exit 1
fi
echo "ok: exposure level $score <= 2.0"

# The snippets the package installs: the user exists and owns the archive.
systemd-sysusers --root="$root" "$src/systemd/gongkai.sysusers"
grep -q '^gongkai:' "$root/etc/passwd" || { echo "FAIL: sysusers made no gongkai user"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  systemd-tmpfiles --root="$root" --create "$src/systemd/gongkai.tmpfiles"
  uid=$(awk -F: '$1 == "gongkai" { print $3 }' "$root/etc/passwd")
  got=$(stat -c '%u %a' "$root/var/lib/gongkai/tokens")
  [ "$got" = "$uid 600" ] || { echo "FAIL: tokens file is uid/mode '$got', want '$uid 600'"; exit 1; }
else
  # Without root the files are made but cannot be given to the gongkai user.
  systemd-tmpfiles --root="$root" --create "$src/systemd/gongkai.tmpfiles" 2>/dev/null || true
  [ "$(stat -c %a "$root/var/lib/gongkai/tokens")" = 600 ] || { echo "FAIL: tokens file not made"; exit 1; }
  echo "note: not root, so the owner of the tmpfiles entries is not checked"
fi
echo "ok: sysusers and tmpfiles snippets"
