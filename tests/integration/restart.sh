#!/usr/bin/env bash
# Scenario e: SIGKILL and restart with the same config.
#  1. site to site: kill -9 gwB's gwd (its TUN goes with the process), restart it; hostA reaches
#     hostB again (v4, v6) within 40 s.
#  3. the same without keepalives, killing either gateway: the restarted one starts the handshake
#     as soon as its peer's packets for the lost session arrive, well before the 15 s timer;
#  2. full-tunnel client: kill -9 the client's gwd (its policy rules stay behind), restart it;
#     it must cope with the leftovers; the client reaches the host behind the gateway again
#     within 40 s; a final SIGTERM leaves `ip rule` / `ip -6 rule` as they were before.
#     A rule identical to gwd's suppress rule but not gwd's (wg-quick's, from another tunnel) is
#     there before gwd first starts: gwd removes only the rules it marked as its own (protocol
#     103), so that rule survives every start and stop, and the killed run's rules do not.
# Usage: restart.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

# 1. A site gateway.
gwt_topo_site
gwt_start_site
HA=$GWT_NS_HA GB=$GWT_NS_GB
gwt_assert_eventually 10 "hostA pings hostB" gwt_ping "$HA" 10.2.0.2
gwt_kill9_gwd "$GWT_PID_B"
gwt_assert_eventually 5 "gw-b went with the killed process" bash -c "! ip -n '$GB' link show gw-b"
gwt_assert_never 2 "hostA cannot reach hostB while gwB is down" gwt_ping "$HA" 10.2.0.2
n_before=$(grep -c "handshake complete with peer site-a" "$GWT_LOG_B")
gwt_start_site_b
gwt_assert_eventually 10 "restarted gw-b is up" ip -n "$GB" link show gw-b up
gwt_assert_running "$GWT_PID_B"
gwt_assert_eventually 40 "hostA reaches hostB again (v4)" gwt_ping "$HA" 10.2.0.2
gwt_assert_eventually 10 "hostA reaches hostB again (v6)" gwt_ping "$HA" fd02::2
[[ $(grep -c "handshake complete with peer site-a" "$GWT_LOG_B") -gt $n_before ]] ||
    gwt_fail "the restarted gwB logged no new handshake"
gwt_assert_running "$GWT_PID_A"

# 3. Without keepalives, in both directions: the side that did not restart keeps sending on the
#    session the restarted side lost; the restarted side, seeing packets for an index it does not
#    know from its peer's configured endpoint, starts the handshake itself at once. Before, only the
#    sender's new-handshake timer (15 s) brought the tunnel back; the bound of 10 s below tells the
#    two apart (the figure is printed).
gwt_stop_gwd "$GWT_PID_A"
gwt_stop_gwd "$GWT_PID_B"
for f in site-a site-b; do
    sed -i -e '/"persistent_keepalive"/d' -e 's/\("allowed_ips": \[[^]]*\]\),$/\1/' "$GWT_SITE_DIR/$f.json"
    jq -e '[.peers[] | has("persistent_keepalive")] == [false]' "$GWT_SITE_DIR/$f.json" >/dev/null ||
        gwt_fail "could not drop the keepalive from $f.json"
done
gwt_start_site
# back_within_10s NS ADDR: pings ADDR from NS (every 0.2 s) until one answers; fails after 10 s.
back_within_10s() {
    local t0=$EPOCHREALTIME
    while ! ip netns exec "$1" ping -n -q -c 1 -W 0.2 "$2" >/dev/null 2>&1; do
        [[ $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print (b - a > 10) }') == 1 ]] && return 1
    done
    BACK=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}
for side in b a; do
    if [[ $side == b ]]; then
        victim=$GWT_PID_B ns=$GWT_NS_HA addr=10.2.0.2 dev=gw-b vns=$GB
    else
        victim=$GWT_PID_A ns=$GWT_NS_HB addr=10.1.0.2 dev=gw-a vns=$GWT_NS_GA
    fi
    gwt_assert_eventually 10 "the tunnel works before gw$side is killed" gwt_ping "$ns" "$addr"
    gwt_kill9_gwd "$victim"
    if [[ $side == b ]]; then gwt_start_site_b; else gwt_start_site_a; fi
    gwt_assert_eventually 10 "restarted $dev is up" ip -n "$vns" link show "$dev" up
    back_within_10s "$ns" "$addr" ||
        gwt_fail "after gw$side restarted, the tunnel was not back within 10 s (the old 15 s timer)"
    gwt_log "ok: gw$side killed and restarted without keepalives: back after ${BACK} s"
done

# 2. The full-tunnel client.
gwt_topo_remote
CL=$GWT_NS_CL
# wg-quick's rule, as `wg-quick up` adds it for its own tunnel: not gwd's to remove.
for fam in -4 -6; do
    ip -n "$CL" "$fam" rule add priority 32764 table main suppress_prefixlength 0 ||
        gwt_fail "cannot add wg-quick's rule ($fam)"
done
rules_before=$(gwt_rules "$CL")
# suppress_rules NS FAMILY [PROTOCOL]: how many priority-32764 suppress rules NS has (of PROTOCOL).
suppress_rules() {
    ip -n "$1" -d "$2" rule show priority 32764 | grep 'lookup main suppress_prefixlength 0' |
        grep -c -- "${3:-}"
}
# both_rules NS: every family has wg-quick's rule (proto unspec) and gwd's own (proto 103).
both_rules() {
    local fam
    for fam in -4 -6; do
        [[ $(suppress_rules "$1" "$fam" 'proto unspec') == 1 &&
            $(suppress_rules "$1" "$fam" 'proto 103') == 1 ]] || return 1
    done
}
gwt_start_gateway
gwt_start_client
gwt_assert_eventually 15 "client pings the host 10.99.0.2" gwt_ping "$CL" 10.99.0.2
gwt_assert "wg-quick's rule survives gwd's start, beside gwd's own" both_rules "$CL"
gwt_kill9_gwd "$GWT_PID_CL"
gwt_assert_eventually 5 "gw-laptop went with the killed process" bash -c "! ip -n '$CL' link show gw-laptop"
gwt_log "client rules left behind by the killed gwd:"$'\n'"$(gwt_rules "$CL")"
gwt_start_client
gwt_assert_log 5 "$GWT_LOG_CL" "removed a rule left by an earlier run"
gwt_assert "the killed run's rules are gone, wg-quick's is still there" both_rules "$CL"
gwt_assert_eventually 40 "client reaches the host again (v4)" gwt_ping "$CL" 10.99.0.2
gwt_assert_eventually 10 "client reaches the host again (v6)" gwt_ping "$CL" fd99::2
gwt_assert "client: internet IPv4 routes into gw-laptop again" gwt_route_dev_is "$CL" 203.0.113.77 gw-laptop
gwt_assert "client: internet IPv6 routes into gw-laptop again" gwt_route_dev_is "$CL" 2001:db8:ff::77 gw-laptop
gwt_stop_gwd "$GWT_PID_CL"
rules_after=$(gwt_rules "$CL")
[[ $rules_after == "$rules_before" ]] ||
    gwt_fail "policy rules after kill -9, restart and SIGTERM differ from before:"$'\n'"before:"$'\n'"$rules_before"$'\n'"after:"$'\n'"$rules_after"
gwt_log "ok: ip rule / ip -6 rule are as before: the defaults and wg-quick's rule"
gwt_assert_running "$GWT_PID_GW"
gwt_pass
