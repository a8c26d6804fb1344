#!/usr/bin/env bash
# bench/tunnel/install.sh -- installs what the tunnel comparison needs besides gw itself: the
# harness's tools and the tunnels gw is compared with (wireguard-go, nebula). Debian 12, as root.
# Not part of scripts/install-deps.sh's default list: CI and the demo do not need these.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
exec bash "$repo/scripts/install-deps.sh" \
  wireguard-go wireguard-tools nebula \
  iperf3 iputils-ping iproute2 jq gcc libc6-dev libsodium-dev pkg-config
