#!/usr/bin/env bash
# Builds the Debian package from the build tree (cpack: the `package` target without rebuilding everything) and
# checks what it holds: control fields, the exact file list, the units' paths, the man pages, a stripped binary,
# and lintian with no error. Usage: deb_contents_test.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 src=$2 version=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$build"
"${CPACK:-cpack}" -G DEB >cpack.log 2>&1 || { cat cpack.log; fail "cpack"; }
deb=$build/haproxy-asg_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no $deb"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Control fields. Depends: dpkg-shlibdeps' libraries plus haproxy.
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = haproxy-asg ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
depends=$(field Depends); echo "Depends: $depends"
for d in 'haproxy (>= 2.6)' 'libc6 (>= ' 'libcurl4 (>= ' 'libyaml-cpp0.7 (>= ' 'libstdc++6 (>= '; do
  [[ "$depends" == *"$d"* ]] || fail "Depends lacks '$d'"
done
[ "$(field Section)" = net ] || fail "Section"
dpkg-deb --ctrl-tarfile "$deb" | tar -tvf - >"$tmp/control.lst"
for s in postinst prerm postrm; do
  grep -Eq "^-rwxr-xr-x root/root .* \./$s$" "$tmp/control.lst" || fail "maintainer script $s missing or not 0755 root"
done
# The changelog's version is the package's (lintian checks the changelog, not that it is current).
[ "$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)" = "$version" ] \
  || fail "packaging/debian/changelog's top entry is not $version"

# The exact file list: anything new in the package must be added here on purpose.
expected=(
  /etc/haproxy-asg/
  /lib/systemd/system/haproxy-asg.service
  /lib/systemd/system/haproxy.service.d/haproxy-asg.conf
  /usr/bin/haproxy-asg
  /usr/share/doc/haproxy-asg/README.Debian
  /usr/share/doc/haproxy-asg/README.md
  /usr/share/doc/haproxy-asg/changelog.gz
  /usr/share/doc/haproxy-asg/copyright
  /usr/share/doc/haproxy-asg/examples/haproxy-asg.yaml
  /usr/share/doc/haproxy-asg/examples/haproxy.cfg.template
  /usr/share/doc/haproxy-asg/iam-policy.json
)
for page in "$src"/docs/man/*.[1-9]; do
  name=$(basename "$page"); expected+=("/usr/share/man/man${name##*.}/$name.gz")
done
dpkg-deb --contents "$deb" | tee "$tmp/contents.lst"
awk '{print $6}' "$tmp/contents.lst" | sed 's|^\.||' | grep -v '/$' | sort >"$tmp/files"
printf '%s\n' "${expected[@]}" | grep -v '/$' | sort >"$tmp/want"
diff -u "$tmp/want" "$tmp/files" || fail "the package's files differ from the expected list (- expected, + found)"
grep -q ' \./etc/haproxy-asg/$' "$tmp/contents.lst" || fail "/etc/haproxy-asg/ missing"
# Everything root-owned; the binary executable, the rest not.
awk '$2 != "root/root" {print; bad=1} END {exit bad}' "$tmp/contents.lst" || fail "files not owned by root"
grep -Eq '^-rwxr-xr-x .* \./usr/bin/haproxy-asg$' "$tmp/contents.lst" || fail "binary not 0755"
! grep -E '^-rwx' "$tmp/contents.lst" | grep -v '/usr/bin/haproxy-asg$' || fail "executable data files"
# No configuration in /etc (see packaging/CMakeLists.txt), so no conffiles.
! dpkg-deb --info "$deb" conffiles >/dev/null 2>&1 || fail "unexpected conffiles: $(dpkg-deb --info "$deb" conffiles)"

dpkg-deb -x "$deb" "$tmp/root"
root=$tmp/root
# The units run the packaged binary.
for unit in lib/systemd/system/haproxy-asg.service lib/systemd/system/haproxy.service.d/haproxy-asg.conf; do
  grep -q '/usr/local' "$root/$unit" && fail "$unit still names /usr/local"
  grep -Eq '^ExecStart(Pre)?=.* /usr/bin/haproxy-asg (run|once) --config /etc/haproxy-asg/haproxy-asg.yaml$|^ExecStart=/usr/bin/haproxy-asg run' \
    "$root/$unit" || fail "$unit does not run /usr/bin/haproxy-asg"
done
# Stripped: no debug sections, but still runs.
if readelf -S "$root/usr/bin/haproxy-asg" | grep -q '\.debug_'; then fail "binary not stripped"; fi
"$root/usr/bin/haproxy-asg" --version | grep -qx "haproxy-asg $version" || fail "--version"
# Every man page renders without warnings and has a NAME line mandb can index.
for gz in "$root"/usr/share/man/man*/*.gz; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$gz" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$(basename "$gz"): $warnings"
  lexgrog "$gz" >/dev/null || fail "$(basename "$gz"): no whatis entry"
done
# A page for every command the binary offers (the subcommands listed by --help).
"$root/usr/bin/haproxy-asg" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}' >"$tmp/commands"
[ -s "$tmp/commands" ] || fail "no subcommands found in --help"
while read -r cmd; do
  [ -f "$root/usr/share/man/man1/haproxy-asg-$cmd.1.gz" ] || fail "no man page for the command '$cmd' (docs/man/haproxy-asg-$cmd.1)"
done <"$tmp/commands"

# lintian: errors fail the test; warnings fail it too, so the package stays clean.
lintian --version
if ! lintian --fail-on error,warning --display-info "$deb"; then fail "lintian"; fi
echo "OK: $deb"
