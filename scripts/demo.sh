#!/usr/bin/env bash
# The main job: installs what is needed, builds gw (release), replays the Noise test vectors,
# runs the two-namespace tunnel demo, then the Noise, session engine and libgw benchmarks.
#
#   bash scripts/demo.sh [--quick] [--no-bench] [--no-tunnel]
#     --quick      short benchmark runs and a shorter iperf3 run
#     --no-bench   skip the Noise, session engine and libgw benchmarks
#     --no-tunnel  skip the tunnel demo (it needs root and /dev/net/tun)
#
# The tunnel demo: namespaces hostA - gwA ==192.0.2.0/24== gwB - hostB (see
# tests/integration/lib.sh), configs/site-to-site/*.json copied unchanged into a temp folder
# with fresh keys, gwd started in gwA and gwB; it shows the handshake, pings (IPv4 and IPv6
# inside, IPv4 outside), an iperf3 run and a 50 MiB transfer with sha256 check, then stops both
# daemons with SIGTERM. Everything it creates (namespaces gwt<PID>-*, /tmp/gwt-<PID>.*) is
# removed on exit, also on Ctrl-C. The comparison with wireguard-go and nebula is
# bench/tunnel/run.sh (see bench/tunnel/README.md).
# Environment: GW_VECTORS_DIR (default ../shared/vectors), GW_BUILD_DIR (default build-release).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0 bench=1 tunnel=1
bench_args=()
for arg in "$@"; do
  case $arg in
    --quick) quick=1; bench_args+=(--quick) ;;
    --no-bench) bench=0 ;;
    --no-tunnel) tunnel=0 ;;
    *) echo "usage: $0 [--quick] [--no-bench] [--no-tunnel]" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
vectors=${GW_VECTORS_DIR:-../shared/vectors}
build=${GW_BUILD_DIR:-build-release}

if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" --buildtype=release >/dev/null
else
  meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build"

echo
echo "== Noise test vectors ($vectors)"
if [ -f "$vectors/cacophony.txt" ] && [ -f "$vectors/snow.txt" ]; then
  "$build"/tests/vectors/noise-vectors "$vectors/cacophony.txt" "$vectors/snow.txt"
else
  echo "(skipped: no cacophony.txt/snow.txt in $vectors; set GW_VECTORS_DIR)"
fi

# The tunnel demo runs in a subshell: lib.sh's EXIT trap cleans up when it ends.
tunnel_demo() {
  # shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
  source "$root/tests/integration/lib.sh"
  gwt_init "$root/$build/src/daemon/gwd" "$root/$build/src/gwctl/gwctl" "$root/configs"
  local ga hb ha gb secs=5
  [ "$quick" = 1 ] && secs=2

  echo
  echo "== Tunnel demo: configs/site-to-site in four network namespaces"
  echo "   [hostA 10.1.0.2] - [gwA gw-a 10.77.0.1] ==UDP 192.0.2.1 <-> 192.0.2.2== [gwB gw-b 10.77.0.2] - [hostB 10.2.0.2]"
  gwt_topo_site
  ga=$GWT_NS_GA gb=$GWT_NS_GB ha=$GWT_NS_HA hb=$GWT_NS_HB
  echo "-- keys made in $GWT_SITE_DIR (umask 077; gwctl genkey > site-a.key; gwctl pubkey < site-a.key > site-a.pub):"
  ls -l "$GWT_SITE_DIR"

  echo
  echo "-- starting gwd in gwA and gwB"
  gwt_start_site
  echo "-- the handshake, from gwd's logs:"
  grep -h "handshake complete" "$GWT_LOG_A" "$GWT_LOG_B"
  echo "-- gw-a in gwA (gwd set the addresses, MTU and routes of its peer's allowed_ips):"
  ip -n "$ga" addr show dev gw-a
  ip -n "$ga" route show dev gw-a
  ip -n "$ga" -6 route show dev gw-a

  echo
  echo "-- ping hostA -> hostB through the tunnel, IPv4 and IPv6"
  wait_for 10 gwt_ping "$ha" 10.2.0.2 || gwt_fail "hostA cannot reach hostB"
  ip netns exec "$ha" ping -n -c 3 -i 0.2 10.2.0.2
  ip netns exec "$ha" ping -n -c 3 -i 0.2 fd02::2
  echo "-- ping between the gateways' tunnel addresses"
  ip netns exec "$ga" ping -n -c 2 -i 0.2 10.77.0.2
  ip netns exec "$gb" ping -n -c 2 -i 0.2 fd77::1

  echo
  echo "-- iperf3, hostA -> hostB (10.2.0.2), TCP, $secs s"
  ip netns exec "$hb" iperf3 -s -1 -B 10.2.0.2 >/dev/null 2>&1 &
  GWT_PIDS+=("$!")
  wait_for 5 bash -c "ip netns exec '$hb' ss -Hltn 'sport = :5201' | grep -q ." || gwt_fail "iperf3 server did not start"
  timeout $((secs + 20)) ip netns exec "$ha" iperf3 -c 10.2.0.2 -t "$secs" -f m | grep -E 'sender|receiver' ||
    gwt_fail "iperf3 through the tunnel failed"

  echo
  echo "-- 50 MiB over TCP (socat), hostA -> hostB, sha256 compared"
  gwt_transfer "$ha" "$hb" 10.2.0.2 50 120

  echo
  echo "-- gwctl show gw-a: the live state, after the transfer"
  gwt_ctl "$ga" show gw-a || gwt_fail "gwctl show gw-a failed"
  echo
  echo "-- gwctl peer list gw-b"
  gwt_ctl "$gb" peer list gw-b || gwt_fail "gwctl peer list gw-b failed"

  echo
  echo "-- stopping both daemons with SIGTERM (they remove gw-a/gw-b and their routes)"
  # shellcheck disable=SC2153  # set by gwt_start_site (lib.sh)
  gwt_stop_gwd "$GWT_PID_A"
  gwt_stop_gwd "$GWT_PID_B"
  ip -n "$ga" link show gw-a >/dev/null 2>&1 && gwt_fail "gw-a still exists after SIGTERM"
  echo "-- tunnel demo done; namespaces and temp files are removed on exit"
}

if [ "$tunnel" = 1 ]; then
  set +e
  (set +e; tunnel_demo)
  rc=$?
  set -e
  case $rc in
    0) ;;
    77) echo "(tunnel demo skipped: it needs root and /dev/net/tun)" ;;
    *) echo "tunnel demo FAILED (exit $rc)" >&2; exit "$rc" ;;
  esac
fi

if [ "$bench" = 1 ]; then
  echo
  echo "== Noise benchmark (Noise_XX_25519_ChaChaPoly_BLAKE2b; medians)"
  "$build"/bench/noise-bench "${bench_args[@]}"

  echo
  echo "== Session engine benchmark (two engines in one process; medians)"
  "$build"/bench/engine-bench "${bench_args[@]}"

  echo
  echo "== libgw benchmark (the API beside the Noise core and libsodium; medians)"
  "$build"/bench/lib-bench "${bench_args[@]}"
fi
