#!/bin/sh
# Builds the .deb with CPack from the build folder, unpacks it into a scratch
# root (dpkg -x: nothing is installed on the host) and checks that
#   - every file is where systemd/gongkaid.service, gongkai-hub.service and
#     the scripts expect it,
#   - the control data has the maintainer scripts, the conffiles, and Depends
#     from dpkg-shlibdeps (Xapian, Poco, libarchive, OpenSSL, libsystemd, ...),
#   - the unpacked binaries run (they link only system libraries; no RPATH),
#   - the Debian metadata: a real Maintainer, an extended description, a
#     DEP-5 copyright file (GPL-2+), a changelog whose version is the
#     package's, and, where lintian is installed, no lintian error or warning.
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
for conf in gongkaid gongkai-hub; do
  check "conffile /etc/gongkai/$conf.conf" grep -qx /etc/gongkai/$conf.conf "$scratch/control/conffiles"
done

root=$scratch/root
dpkg-deb -x "$deb" "$root"
# The files each unit's ExecStart= names: the program and its configuration.
# gongkaid's come last: $unit and $1 stay its unit and binary below.
for name in gongkai-hub gongkaid; do
  unit=$root/usr/lib/systemd/system/$name.service
  check "unit $name.service installed" test -f "$unit"
  set -- $(sed -n 's/^ExecStart=//p' "$unit")
  check "ExecStart binary $1 is in the package" test -x "$root$1"
  check "configuration $3 is in the package" test -f "$root$3"
done
# systemctl reload needs no program a minimal Debian lacks (procps' kill).
reload=$(sed -n 's/^ExecReload=//p' "$unit" | cut -d' ' -f1)
check "ExecReload binary $reload is in the package" test -x "$root$reload"
check "sysusers snippet" grep -q '^u gongkai ' "$root/usr/lib/sysusers.d/gongkai.conf"
check "tmpfiles snippet" grep -q '/var/lib/gongkai/tokens' "$root/usr/lib/tmpfiles.d/gongkai.conf"
check "gongkai CLI" test -x "$root/usr/bin/gongkai"
# Where gongkaid and gongkai look for their extraction worker once installed.
check "extraction worker /usr/libexec/gongkai/gongkai-extract" test -x "$root/usr/libexec/gongkai/gongkai-extract"
check "unit gongkai-hub-shards.service installed" test -f "$root/usr/lib/systemd/system/gongkai-hub-shards.service"
check "Suggests names xapian-tools (xapian-tcpsrv)" sh -c "printf '%s\n' '$info' | grep -q '^ Suggests:.*xapian-tools'"
check "Recommends names catdoc (legacy Office files)" sh -c "printf '%s\n' '$info' | grep -q '^ Recommends:.*catdoc'"
for page in man1/gongkai.1 man5/gongkaid.conf.5 man8/gongkaid.8 man8/gongkai-hub.8; do
  check "man page $page" test -f "$root/usr/share/man/$page.gz"
done
check "README" test -f "$root/usr/share/doc/gongkai/README.md"
check "no RPATH or RUNPATH into the build" sh -c "! readelf -d '$root$1' '$root/usr/bin/gongkai' | grep -q 'R.*PATH'"

# Debian's metadata (Policy 12.5, 12.7; DEP-5).
maintainer=$(printf '%s\n' "$info" | sed -n 's/^ Maintainer: //p')
check "Maintainer '$maintainer' is a real address" sh -c "printf '%s\n' '$maintainer' | grep -Eq '^[^<]+ <[^@<>]+@[a-z0-9.-]+\.[a-z]+>\$' && ! printf '%s\n' '$maintainer' | grep -q localhost"
check "extended description" sh -c "dpkg-deb -f '$deb' Description | sed -n '2p' | grep -q '[a-z]'"
doc=$root/usr/share/doc/gongkai
check "copyright file in DEP-5 format" grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$doc/copyright"
check "copyright names GPL-2+" grep -qx 'License: GPL-2+' "$doc/copyright"
package_version=$(dpkg-deb -f "$deb" Version)
changelog_version=
if [ -f "$doc/changelog.gz" ]; then
  gzip -dc "$doc/changelog.gz" >"$scratch/changelog"
  changelog_version=$(dpkg-parsechangelog -l "$scratch/changelog" -S Version 2>/dev/null) || true
fi
check "changelog.gz (native package) for version $package_version" test "$changelog_version" = "$package_version"
if command -v lintian >/dev/null; then
  tags=$(lintian "$deb" 2>&1 | grep -E '^[EW]: ' || true)
  if [ -n "$tags" ]; then echo "$tags"; fi
  check "lintian: no errors or warnings" test -z "$tags"
else
  echo "note: lintian not installed (apt-get install lintian); not run"
fi

version=$("$root$1" --version) || true
check "gongkaid --version runs ($version)" test -n "$version"
version=$("$root/usr/bin/gongkai" --version) || true
check "gongkai --version runs ($version)" test -n "$version"
version=$("$root/usr/libexec/gongkai/gongkai-extract" --version) || true
check "gongkai-extract --version runs ($version)" test -n "$version"
version=$("$root/usr/sbin/gongkai-hub" --version) || true
check "gongkai-hub --version runs ($version)" test -n "$version"
exit $fail
