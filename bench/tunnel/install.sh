#!/usr/bin/env bash
# bench/tunnel/install.sh -- installs what the tunnel comparison needs besides gw itself: the
# harness's tools and the tunnels gw is compared with (wireguard-go, nebula). Debian 12, as root.
# Not part of scripts/install-deps.sh: CI and the demo do not need these.
# Non-interactive and idempotent: apt-get runs only when something is missing.
set -euo pipefail

packages=(
  # the comparison tunnels
  wireguard-go wireguard-tools nebula
  # the harness (../shared/bench): measurements, JSON, crypto-limit.c
  iperf3 iputils-ping iproute2 jq gcc libc6-dev libsodium-dev pkg-config
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bench/tunnel/install.sh: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/tunnel/install.sh: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
echo "bench/tunnel/install.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
