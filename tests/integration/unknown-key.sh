#!/usr/bin/env bash
# Scenario d: an unknown key. The remote-worker topology plus an "intruder" namespace that runs
# configs/remote-worker/client.json unchanged (same tunnel addresses as the laptop, the
# gateway's real public key) with a fresh private key the gateway does not know.
# Checks: the real laptop works (control); nothing of the intruder's gets through (pings to the
# host and the gateway, v4 and v6, fail for several seconds); the gateway logs "unknown peer"
# with the intruder's public key; the gateway completes no handshake but the laptop's; the laptop
# still works. The intruder's `show` counts no handshake and no session (in Noise_XX the initiator
# derives its keys when it sends message 3, before the responder checks its key; only the
# responder's confirmation makes it a session), shows the attempt pending and why it fails.
# Then the intruder runs with a wrong key for the gateway: the gateway warns that initiations
# from that source keep failing mac1, and the intruder's show says nobody answers.
# Usage: unknown-key.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

GWT_WITH_INTRUDER=1 gwt_topo_remote
CL=$GWT_NS_CL X=$GWT_NS_X

# The intruder's folder: the same client.json, a fresh laptop.key, the gateway's public key.
XDIR=$GWT_TMP/intruder
gwt_config remote-worker/client.json "$XDIR"
gwt_keys "$XDIR" laptop
cp "$GWT_RW_DIR/gateway.pub" "$XDIR/" || gwt_fail "copy gateway.pub"
XPUB=$(cat "$XDIR/laptop.pub")
[[ $XPUB != "$(cat "$GWT_RW_DIR/laptop.pub")" ]] || gwt_fail "fresh key equals the laptop's"
XLOG=$GWT_TMP/gwd-intruder.log

gwt_start_gateway
gwt_start_client
gwt_assert_eventually 15 "control: the laptop pings the host 10.99.0.2" gwt_ping "$CL" 10.99.0.2

gwt_start_gwd "$X" "$XDIR/client.json" "$XLOG"
XPID=$GWT_GWD_PID
gwt_assert_eventually 10 "intruder's gw-laptop is up" ip -n "$X" link show gw-laptop up
gwt_assert_eventually 10 "intruder's internet traffic routes into its tunnel" gwt_route_dev_is "$X" 10.99.0.2 gw-laptop
gwt_assert_never 8 "intruder never reaches the host 10.99.0.2" gwt_ping "$X" 10.99.0.2
gwt_assert_never 3 "intruder never reaches the host fd99::2" gwt_ping "$X" fd99::2
gwt_assert_never 3 "intruder never reaches the gateway's 10.88.0.1" gwt_ping "$X" 10.88.0.1
gwt_assert_log 10 "$GWT_LOG_GW" "unknown peer" "$XPUB"
gwt_assert_not "the gateway completed no handshake but the laptop's" \
    bash -c "grep 'handshake complete with peer' '$GWT_LOG_GW' | grep -qv 'with peer laptop'"
gwt_assert_running "$XPID"
gwt_assert_running "$GWT_PID_GW"
gwt_assert_eventually 10 "the laptop still pings the host" gwt_ping "$CL" 10.99.0.2

# The intruder's own live state tells the truth: message 3 went out, but no session was ever
# confirmed, so no handshake, no suite, no session; an attempt is pending, and the cause shows.
XS=$(gwt_ctl "$X" show gw-laptop --json | jq -c '.peers[0]')
jq -e '.session == false and .handshakes == 0 and .latest_handshake == 0 and .suite == null and
    .handshake_pending_since > 0 and .handshake_attempts >= 1' <<<"$XS" >/dev/null ||
    gwt_fail "the refused intruder's show claims a session or hides its attempt: $XS"
xtrouble_is() {
    gwt_ctl "$X" show gw-laptop --json | jq -e --arg t "$1" '.peers[0].handshake_trouble == $t'
}
gwt_assert_eventually 10 "the intruder's show names the likely cause" xtrouble_is not_confirmed
XTEXT=$(gwt_ctl "$X" show gw-laptop)
[[ $XTEXT == *"handshake: pending since"* && $XTEXT == *"handshake trouble: the peer never confirmed"* ]] ||
    gwt_fail "the text does not say the handshake is pending and why it fails: $XTEXT"
gwt_log "ok: the intruder's show says the handshake is pending and why it fails"
gwt_stop_gwd "$XPID"

# An intruder configured with a wrong key for the gateway: its initiations fail mac1 there, the
# gateway warns about the source, and the intruder's show says nobody answers.
head -c 32 /dev/urandom | base64 >"$XDIR/gateway.pub"
gwt_start_gwd "$X" "$XDIR/client.json" "$XLOG"
XPID=$GWT_GWD_PID
gwt_assert_log 30 "$GWT_LOG_GW" "initiations from [2001:db8:3::9]:" "keep failing mac1" \
    "wrong public key for this gateway"
gwt_assert_eventually 10 "the intruder's show says its initiations go unanswered" xtrouble_is no_response
gwt_assert_running "$XPID"
gwt_assert_running "$GWT_PID_GW"
gwt_pass
