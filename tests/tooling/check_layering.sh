#!/usr/bin/env bash
# The layers of docs/ARCHITECTURE.md, checked on the source tree:
#  1. a layer includes only the layers it may use (the table below, which is
#     the "may use" column of the architecture): `#include "gw/LAYER/..."`
#     in src/L or include/gw/L names a layer L may use, or L itself;
#  2. the pure layers (crypto, noise, wire, session, routing, offload,
#     identity, config and the control protocol) never touch the event loop,
#     a socket, a thread or a clock: their behaviour must be testable with a
#     fake clock and a fake network;
#  3. no file in src/ or include/ includes a header by a path that climbs out
#     of its folder ("../").
# Prints every violation, with file and line, and exits 1 when there is one.
set -euo pipefail
root=${1:?usage: check_layering.sh SOURCE_ROOT}
cd "$root"

declare -A may_use=(
  [crypto]=""
  [wire]=""
  [routing]=""
  [offload]=""
  [noise]="crypto"
  [identity]="crypto routing"
  [session]="crypto noise routing wire"
  [config]="crypto identity routing session"
  [control]="config crypto identity routing session"
  [platform]="routing session"
  [lib]="config crypto identity noise session wire"
  [daemon]="config control crypto identity noise offload platform routing session wire"
  [gwctl]="config control crypto identity routing session"
)
pure="crypto noise wire session routing offload identity config control"

violations=0
report() {
  echo "$1"
  violations=$((violations + 1))
}

checked=0
for layer in "${!may_use[@]}"; do
  dirs=()
  for d in "src/$layer" "include/gw/$layer"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  [ ${#dirs[@]} -eq 0 ] && continue
  checked=$((checked + ${#dirs[@]}))
  allowed=" $layer ${may_use[$layer]} "
  while IFS= read -r hit; do
    [ -z "$hit" ] && continue
    used=$(sed -E 's|.*#[[:space:]]*include[[:space:]]+"gw/([a-z_]+)/.*|\1|' <<<"$hit")
    if [[ $allowed != *" $used "* ]]; then
      report "$hit: $layer may not use $used (it may use: ${may_use[$layer]:-nothing})"
    fi
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"gw/[a-z_]+/' "${dirs[@]}" || true)
done

# A relative include that climbs out of its folder would bypass the table.
while IFS= read -r hit; do
  [ -z "$hit" ] && continue
  report "$hit: include another layer's header as \"gw/LAYER/...\", not by a relative path"
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]*\.\./' src include || true)

pure_dirs=()
for layer in $pure; do
  for d in "src/$layer" "include/gw/$layer"; do
    [ -d "$d" ] && pure_dirs+=("$d")
  done
done
forbidden='boost/asio|asio\.hpp|<sys/socket\.h>|<netinet/|<arpa/inet\.h>|<linux/if_tun\.h>|<thread>|system_clock|steady_clock::now|high_resolution_clock|<ctime>|time\(nullptr\)|gettimeofday|clock_gettime'
while IFS= read -r hit; do
  [ -z "$hit" ] && continue
  report "$hit: a pure layer may not use the event loop, sockets, threads or clocks"
done < <(grep -rnE "$forbidden" "${pure_dirs[@]}" || true)

if [ "$violations" -ne 0 ]; then
  echo "check_layering: $violations violations"
  exit 1
fi
echo "check_layering: $checked folders clean"
