#!/bin/sh
# Checks systemd/gongkaid.service, gongkai-hub.service, gongkai-hub-shards.service
# and their companions
# with systemd's own tools:
#   - `systemd-analyze verify` reports nothing (unknown keys, bad values and a
#     missing ExecStart binary all print a line),
#   - `systemd-analyze security --offline=true` rates the exposure <= 2.0,
#   - systemd-sysusers and systemd-tmpfiles accept their snippets.
# Everything runs against a scratch root holding the built programs at the
# units' ExecStart paths, so nothing is installed on the host.
# usage: systemd_unit_test.sh SOURCE_DIR GONGKAID_BINARY GONGKAI_HUB_BINARY.
# Exit 77 = skipped.
set -eu
src=$1
gongkaid=$2
hub=$3

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not found (apt-get install systemd)"
  exit 77
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd/system" "$root/etc"
# The units ours depend on (targets, slices) come from the host.
cp /usr/lib/systemd/system/*.target /usr/lib/systemd/system/*.slice "$root/usr/lib/systemd/system/"
for name in gongkaid gongkai-hub gongkai-hub-shards; do
  unit=$src/systemd/$name.service
  cp "$unit" "$root/usr/lib/systemd/system/$name.service"
  for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit"); do
    mkdir -p "$root$(dirname "$cmd")"
    if [ "$name" = gongkai-hub-shards ] && ! command -v "$cmd" >/dev/null; then
      echo "SKIP: $cmd not found (apt-get install xapian-tools)"
      exit 77
    fi
    case "$cmd" in
      */gongkaid) cp "$gongkaid" "$root$cmd" ;;
      */gongkai-hub) cp "$hub" "$root$cmd" ;;
      *) cp "$cmd" "$root$cmd" ;;
    esac
  done

  status=0
  out=$(systemd-analyze verify --man=no --root="$root" "$root/usr/lib/systemd/system/$name.service" 2>&1) || status=1
  if [ -n "$out" ] || [ $status -ne 0 ]; then
    echo "FAIL: systemd-analyze verify $name.service:"
    echo "$out"
    exit 1
  fi
  echo "ok: systemd-analyze verify $name.service is clean"

  report=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
  score=$(printf '%s\n' "$report" | sed -n "s/.*Overall exposure level for $name.service: \([0-9.]*\).*/\1/p")
  if [ -z "$score" ]; then
    echo "FAIL: no exposure level for $name.service in:"
    echo "$report"
    exit 1
  fi
  echo "$name.service exposure level: $score"
  printf '%s\n' "$report" | grep '✗' || true
  if ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
    echo "FAIL: $name.service exposure level $score > 2.0"
    exit 1
  fi
  echo "ok: $name.service exposure level $score <= 2.0"
done

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
