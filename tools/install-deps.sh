#!/usr/bin/env bash
# Installs every build, test and run dependency of gongkai from Debian's
# packages. Idempotent: packages already present are left alone, and apt is
# not even consulted when nothing is missing. Must run as root (or via sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git
  # required libraries (libpq-dev: Poco::Data::PostgreSQL's headers include libpq's)
  libpoco-dev libpq-dev libxapian-dev libarchive-dev libssl-dev libsqlite3-dev catch2
  # chosen libraries (see README, "Dependencies")
  libuchardet-dev libopencc-dev opencc libxml2-dev
  # PDF text; poppler-data maps CID-keyed Chinese fonts (Adobe-GB1, -CNS1) to Unicode
  libpoppler-cpp-dev poppler-data
  # legacy .doc/.wps, .xls and .ppt text: catdoc, xls2csv and catppt, run as limited children
  catdoc
  # sd_notify (Type=notify readiness, status, watchdog) for the systemd unit
  libsystemd-dev
  # xapian-tcpsrv and xapian-replicate, for the hub's several-machines test
  # and gongkai-hub-shards.service
  xapian-tools
  # tests and tools
  python3 python3-cryptography curl ca-certificates openssl
  # tests/questions.py: word boundaries (jieba) for the questions it makes
  python3-jieba
  # the style gate (tools/style.sh)
  clang-format clang-tidy
  # the PostgreSQL catalog's tests start their own server (initdb, pg_ctl) in a
  # scratch folder; the cluster Debian's package creates and starts is unused
  postgresql
  # the unit checked with systemd-analyze (and the daemon's system calls, traced,
  # against its filter), the .deb built (dpkg-shlibdeps), unpacked and checked
  # with lintian, the man pages rendered
  systemd strace dpkg-dev file groff-base man-db lintian
  # sanitizer builds and libFuzzer targets (tools/sanitize.sh, tools/fuzz.sh);
  # llvm for llvm-symbolizer: the sanitizers' suppressions match function
  # names, which an unsymbolized report does not have
  clang libclang-rt-14-dev llvm
  # the search page's browser test (tests/browser): headless chromium driven from
  # Node.js, and CJK fonts so that its screenshots show the text
  chromium nodejs npm fonts-noto-cjk
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
  # Node.js packaged elsewhere bundles npm in its nodejs package (and conflicts
  # with Debian's npm): the commands are what the tests need.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "install-deps: missing ${missing[*]}; run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
