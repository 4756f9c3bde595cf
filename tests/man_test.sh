#!/bin/sh
# The man pages render without a single groff or man warning, gongkai(1)
# describes every command, and gongkaid.conf(5) every key the config parser
# accepts. usage: man_test.sh SOURCE_DIR. Exit 77 = skipped.
set -eu
src=$1
# man picks its output encoding from the locale: UTF-8, for the Chinese examples.
export LC_ALL=C.UTF-8
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
  echo "SKIP: groff or man not found (apt-get install groff-base man-db)"
  exit 77
fi
fail=0
for page in "$src"/docs/man/*.[0-9]; do
  # -k: preconv for the UTF-8 (Chinese) examples; -ww: every warning; -z: no output.
  warnings=$(groff -k -man -Tutf8 -ww -z "$page" 2>&1)
  warnings=$warnings$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then
    echo "FAIL: $page:"
    echo "$warnings"
    fail=1
  else
    echo "ok: $(basename "$page") renders cleanly"
  fi
done

rendered=$(MANWIDTH=200 man -l "$src/docs/man/gongkai.1" 2>/dev/null)
# The commands of the CLI's command table (daemon/src/cli/commands.cc); the
# unit test "cli: every command has ..." checks the same on the page's source.
usage_commands=$(grep -o '^      {"[a-z][a-z -]*", "' "$src/daemon/src/cli/commands.cc" | sed 's/^      {"//; s/", "$//')
[ -n "$usage_commands" ] || { echo "FAIL: no commands found in daemon/src/cli/commands.cc"; exit 1; }
printf '%s\n' "$usage_commands" | while IFS= read -r cmd; do
  printf '%s\n' "$rendered" | grep -q "^       $cmd\( \|$\)" || { echo "FAIL: gongkai(1) lacks '$cmd'"; exit 1; }
done || fail=1
for code in 0 1 2; do
  printf '%s\n' "$rendered" | grep -q "^       $code  " || { echo "FAIL: gongkai(1) lacks exit status $code"; fail=1; }
done

# Every key config/src/config.cc knows: the lists its sections' OnlyKeys({...})
# take, gongkai-hub's (in ReadHub*) in gongkai-hub(8), the others in gongkaid.conf(5).
keys_of() {  # keys_of hub|daemon
  awk -v want="$1" '/^Status Read[A-Za-z]*\(/ { hub = ($0 ~ /^Status ReadHub/) }
                    /OnlyKeys\(/ { on = 1 } on && (hub == (want == "hub")) { print } /\}\)/ { on = 0 }' \
    "$src/config/src/config.cc" | grep -o '"[a-z_]*"' | tr -d '"'
}
for pair in daemon:gongkaid.conf.5 hub:gongkai-hub.8; do
  keys=$(keys_of "${pair%%:*}")
  page=${pair#*:}
  [ -n "$keys" ] || { echo "FAIL: no ${pair%%:*} keys found in config.cc"; exit 1; }
  rendered=$(MANWIDTH=200 man -l "$src/docs/man/$page" 2>/dev/null)
  for key in $keys; do
    printf '%s\n' "$rendered" | grep -q "^       $key = " || { echo "FAIL: $page lacks key '$key'"; fail=1; }
  done
done
[ $fail -eq 0 ] && echo "ok: every command, exit status and config key is documented"
exit $fail
