#!/usr/bin/env bash
# Installs every Debian package that gw's build, tests, fuzzing and demo need;
# with arguments, exactly those packages instead (bench/tunnel/install.sh).
# Non-interactive and idempotent: packages already present are left alone, and
# apt-get runs only when something is missing. Run as root on Debian 12.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config cmake
  # libraries
  libsodium-dev libboost-dev nlohmann-json3-dev doctest-dev libcli11-dev
  libcap-ng-dev libsystemd-dev libnftables-dev
  # fuzzing (libFuzzer ships with clang's runtime) and formatting
  clang libclang-rt-14-dev clang-format
  # demo and integration tests
  iproute2 iputils-ping iperf3 nftables procps socat ethtool jq curl python3 util-linux
  # the systemd unit's test (systemd-analyze verify and security, offline)
  systemd
  # an independent Noise implementation, for libgw's interoperability test
  python3-dissononce
)
[ $# -eq 0 ] || packages=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
