#!/usr/bin/env bash
# Endpoints by DNS name. gwA's peer site-b is "gw-b.test:51820", a name that gwA's gwd resolves
# through a hosts file of the test's: that gwd sees a copy of /etc, bound over /etc in a mount
# namespace of its own, so the test needs no /etc/hosts on the host and never writes the host's
# /etc. gwB knows no endpoint for gwA and learns it from the handshake. Checks:
#   1. the name does not resolve at start: gwd says so and runs on;
#   2. once it resolves, traffic for the peer makes gwd resolve it again and the tunnel comes up;
#   3. gwB moves to another underlay address and the name follows: gwA's packets and handshakes
#      go unanswered, gwd resolves the name again and reaches gwB at its new address (gwB's own
#      initiations are dropped, so the tunnel cannot come back by roaming instead).
# Usage: dns.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_topo_site
GA=$GWT_NS_GA GB=$GWT_NS_GB
ETC_A=$GWT_TMP/etc-gwA
gwt_private_etc "$ETC_A"
hosts=$ETC_A/hosts
printf '127.0.0.1 localhost\n' >"$hosts"
# Rewrites the hosts file in place (same inode: the bind mount keeps showing it).
set_hosts() { printf '127.0.0.1 localhost\n%s\n' "$1" >"$hosts"; }

# The example pair, with site-b given by name and site-a's endpoint left for gwB to learn.
sed -i 's#"endpoint": "192.0.2.2:51820"#"endpoint": "gw-b.test:51820"#' "$GWT_SITE_DIR/site-a.json"
# gwB neither knows gwA's address nor keeps the session alive: once gwB moves, only gwA
# resolving the name again can bring the tunnel back (not gwB roaming towards gwA).
sed -i -e '/"endpoint": "192.0.2.1:51820",/d' -e 's#"fd01::/64"\],#"fd01::/64"]#' \
    -e '/"persistent_keepalive": 25/d' "$GWT_SITE_DIR/site-b.json"
grep -q gw-b.test "$GWT_SITE_DIR/site-a.json" || gwt_fail "could not name the endpoint"
grep -qE 'endpoint|keepalive' "$GWT_SITE_DIR/site-b.json" && gwt_fail "could not edit site-b.json"

gwt_start_site_b
gwt_start_gwd_with_etc "$GA" "$ETC_A" "$GWT_SITE_DIR/site-a.json" "$GWT_LOG_A"
GWT_PID_A=$GWT_GWD_PID
gwt_assert_eventually 10 "gwA says the name does not resolve" \
    gwt_log_has "$GWT_LOG_A" "peer site-b: cannot resolve gw-b.test"
gwt_assert_running "$GWT_PID_A"
gwt_assert_not "no tunnel without an address" gwt_ping "$GA" 10.77.0.2

set_hosts "192.0.2.2 gw-b.test"
gwt_assert_eventually 20 "the tunnel comes up once the name resolves" gwt_ping "$GA" 10.77.0.2
gwt_assert_log 5 "$GWT_LOG_A" "gw-b.test is now 192.0.2.2:51820"

gwt_log "moving gwB from 192.0.2.2 to 192.0.2.3 and the name with it"
ip -n "$GB" addr del 192.0.2.2/24 dev gwtul || gwt_fail "addr del"
ip -n "$GB" addr add 192.0.2.3/24 dev gwtul || gwt_fail "addr add"
set_hosts "192.0.2.3 gw-b.test"
# gwB has sent data lately, so it would start a handshake towards gwA's known address itself,
# and gwA would follow it there (roaming). Drop gwB's initiations (message type 1, the first
# payload byte) so that only gwA resolving the name again can bring the tunnel back.
ip netns exec "$GB" nft -f - <<'NFT' || gwt_fail "nft"
table inet gwtdns {
    chain out {
        type filter hook output priority 0;
        udp dport 51820 @th,64,8 1 counter drop
    }
}
NFT
gwt_assert_eventually 60 "gwA reaches gwB at its new address" gwt_ping "$GA" 10.77.0.2
gwt_assert_log 5 "$GWT_LOG_A" "gw-b.test is now 192.0.2.3:51820"
gwt_assert_eventually 10 "hostA reaches hostB again" gwt_ping "$GWT_NS_HA" 10.2.0.2
gwt_assert_running "$GWT_PID_A"
gwt_assert_running "$GWT_PID_B"
gwt_pass
