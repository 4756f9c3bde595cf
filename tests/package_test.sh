#!/bin/sh
# Builds the .deb with CPack from the build folder, unpacks it into a scratch
# root (dpkg -x: nothing is installed on the host) and checks that
#   - every file is where systemd/gongkaid.service and the scripts expect it,
#   - the control data has the maintainer scripts, the conffile, and Depends
#     from dpkg-shlibdeps (Xapian, Poco, libarchive, OpenSSL, libsystemd, ...),
#   - the unpacked binaries run (they link only system libraries; no RPATH).
# usage: package_test.sh BUILD_DIR. Exit 77 = skipped.
set -eu
build=$1
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not found (apt-get install dpkg-dev cmake)"; exit 77; }
done
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if [ "$prefix" != /usr ]; then
  echo "SKIP: the build is configured with CMAKE_INSTALL_PREFIX=$prefix; the package is made with /usr"
  exit 77
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log" "$scratch"/out/_CPack_Packages/*/DEB/*.log; exit 1; }
deb=$(ls "$scratch"/out/*.deb)
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

fail=0
check() {  # check DESCRIPTION COMMAND...
  what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

info=$(dpkg-deb -I "$deb")
depends=$(printf '%s\n' "$info" | sed -n 's/^ Depends: //p')
echo "Depends: $depends"
for lib in libxapian libpoco libarchive libssl libsystemd libopencc libuchardet libxml2 libpoppler-cpp libc6; do
  check "Depends names $lib" sh -c "printf '%s\n' '$depends' | grep -q '$lib'"
done
check "Depends names systemd (sysusers, tmpfiles)" sh -c "printf '%s\n' '$depends' | grep -q 'systemd |'"

dpkg-deb -e "$deb" "$scratch/control"
for script in postinst prerm postrm; do
  check "$script is an executable script" test -x "$scratch/control/$script"
done
check "conffile /etc/gongkai/gongkaid.conf" grep -qx /etc/gongkai/gongkaid.conf "$scratch/control/conffiles"

root=$scratch/root
dpkg-deb -x "$deb" "$root"
unit=$root/usr/lib/systemd/system/gongkaid.service
check "unit installed" test -f "$unit"
# The files the unit's ExecStart= names: the daemon and its configuration.
set -- $(sed -n 's/^ExecStart=//p' "$unit")
check "ExecStart binary $1 is in the package" test -x "$root$1"
check "configuration $3 is in the package" test -f "$root$3"
check "sysusers snippet" grep -q '^u gongkai ' "$root/usr/lib/sysusers.d/gongkai.conf"
check "tmpfiles snippet" grep -q '/var/lib/gongkai/tokens' "$root/usr/lib/tmpfiles.d/gongkai.conf"
check "gongkai CLI" test -x "$root/usr/bin/gongkai"
# Where gongkaid and gongkai look for their extraction worker once installed.
check "extraction worker /usr/libexec/gongkai/gongkai-extract" test -x "$root/usr/libexec/gongkai/gongkai-extract"
check "Recommends names catdoc (legacy Office files)" sh -c "printf '%s\n' '$info' | grep -q '^ Recommends:.*catdoc'"
for page in man1/gongkai.1 man5/gongkaid.conf.5 man8/gongkaid.8; do
  check "man page $page" test -f "$root/usr/share/man/$page.gz"
done
check "README" test -f "$root/usr/share/doc/gongkai/README.md"
check "no RPATH or RUNPATH into the build" sh -c "! readelf -d '$root$1' '$root/usr/bin/gongkai' | grep -q 'R.*PATH'"

version=$("$root$1" --version) || true
check "gongkaid --version runs ($version)" test -n "$version"
version=$("$root/usr/bin/gongkai" --version) || true
check "gongkai --version runs ($version)" test -n "$version"
version=$("$root/usr/libexec/gongkai/gongkai-extract" --version) || true
check "gongkai-extract --version runs ($version)" test -n "$version"
exit $fail
