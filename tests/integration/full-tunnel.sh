#!/usr/bin/env bash
# The full tunnel on a LAN, as wg-quick builds it (configs/remote-worker's client over IPv4):
#
#   [neighbour] gwtul 192.168.7.3/24 fd07::3/64 --+
#                                                 gwtbr 192.168.7.1/24 fd07::1/64 [router] gwtgw 198.51.100.1/24
#   [client] gwtul 192.168.7.2/24 fd07::2/64 -----+   (forwarding)                       |
#   default via 192.168.7.1                                   [gateway] gwtul 198.51.100.2/24
#   gw-laptop 10.88.0.2/32 fd88::2/128 (0.0.0.0/0, ::/0)      gw-gw 10.88.0.1/24 fd88::1/64
#
# Run twice: with the client's reverse-path filter off (rp_filter 0) and strict (rp_filter 1 on
# all, default and gwtul, the default of several distributions), src_valid_mark 0 before each
# start. Each time: the handshake completes and the client pings the gateway's tunnel addresses
# (v4, v6): strict filtering no longer drops the gateway's replies, because gwd's nftables table
# gives them its socket's mark back and gwd sets net.ipv4.conf.all.src_valid_mark=1; the LAN
# neighbour, with routes to the client's tunnel addresses via the client's LAN addresses, gets
# no answer to pings for them (the CVE-2019-14899 class) while its pings of the client's LAN
# address are answered; `nft list tables` shows table inet gw-gw-laptop while gwd runs, and no
# such table, nor a policy rule of gwd's, after SIGTERM. The strict run also kills the client
# with SIGKILL (the table stays), restarts it (it replaces the table it finds and says so) and
# stops it with SIGTERM (the table goes).
# Usage: full-tunnel.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_ns CL client
gwt_ns NB neighbour
gwt_ns RT router
gwt_ns GW gateway
ip -n "$RT" link add gwtbr type bridge || gwt_fail "bridge"
ip -n "$RT" link set gwtbr up
gwt_veth "$CL" gwtul "$RT" gwtcl
gwt_veth "$NB" gwtul "$RT" gwtnb
ip -n "$RT" link set gwtcl master gwtbr
ip -n "$RT" link set gwtnb master gwtbr
gwt_veth "$RT" gwtgw "$GW" gwtul
gwt_addr "$RT" gwtbr 192.168.7.1/24 fd07::1/64
gwt_addr "$CL" gwtul 192.168.7.2/24 fd07::2/64
gwt_addr "$NB" gwtul 192.168.7.3/24 fd07::3/64
gwt_addr "$RT" gwtgw 198.51.100.1/24
gwt_addr "$GW" gwtul 198.51.100.2/24
gwt_forwarding "$RT"
gwt_route "$CL" default via 192.168.7.1
gwt_route "$GW" default via 198.51.100.1
# The neighbour's way to the client's tunnel addresses: over the LAN.
gwt_route "$NB" 10.88.0.2/32 via 192.168.7.2
gwt_route "$NB" fd88::2/128 via fd07::2
wait_for 5 gwt_ping "$CL" 198.51.100.2 || gwt_fail "underlay 192.168.7.2 -> 198.51.100.2 does not work"

DIR=$GWT_TMP/full-tunnel
gwt_config remote-worker/gateway.json "$DIR"
gwt_config remote-worker/client.json "$DIR"
sed -i 's/"endpoint": "\[2001:db8:1::1\]:51820"/"endpoint": "198.51.100.2:51820"/' "$DIR/client.json"
grep -qF '"endpoint": "198.51.100.2:51820"' "$DIR/client.json" || gwt_fail "client.json: endpoint not replaced"
gwt_keys "$DIR" gateway laptop
LOG_GW=$GWT_TMP/gwd-gateway.log
LOG_CL=$GWT_TMP/gwd-client.log
TABLE="inet gw-gw-laptop"

gwt_start_gwd "$GW" "$DIR/gateway.json" "$LOG_GW"
PID_GW=$GWT_GWD_PID
gwt_assert_eventually 10 "gw-gw is up in gateway" ip -n "$GW" link show gw-gw up
rules_before=$(gwt_rules "$CL")

has_table() { ip netns exec "$CL" nft list tables | grep -qxF "table $TABLE"; }
# replies NS ADDR: how many of 3 pings to ADDR were answered. On the LAN an answer takes well
# under a millisecond; ping gives up after 2 s (not a hang guard: not stretched).
replies() {
    ip netns exec "$1" ping -n -q -c 3 -i 0.2 -w 2 "$2" 2>/dev/null |
        sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p'
}
no_replies() {
    local n
    n=$(replies "$1" "$2")
    [[ ${n:-0} == 0 ]] || { echo "$n of 3 answered"; return 1; }
}

start_client() {
    HANDSHAKES=$(grep -c "handshake complete with peer gateway" "$LOG_CL" 2>/dev/null)
    gwt_start_gwd "$CL" "$DIR/client.json" "$LOG_CL"
    PID_CL=$GWT_GWD_PID
    gwt_assert_eventually 10 "gw-laptop is up in client" ip -n "$CL" link show gw-laptop up
    gwt_assert_running "$PID_CL"
}

# up RP_FILTER: the checks with gwd running in the client.
up() {
    local rp=$1
    wait_for 15 bash -c "[[ \$(grep -c 'handshake complete with peer gateway' '$LOG_CL') -gt ${HANDSHAKES:-0} ]]" ||
        gwt_fail "rp_filter $rp: no handshake with the gateway (the gateway's replies dropped?)"
    gwt_log "ok: rp_filter $rp: handshake complete"
    gwt_assert "rp_filter $rp: internet address 203.0.113.77 routes into gw-laptop" \
        gwt_route_dev_is "$CL" 203.0.113.77 gw-laptop
    gwt_assert_eventually 10 "rp_filter $rp: client pings the gateway's 10.88.0.1" gwt_ping "$CL" 10.88.0.1
    gwt_assert_eventually 10 "rp_filter $rp: client pings the gateway's fd88::1" gwt_ping "$CL" fd88::1
    gwt_assert "rp_filter $rp: the neighbour pings the client's LAN address 192.168.7.2" \
        gwt_ping "$NB" 192.168.7.2
    gwt_assert "rp_filter $rp: the neighbour pings the client's LAN address fd07::2" gwt_ping "$NB" fd07::2
    gwt_assert "rp_filter $rp: the neighbour's pings of the tunnel address 10.88.0.2 get nothing" \
        no_replies "$NB" 10.88.0.2
    gwt_assert "rp_filter $rp: the neighbour's pings of the tunnel address fd88::2 get nothing" \
        no_replies "$NB" fd88::2
    gwt_assert "rp_filter $rp: the client's nftables hold table $TABLE" has_table
    gwt_assert "rp_filter $rp: net.ipv4.conf.all.src_valid_mark is 1" \
        bash -c "[[ \$(ip netns exec '$CL' sysctl -n net.ipv4.conf.all.src_valid_mark) == 1 ]]"
    [[ $rp == 1 ]] || gwt_log "client's table:"$'\n'"$(ip netns exec "$CL" nft list table $TABLE)"
}

# down: SIGTERM the client; its table and rules go.
down() {
    gwt_stop_gwd "$PID_CL"
    gwt_assert_not "after SIGTERM: no table $TABLE" has_table
    [[ $(gwt_rules "$CL") == "$rules_before" ]] ||
        gwt_fail "policy rules not restored after SIGTERM:"$'\n'"$(gwt_rules "$CL")"
    gwt_log "ok: ip rule / ip -6 rule are back to what they were"
}

for rp in 0 1; do
    ip netns exec "$CL" sysctl -q -w net.ipv4.conf.all.rp_filter=$rp net.ipv4.conf.default.rp_filter=$rp \
        net.ipv4.conf.gwtul.rp_filter=$rp net.ipv4.conf.all.src_valid_mark=0 >/dev/null ||
        gwt_fail "sysctl rp_filter=$rp in client"
    gwt_log "client: rp_filter $rp (all, default, gwtul), src_valid_mark 0"
    start_client
    up "$rp"
    if [[ $rp == 1 ]]; then
        gwt_kill9_gwd "$PID_CL"
        gwt_assert_eventually 5 "gw-laptop went with the killed process" bash -c "! ip -n '$CL' link show gw-laptop"
        gwt_assert "after SIGKILL: table $TABLE stays behind" has_table
        ip netns exec "$CL" sysctl -q -w net.ipv4.conf.all.src_valid_mark=0 >/dev/null
        start_client
        gwt_assert_log 10 "$LOG_CL" "removed nftables table $TABLE left by an earlier run"
        up "$rp"
    fi
    down
done
gwt_assert_running "$PID_GW"
gwt_stop_gwd "$PID_GW"
gwt_pass
