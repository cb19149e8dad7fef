#!/usr/bin/env bash
# Installs the Debian package for real into a throwaway root (an overlay of / in a private mount namespace, so the
# machine itself is untouched) with Debian's haproxy, and runs what the units run: the drop-in's ExecStartPre
# (haproxy-asg once, as haproxy) renders haproxy.cfg from the AWS simulator's group; HAProxy starts as Debian's unit
# starts it, with the drop-in's master socket; the daemon (the unit's ExecStart, as haproxy) follows a scale-out
# through the runtime API; remove and purge undo the package's changes. systemd is not running here, so the units'
# sandboxing is not exercised; `systemd-analyze verify` checks them. Needs root and overlayfs: skipped (77)
# otherwise. Usage: deb_install_test.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 src=$2 version=$3
deb=$build/haproxy-asg_${version}_$(dpkg --print-architecture).deb
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "${HASG_IN_THROWAWAY_ROOT:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a mount namespace and overlayfs)"; exit 77; }
  [ -f "$deb" ] || fail "no $deb (deb_contents_test builds it)"
  unshare --mount --propagation private true 2>/dev/null || { echo "SKIP: no mount namespaces here"; exit 77; }
  HASG_IN_THROWAWAY_ROOT=1 exec unshare --mount --propagation private --fork "$0" "$@"
fi

# --- In a private mount namespace from here: every mount vanishes with this process.
t=$(mktemp -d)
mount -t tmpfs tmpfs "$t"
mkdir "$t/upper" "$t/work" "$t/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$t/root"; then
  echo "SKIP: overlayfs not available"; exit 77
fi
r=$t/root
mount --rbind /dev "$r/dev"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount -t tmpfs tmpfs "$r/run"
mount -t tmpfs tmpfs "$r/tmp"
in_root() { chroot "$r" "$@"; }
as_haproxy() { in_root setpriv --reuid=haproxy --regid=haproxy --init-groups "$@"; }
pids=()
# Processes started in the throwaway root through in_root/as_haproxy run under a subshell of this script, whose pid
# is what $! gives: stop every process whose root is the throwaway root too, or HAProxy and the daemon outlive the test.
in_root_pids() { for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && echo "${p#/proc/}"; done; }
stop_all() {
  for p in "${pids[@]}" $(in_root_pids); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
cleanup() {
  local rc=$?
  stop_all
  if [ $rc != 0 ]; then
    for log in sim haproxy daemon; do [ ! -s "$t/$log.log" ] || { echo "--- $log.log"; tail -n 30 "$t/$log.log"; }; done
  fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local until=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $until ] || fail "timed out waiting for $what"; sleep 0.2; done
}
mode_of() { stat -c '%U:%G %a' "$r$1"; }

in_root dpkg-query -W -f='${Status}\n' haproxy | grep -qx 'install ok installed' || fail "haproxy is not installed"
etc_haproxy_before=$(mode_of /etc/haproxy)

# --- Install.
cp "$deb" "$r/tmp/haproxy-asg.deb"
in_root dpkg -i /tmp/haproxy-asg.deb
[ "$(in_root dpkg-query -W -f='${Status}' haproxy-asg)" = "install ok installed" ] || fail "not installed"
in_root haproxy-asg --version | grep -qx "haproxy-asg $version" || fail "haproxy-asg --version"
in_root man -w haproxy-asg-run >/dev/null || fail "man haproxy-asg-run not found"
in_root man -w 5 haproxy-asg.yaml >/dev/null || fail "man 5 haproxy-asg.yaml not found"
[ "$(mode_of /var/lib/haproxy-asg)" = "haproxy:haproxy 750" ] || fail "/var/lib/haproxy-asg: $(mode_of /var/lib/haproxy-asg)"
if [ "$etc_haproxy_before" = "root:root 755" ]; then
  [ "$(mode_of /etc/haproxy)" = "root:haproxy 775" ] || fail "/etc/haproxy not group-writable: $(mode_of /etc/haproxy)"
else
  [ "$(mode_of /etc/haproxy)" = "$etc_haproxy_before" ] || fail "/etc/haproxy changed from an admin's $etc_haproxy_before"
fi
# The units as systemd would load them (haproxy.service with the package's drop-in).
if in_root systemd-analyze --version >/dev/null 2>&1; then
  in_root systemd-analyze verify --man=no haproxy-asg.service haproxy.service 2>"$t/verify.log" \
    || { cat "$t/verify.log"; fail "systemd-analyze verify"; }
  grep -i 'haproxy-asg' "$t/verify.log" && fail "systemd-analyze warns about haproxy-asg's units"
fi

# --- Configure, as README.Debian says, against the simulator on loopback.
sim_port=$(free_port) inst_port=$(free_port) fe_port=$(free_port) tls_port=$(free_port) stats_port=$(free_port)
listen_port=$(free_port)
"$build/haproxy-asg-sim" --port "$sim_port" --group app=2 --instance-port "$inst_port" --pending 0s \
  >"$t/sim.log" 2>&1 &
pids+=($!)
wait_for 10 "the simulator" curl -sf "http://127.0.0.1:$sim_port/_sim/state"
examples=$r/usr/share/doc/haproxy-asg/examples
sed -e "s/group: my-app-asg/group: app/" -e "s/port: 80 /port: $inst_port /" \
    -e "s/^listen: .*/listen: 127.0.0.1:$listen_port/" -e '/^    lifecycle_hooks:/,/terminating:/d' \
    "$examples/haproxy-asg.yaml" >"$r/etc/haproxy-asg/haproxy-asg.yaml"
grep -q "port: $inst_port" "$r/etc/haproxy-asg/haproxy-asg.yaml" || fail "example YAML no longer has 'port: 80 '"
sed -e "s/bind :80$/bind 127.0.0.1:$fe_port/" -e "s/bind :443 ssl/bind 127.0.0.1:$tls_port ssl/" \
    -e "s/bind 127.0.0.1:8404/bind 127.0.0.1:$stats_port/" \
    -e "s/maxconn 20000/maxconn 1000/" "$examples/haproxy.cfg.template" >"$r/etc/haproxy/haproxy.cfg.template"
grep -q "bind 127.0.0.1:$fe_port" "$r/etc/haproxy/haproxy.cfg.template" || fail "example template no longer binds :80"
! grep -Eq 'bind :|bind \*|bind 0\.0\.0\.0' "$r/etc/haproxy/haproxy.cfg.template" || fail "template binds beyond loopback"
# The template's HTTPS frontend loads its certificates through the crt-list /etc/haproxy/certs.list (crt-base
# /etc/haproxy/certs): one self-signed certificate, readable by group haproxy (the daemon runs `haproxy -c` as it).
mkdir -p "$r/etc/haproxy/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -days 2 \
  -keyout "$t/site.key" -out "$t/site.crt" 2>/dev/null || fail "openssl could not make a certificate"
cat "$t/site.crt" "$t/site.key" >"$r/etc/haproxy/certs/site.pem"
echo "site.pem" >"$r/etc/haproxy/certs.list"
in_root chgrp -R haproxy /etc/haproxy/certs /etc/haproxy/certs.list
chmod 640 "$r/etc/haproxy/certs/site.pem"
cat >"$r/etc/default/haproxy-asg" <<ENV
AWS_ENDPOINT_URL=http://127.0.0.1:$sim_port
AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_ACCESS_KEY_ID=AKIDSIMULATOR
AWS_SECRET_ACCESS_KEY=simulator-secret-key
ENV

# --- HAProxy's start: the drop-in's ExecStartPre, as written in the installed file.
dropin=$r/lib/systemd/system/haproxy.service.d/haproxy-asg.conf
pre=$(sed -n 's/^ExecStartPre=-//p' "$dropin")
[ -n "$pre" ] || fail "no ExecStartPre=- in the drop-in"
in_root sh -c "set -a; . /etc/default/haproxy-asg; set +a; exec $pre" || fail "the drop-in's ExecStartPre failed"
servers=$(grep -c "^ *server i-" "$r/etc/haproxy/haproxy.cfg" || true)
[ "$servers" = 2 ] || { cat "$r/etc/haproxy/haproxy.cfg"; fail "rendered haproxy.cfg has $servers servers, not 2"; }
[ "$(stat -c %U "$r/etc/haproxy/haproxy.cfg")" = haproxy ] || fail "haproxy.cfg not written by user haproxy"

# Debian's ExecStart with the drop-in's EXTRAOPTS (the runtime directory as Debian's tmpfiles.d makes it).
in_root systemd-tmpfiles --create /usr/lib/tmpfiles.d/haproxy.conf
extraopts=$(sed -n 's/^Environment="EXTRAOPTS=\(.*\)"$/\1/p' "$dropin")
[ -n "$extraopts" ] || fail "no EXTRAOPTS in the drop-in"
in_root /usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid $extraopts >"$t/haproxy.log" 2>&1 &
pids+=($!)
wait_for 10 "HAProxy's sockets" test -S "$r/run/haproxy/admin.sock" -a -S "$r/run/haproxy-master.sock"
[ "$(mode_of /run/haproxy-master.sock)" = "root:haproxy 660" ] \
  || fail "master socket is $(mode_of /run/haproxy-master.sock), the daemon cannot reload"
echo "show proc" | as_haproxy socat - /run/haproxy-master.sock | grep -q '^[0-9]* *master' \
  || fail "the haproxy user cannot use the master CLI"
wait_for 10 "traffic through HAProxy" sh -c "curl -sfk https://127.0.0.1:$tls_port/ | grep -q i-"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fe_port/")" = 301 ] || fail "HTTP is not redirected to HTTPS"

# --- The daemon: the unit's ExecStart, as its User=.
start=$(sed -n 's/^ExecStart=//p' "$r/lib/systemd/system/haproxy-asg.service")
grep -qx 'User=haproxy' "$r/lib/systemd/system/haproxy-asg.service" || fail "the unit no longer runs as haproxy"
as_haproxy sh -c "set -a; . /etc/default/haproxy-asg; set +a; exec $start" >"$t/daemon.log" 2>&1 &
pids+=($!)
wait_for 15 "the daemon's first cycle" sh -c "curl -sf http://127.0.0.1:$listen_port/healthz | grep -q ok"
curl -sf -X POST -d '{"desired":3}' "http://127.0.0.1:$sim_port/_sim/groups/app/desired" >/dev/null
servers_in_haproxy() { echo "show servers state app" | as_haproxy socat - /run/haproxy/admin.sock | grep -c ' i-' || true; }
has_servers() { [ "$(servers_in_haproxy)" = "$1" ]; }
wait_for 20 "3 servers in HAProxy after the scale-out" has_servers 3
# Membership changed through the runtime API: the master has not been reloaded.
echo "show proc" | as_haproxy socat - /run/haproxy-master.sock | grep -Eq '^[0-9]+ +master +0 \[failed: 0\]' \
  || fail "HAProxy was reloaded: $(echo 'show proc' | as_haproxy socat - /run/haproxy-master.sock)"
stop_all
grep -q 'add app/i-' "$t/daemon.log" || { cat "$t/daemon.log"; fail "the daemon logged no add"; }

# --- Remove and purge.
in_root dpkg -r haproxy-asg
[ ! -e "$r/usr/bin/haproxy-asg" ] || fail "binary left after remove"
[ "$(mode_of /etc/haproxy)" = "$etc_haproxy_before" ] || fail "/etc/haproxy is $(mode_of /etc/haproxy) after remove, was $etc_haproxy_before"
in_root dpkg -P haproxy-asg
[ ! -e "$r/var/lib/haproxy-asg" ] || fail "/var/lib/haproxy-asg left after purge"
! in_root dpkg-query -W haproxy-asg >/dev/null 2>&1 || fail "dpkg still knows haproxy-asg after purge"
echo "OK: installed, ran and removed in a throwaway root"
