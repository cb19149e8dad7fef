#!/usr/bin/env bash
# Installs what building, testing and the demo need, from Debian 12's packages. Idempotent: does nothing when
# everything is there already. dpkg-dev, lintian, man-db and systemd: building and checking the Debian package
# (dpkg-shlibdeps, lintian, man pages, systemd-analyze). With --fuzz, also clang and libclang-rt-14-dev (libFuzzer,
# the sanitizers' runtimes): bench/fuzz.sh asks for them; the tests do not need them (CI saves their download).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcurl4-openssl-dev libssl-dev libpugixml-dev nlohmann-json3-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev libgtest-dev libgmock-dev
  haproxy curl wrk socat jq openssl
  awscli python3-boto3 python3-botocore
  dpkg-dev lintian man-db systemd
)
[[ ${1:-} == --fuzz ]] && packages+=(clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian haproxy package starts a system haproxy; the tests and the demo start their own on loopback ports
# and do not need it, so it is left as it is.
