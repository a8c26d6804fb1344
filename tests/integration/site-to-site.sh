#!/usr/bin/env bash
# Scenario a: site to site (configs/site-to-site) over an IPv4 underlay.
#   hostA - gwA ==192.0.2.0/24== gwB - hostB     (topology: lib.sh, gwt_topo_site)
# Checks: a config with a world-readable private key is refused (non-zero exit, no interface);
# both handshakes logged; the gateways ping each other's tunnel addresses (v4, v6);
# hostA and hostB ping each other across the tunnel (v4, v6), also with full-MTU packets;
# gwd routes the peer's LAN into its TUN; SIGTERM stops both with exit 0 and removes gw-a/gw-b.
# Usage: site-to-site.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_topo_site
GA=$GWT_NS_GA GB=$GWT_NS_GB HA=$GWT_NS_HA HB=$GWT_NS_HB

# A bad config first: a private key that others can read. gwd must refuse it and touch nothing.
BAD=$GWT_TMP/bad
mkdir -p "$BAD" && cp "$GWT_SITE_DIR"/site-a.json "$GWT_SITE_DIR"/site-a.key "$GWT_SITE_DIR"/site-b.pub "$BAD"/
chmod 0644 "$BAD/site-a.key"
gwt_start_gwd "$GA" "$BAD/site-a.json" "$GWT_TMP/gwd-bad.log"
gwt_wait_exit "$GWT_GWD_PID" 10 || gwt_fail "gwd kept running with a world-readable private key"
[[ $GWT_RC != 0 ]] || gwt_fail "gwd exited 0 with a world-readable private key"
gwt_assert "gwd names the key file in its error" grep -q "site-a.key" "$GWT_TMP/gwd-bad.log"
gwt_assert_not "no gw-a after the refused config" ip -n "$GA" link show gw-a
gwt_log "ok: bad config refused with exit $GWT_RC: $(grep -v '^====' "$GWT_TMP/gwd-bad.log" | head -n 1)"

gwt_start_site

gwt_assert "gw-a has MTU 1420" bash -c "ip -n '$GA' link show gw-a | grep -q 'mtu 1420'"
gwt_assert "gw-a holds 10.77.0.1/24" bash -c "ip -n '$GA' -4 addr show dev gw-a | grep -q '10.77.0.1/24'"
gwt_assert "gw-a holds fd77::1/64" bash -c "ip -n '$GA' -6 addr show dev gw-a | grep -q 'fd77::1/64'"
gwt_assert "gwA routes LAN B (10.2.0.0/24) into gw-a" gwt_route_dev_is "$GA" 10.2.0.9 gw-a
gwt_assert "gwA routes LAN B (fd02::/64) into gw-a" gwt_route_dev_is "$GA" fd02::9 gw-a
gwt_assert "gwB routes LAN A (10.1.0.0/24) into gw-b" gwt_route_dev_is "$GB" 10.1.0.9 gw-b
gwt_assert "gwB routes LAN A (fd01::/64) into gw-b" gwt_route_dev_is "$GB" fd01::9 gw-b

# Inside, between the gateways.
gwt_assert_eventually 10 "gwA pings 10.77.0.2 (inside v4)" gwt_ping "$GA" 10.77.0.2
gwt_assert_eventually 10 "gwA pings fd77::2 (inside v6)" gwt_ping "$GA" fd77::2
gwt_assert_eventually 10 "gwB pings 10.77.0.1 (inside v4)" gwt_ping "$GB" 10.77.0.1
gwt_assert_eventually 10 "gwB pings fd77::1 (inside v6)" gwt_ping "$GB" fd77::1

# LAN to LAN, both directions.
gwt_assert_eventually 10 "hostA pings hostB 10.2.0.2" gwt_ping "$HA" 10.2.0.2
gwt_assert_eventually 10 "hostA pings hostB fd02::2" gwt_ping "$HA" fd02::2
gwt_assert_eventually 10 "hostB pings hostA 10.1.0.2" gwt_ping "$HB" 10.1.0.2
gwt_assert_eventually 10 "hostB pings hostA fd01::2" gwt_ping "$HB" fd01::2
# Full-size packets: 1392 + 28 = 1372 + 48 = 1420 bytes, the tunnel MTU, with DF set.
gwt_assert "hostA -> hostB 1420-byte IPv4 packets (DF)" gwt_in "$HA" ping -n -q -c 3 -i 0.2 -W "$(gwt_t 2)" -M "do" -s 1392 10.2.0.2
gwt_assert "hostA -> hostB 1420-byte IPv6 packets" gwt_in "$HA" ping -n -q -c 3 -i 0.2 -W "$(gwt_t 2)" -M "do" -s 1372 fd02::2
gwt_assert "a burst of 200 pings loses nothing" bash -c \
    "ip netns exec '$HA' ping -n -q -c 200 -i 0.002 -W 2 10.2.0.2 | grep -q ' 0% packet loss'"

gwt_assert_running "$GWT_PID_A"
gwt_assert_running "$GWT_PID_B"
gwt_stop_gwd "$GWT_PID_A"
gwt_stop_gwd "$GWT_PID_B"
gwt_assert_not "gw-a is gone after SIGTERM" ip -n "$GA" link show gw-a
gwt_assert_not "gw-b is gone after SIGTERM" ip -n "$GB" link show gw-b
gwt_assert_not "no route into gw-a left" bash -c "ip -n '$GA' route show table all | grep -q gw-a"
gwt_pass
