#!/usr/bin/env bash
# Scenario b: remote worker with a full tunnel (configs/remote-worker) over an IPv6 underlay.
#   client --2001:db8:2::/64-- isp --2001:db8:1::/64-- gateway -- host   (lib.sh, gwt_topo_remote)
# The client reaches the gateway's underlay address only through its default route, which the
# full tunnel overrides: the underlay keeps working only because gwd marks its own socket.
# Checks: handshakes; the client's default routes (v4, v6) lead into gw-laptop; the client pings
# the host behind the gateway and the gateway's tunnel addresses (v4, v6) and moves 4 MiB over
# TCP/IPv6; the underlay still works; gwd's nftables table (inet gw-gw-laptop) is there; SIGTERM
# removes gw-laptop, its routes, its policy rules (`ip rule` and `ip -6 rule` back to what they
# were before gwd started) and its table. full-tunnel.sh checks what the table does.
# Usage: remote-worker.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_topo_remote
CL=$GWT_NS_CL GW=$GWT_NS_GW HOST=$GWT_NS_HOST
rules_before=$(gwt_rules "$CL")
routes_before=$(ip -n "$CL" -4 route show table all; ip -n "$CL" -6 route show table all)
gwt_log "client rules before gwd:"$'\n'"$rules_before"

gwt_start_gateway
gwt_start_client
gwt_assert_log 15 "$GWT_LOG_CL" "handshake complete with peer gateway"
gwt_assert_log 15 "$GWT_LOG_GW" "handshake complete with peer laptop"

# The full tunnel: fixed and random internet addresses go into gw-laptop.
first=10
while [[ " 10 100 127 169 172 192 198 203 " == *" $first "* ]]; do first=$((RANDOM % 223 + 1)); done
rand4=$first.$((RANDOM % 256)).$((RANDOM % 256)).$((RANDOM % 254 + 1))
rand6=$(printf '2a%02x:%x:%x::%x' $((RANDOM % 256)) "$RANDOM" "$RANDOM" "$RANDOM")
for a in 203.0.113.77 "$rand4" 2001:db8:ff::77 "$rand6"; do
    gwt_assert "client: internet address $a routes into gw-laptop" gwt_route_dev_is "$CL" "$a" gw-laptop
done
gwt_assert "client: IPv4 policy rules were added" bash -c "[[ \$(ip -n '$CL' -4 rule show | wc -l) -gt 3 ]]"
gwt_assert "client: IPv6 policy rules were added" bash -c "[[ \$(ip -n '$CL' -6 rule show | wc -l) -gt 2 ]]"
gwt_log "client rules with the full tunnel:"$'\n'"$(gwt_rules "$CL")"
gwt_assert "client: gwd's nftables table inet gw-gw-laptop is there" \
    bash -c "ip netns exec '$CL' nft list tables | grep -qxF 'table inet gw-gw-laptop'"

# Through the tunnel.
gwt_assert_eventually 10 "client pings host 10.99.0.2 through the tunnel" gwt_ping "$CL" 10.99.0.2
gwt_assert_eventually 10 "client pings host fd99::2 through the tunnel" gwt_ping "$CL" fd99::2
gwt_assert_eventually 10 "client pings the gateway's 10.88.0.1" gwt_ping "$CL" 10.88.0.1
gwt_assert_eventually 10 "client pings the gateway's fd88::1" gwt_ping "$CL" fd88::1
gwt_assert_eventually 10 "host pings the client's 10.88.0.2" gwt_ping "$HOST" 10.88.0.2
gwt_assert_eventually 10 "host pings the client's fd88::2" gwt_ping "$HOST" fd88::2
gwt_assert "client -> host 1420-byte IPv6 packets over the IPv6 underlay" \
    gwt_in "$CL" ping -n -q -c 3 -i 0.2 -W "$(gwt_t 2)" -M "do" -s 1372 fd99::2
gwt_soft "4 MiB TCP client -> host over IPv6 inside" gwt_transfer "$CL" "$HOST" fd99::2 4 20 5001
gwt_soft "4 MiB TCP host -> client over IPv4 inside" gwt_transfer "$HOST" "$CL" 10.88.0.2 4 20 5002

# The underlay outside the tunnel.
gwt_assert "client: the underlay subnet stays on gwtul" gwt_route_dev_is "$CL" 2001:db8:2::1 gwtul
gwt_assert "client pings its underlay router 2001:db8:2::1" gwt_ping "$CL" 2001:db8:2::1
gwt_assert "gateway's gwd listens on UDP 51820" bash -c "ip netns exec '$GW' ss -Hlun 'sport = :51820' | grep -q ."

# SIGTERM: everything gwd added goes away.
gwt_stop_gwd "$GWT_PID_CL"
gwt_assert_not "gw-laptop is gone" ip -n "$CL" link show gw-laptop
rules_after=$(gwt_rules "$CL")
[[ $rules_after == "$rules_before" ]] ||
    gwt_fail "policy rules not restored after SIGTERM:"$'\n'"before:"$'\n'"$rules_before"$'\n'"after:"$'\n'"$rules_after"
gwt_log "ok: ip rule / ip -6 rule are back to the defaults"
routes_after=$(ip -n "$CL" -4 route show table all; ip -n "$CL" -6 route show table all)
[[ $routes_after == "$routes_before" ]] ||
    gwt_fail "routes not restored after SIGTERM:"$'\n'"$(diff <(echo "$routes_before") <(echo "$routes_after"))"
gwt_log "ok: routes (all tables) are back to what they were"
gwt_assert "client: no nftables table after SIGTERM" \
    bash -c "[[ -z \$(ip netns exec '$CL' nft list tables) ]]"
gwt_assert "the underlay still works after gwd stopped" gwt_ping "$CL" 2001:db8:1::1
gwt_stop_gwd "$GWT_PID_GW"
gwt_pass
