#!/usr/bin/env bash
# The pure layers (crypto, noise, wire, session, routing, offload, identity, config and
# the control protocol) never touch the event loop, a socket or a clock: their
# behaviour must be testable with a fake clock and a fake network. This check
# fails when one of their files includes or names such a thing.
set -euo pipefail
root=${1:?usage: check_layering.sh SOURCE_ROOT}
cd "$root"
pure_dirs=()
for layer in crypto noise wire session routing offload identity config control; do
  for d in "src/$layer" "include/gw/$layer"; do
    [ -d "$d" ] && pure_dirs+=("$d")
  done
done
forbidden='boost/asio|asio\.hpp|<sys/socket\.h>|<netinet/|<arpa/inet\.h>|<linux/if_tun\.h>|<thread>|system_clock|steady_clock::now|high_resolution_clock|<ctime>|time\(nullptr\)|gettimeofday|clock_gettime'
hits=$(grep -rnE "$forbidden" "${pure_dirs[@]}" || true)
if [ -n "$hits" ]; then
  echo "pure layers must not use the event loop, sockets, threads or clocks:"
  echo "$hits"
  exit 1
fi
echo "check_layering: ${#pure_dirs[@]} folders clean"
