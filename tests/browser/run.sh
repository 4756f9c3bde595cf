#!/bin/sh
# Runs a browser test: the script named as the argument, search_page_test.mjs
# by default (see each script for what it checks). Exits 77, which CTest
# reports as "skipped", when playwright-core cannot be installed from the npm
# registry here; any failure of the test itself is a failure.
cd "$(dirname "$0")" || exit 1
# npm uses Node's own CA list; machines behind a TLS-inspecting proxy add
# theirs to the system bundle.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if ! npm ci --no-audit --no-fund --loglevel=error; then
  echo "SKIPPED: npm could not install playwright-core (is the npm registry reachable?)"
  exit 77
fi
exec node "${1:-search_page_test.mjs}"
