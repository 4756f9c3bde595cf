#!/usr/bin/env bash
# README command 1: set everything up and run the daemon on the embedded demo:
# watches demo/share, keeps its archive in demo/data, serves HTTP on
# 127.0.0.1:8080. Stop it with Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
cat <<MSG

gongkai demo: watching $root/demo/share, archive in $root/demo/data
  try:  curl -s 'http://127.0.0.1:8080/api/v1/search?q=政务公开'
        $root/build/daemon/gongkai --config $root/demo/gongkaid.conf status
  drop more files into demo/share; Ctrl-C stops the daemon.

MSG
exec "$root/build/daemon/gongkaid" --config "$root/demo/gongkaid.conf"
