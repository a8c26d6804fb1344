#!/usr/bin/env bash
# Certificates over time and what they grant (docs/CERTIFICATES.md, section 11). A gateway with no
# configured peers trusting one CA, a LAN of its own (10.99.0.1/24 on gwtlan), and clients on
# a bridge:
#
#   [c1] [c2] [c3] [c4] [c5] [c6] -- 192.0.2.0/24 bridge -- [gateway] gw-g 10.90.0.1/24
#                                                          gwtlan 10.99.0.1/24 (the LAN)
#
# Checks, each an attack that worked before:
#   1. c1's certificate ends while c1 keeps pinging: its session ends at the certificate's
#      not_after (a deadline, not "the next handshake"), it is forgotten, and nothing gets through.
#   2. c2 comes back with a re-issued certificate (new name, new address): the new certificate's
#      grant replaces the old at once (its new address passes, its old one is released), c3 may
#      then take the old address, show and `peer list --certified` give the new fingerprint and
#      expiry; revoking the old certificate changes nothing, revoking the new one removes c2.
#   3. Certificates may not take the gateway's routes: a default route (c4) is refused without
#      "certificate_exit_nodes"; a subnet over the gateway's LAN (c5) or over another client's
#      subnet (c6) is refused, judged over the whole prefix; with exit nodes allowed, c4's default
#      route goes into gwd's own table, never the main one.
# Usage: admission.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

gwt_topo_pki
G=$GWT_NS_G DIR=$GWT_PKI
# The LAN: a veth pair within the gateway (no dummy module needed), its link route through gwtlan.
ip -n "$G" link add gwtlan type veth peer name gwtlan2 || gwt_fail "veth gwtlan"
ip -n "$G" link set gwtlan2 up
ip -n "$G" link set gwtlan up
gwt_addr "$G" gwtlan 10.99.0.1/24
ctl() { "$GWT_GWCTL" "$@"; }
gateway_config() {  # EXIT_NODES: true or false
    cat >"$DIR/gateway.json" <<EOF
{ "name": "gw-g", "private_key_file": "gateway.key", "addresses": ["10.90.0.1/24"],
  "trusted_cas": ["ca.pub"], "revocation_file": "revoked.txt",
  $([[ $1 == true ]] && echo "\"certificate_exit_nodes\": true,") "peers": [] }
EOF
}
gateway_config false
: >"$DIR/revoked.txt"

sign() { gwt_pki_sign "$1" "$2" "$3" "$4" ca "${@:5}"; }  # NAME KEY_NAME ADDRESS OUT [ARGS...]
client() { gwt_pki_client "$1" "$2" "$3" ca "${@:4}"; }  # N NAME ADDRESS [SIGN ARGS...]
client_config() { gwt_pki_client_config "$@"; }
start_client() {  # NAME
    local ns=NS_$1
    gwt_start_gwd "${!ns}" "$DIR/$1.json" "$GWT_TMP/gwd-$1.log"
    printf -v "PID_$1" '%s' "$GWT_GWD_PID"
}
json_g() { gwt_ctl "$G" show gw-g --json; }
peer_names() { json_g | jq -c '[.peers[].name]'; }

LOG_G=$GWT_TMP/gwd-gateway.log
gwt_start_gwd "$G" "$DIR/gateway.json" "$LOG_G"
PID_G=$GWT_GWD_PID
gwt_assert_eventually 10 "gw-g is up" ip -n "$G" link show gw-g up

# --- 1. the certificate's end is the session's end
client 11 c1 10.90.0.11 --duration "$((15 + 5 * GWT_TIME_FACTOR))s"  # 20 s; longer when slow
C1_END=$(ctl cert show "$DIR/c1.crt" --json | jq -r '.not_after') || gwt_fail "cert show c1"
start_client c1
gwt_assert_eventually 20 "c1 reaches the gateway" gwt_ping "$NS_c1" 10.90.0.1
gwt_assert_log 5 "$LOG_G" "admitted peer c1 by its certificate"
json_g | jq -e --argjson c1_end "$C1_END" '.peers[] | select(.name == "c1") |
    (.certificate | length) == 64 and .certificate_expires == $c1_end' >/dev/null ||
    gwt_fail "show does not give c1's certificate and its end: $(json_g | jq -c .peers)"
gwt_assert "show says when c1's certificate expires" \
    bash -c "GW_RUN_DIR='$(gwt_run_dir "$G")' '$GWT_GWCTL' show gw-g | grep -q 'certificate: .*expires in'"
# c1 keeps sending (a ping a second) right up to the end and after it.
ip netns exec "$NS_c1" ping -n -q -i 1 -W 1 10.90.0.1 >/dev/null 2>&1 &
GWT_PIDS+=("$!")
gwt_assert_eventually $((C1_END - $(date +%s) + 15)) "the gateway ends c1 at its certificate's end" \
    gwt_log_has "$LOG_G" "peer c1 forgotten: its certificate expired"
(($(date +%s) >= C1_END)) || gwt_fail "c1 was forgotten before its certificate's end"
gwt_assert_never 4 "c1 no longer reaches the gateway" gwt_ping "$NS_c1" 10.90.0.1
[[ $(json_g | jq '[.peers[] | select(.name == "c1")] | length') == 0 ]] ||
    gwt_fail "show still lists c1: $(peer_names)"
gwt_assert "c1's address is released" bash -c "! ip -n '$G' route show dev gw-g | grep -q 10.90.0.11"

# --- 2. a re-issued certificate replaces the grant of the old one
client 12 c2 10.90.0.12
start_client c2
gwt_assert_eventually 20 "c2 reaches the gateway" gwt_ping "$NS_c2" 10.90.0.1
OLD_FP=$(json_g | jq -r '.peers[] | select(.name == "c2") | .certificate')
sign c2-new c2 10.90.0.22 "$DIR/c2-new.crt"
gwt_stop_gwd "$PID_c2"
ip -n "$NS_c2" link del gw-c2 2>/dev/null
client_config c2 10.90.0.22 c2-new.crt
start_client c2
gwt_assert_eventually 20 "c2 reaches the gateway from the address of its new certificate" \
    gwt_ping "$NS_c2" 10.90.0.1
gwt_assert_log 5 "$LOG_G" "peer c2 holds a new certificate (c2-new"
SHOW=$(json_g)
jq -e --arg old "$OLD_FP" '[.peers[] | select(.name == "c2-new")][0] |
    .allowed_ips == ["10.90.0.22/32"] and .certificate != $old' <<<"$SHOW" >/dev/null ||
    gwt_fail "show does not give c2's new grant and fingerprint: $(jq -c .peers <<<"$SHOW")"
gwt_assert "c2's old address has no route any more" bash -c "! ip -n '$G' route show dev gw-g | grep -q '10.90.0.12 '"
# c3 holds c2's old address now: it is free.
client 13 c3 10.90.0.12 --subnets 10.95.1.0/24
start_client c3
gwt_assert_eventually 20 "c3 takes the address c2's old certificate held" gwt_ping "$NS_c3" 10.90.0.1
gwt_assert_eventually 20 "c2 and c3 reach each other" gwt_ping "$NS_c2" 10.90.0.12
LIST=$(gwt_ctl "$G" peer list gw-g --certified) || gwt_fail "peer list --certified"
NEW_FP=$(jq -r '.peers[] | select(.name == "c2-new") | .certificate' <<<"$SHOW")
# NAME KEY ENDPOINT ALLOWED-IPS FINGERPRINT NOT-AFTER, tab-separated, sorted by name.
awk -F'\t' -v key="$(cat "$DIR/c2.pub")" -v fp="$NEW_FP" 'NR == 1 && $1 == "c2-new" && $2 == key &&
    $3 == "192.0.2.12:51820" && $4 == "10.90.0.22/32" && $5 == fp && $6 ~ /^20[0-9-]+T[0-9:]+Z$/ { ok = 1 }
    NR == 2 && $1 == "c3" && $4 == "10.90.0.12/32,10.95.1.0/24" { ok3 = 1 }
    END { exit !(ok && ok3 && NR == 2) }' <<<"$LIST" ||
    gwt_fail "peer list --certified does not list c2-new and c3 with their grants and certificates: $LIST"
[[ -z $(gwt_ctl "$G" peer list gw-g) ]] || gwt_fail "peer list (the configured peers) is not empty"
gwt_log "ok: peer list --certified: $(tr '\t' ' ' <<<"$LIST" | cut -c1-160)"
ctl ca revoke --list "$DIR/revoked.txt" --fingerprint "$OLD_FP" >/dev/null || gwt_fail "revoke c2's old"
OUT=$(gwt_ctl "$G" reload gw-g 2>&1) || gwt_fail "reload: $OUT"
[[ $OUT == "no changes" ]] || gwt_fail "revoking the replaced certificate changed something: $OUT"
gwt_assert "c2 still reaches the gateway" gwt_ping "$NS_c2" 10.90.0.1
ctl ca revoke --list "$DIR/revoked.txt" "$DIR/c2-new.crt" >/dev/null || gwt_fail "revoke c2's new"
OUT=$(gwt_ctl "$G" reload gw-g 2>&1) || gwt_fail "reload: $OUT"
[[ $OUT == *"removed: c2-new"* ]] || gwt_fail "reload does not remove c2-new: $OUT"
gwt_assert_never 4 "c2 no longer reaches the gateway" gwt_ping "$NS_c2" 10.90.0.1

# --- 3. certificates cannot take the gateway's routes
client 14 c4 10.90.0.14 --subnets 0.0.0.0/0
client 15 c5 10.90.0.15 --subnets 10.99.0.128/25
client 16 c6 10.90.0.16 --subnets 10.95.0.0/16
for c in c4 c5 c6; do start_client "$c"; done
gwt_assert_log 20 "$LOG_G" "refused the certificate of c4" "default_route (0.0.0.0/0"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c5" "address_taken (10.99.0.128/25" \
    "overlaps the route 10.99.0.0/24"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c6" "address_taken (10.95.0.0/16" \
    "overlaps a network of peer c3"
gwt_assert "the gateway's own traffic does not go into the tunnel" \
    bash -c "! ip -n '$G' route get 198.51.100.7 2>&1 | grep -q 'dev gw-g'"
for c in c4 c5 c6; do
    ns=NS_$c
    gwt_assert_not "$c gets nothing through" gwt_ping "${!ns}" 10.90.0.1
done
gwt_stop_gwd "$PID_G"
gateway_config true
gwt_start_gwd "$G" "$DIR/gateway.json" "$LOG_G"
PID_G=$GWT_GWD_PID
gwt_assert_eventually 30 "with exit nodes allowed, c4 is admitted" gwt_ping "$NS_c4" 10.90.0.1
ROUTE=$(ip -n "$G" -4 route show table all | grep '^default dev gw-g')
[[ -n $ROUTE && $ROUTE != *"table main"* && $ROUTE == *table* ]] ||
    gwt_fail "c4's default route is not in gwd's own table: '$ROUTE'"
gwt_assert "none in the main table" bash -c "! ip -n '$G' -4 route show table main | grep -q '^default dev gw-g'"
gwt_log "ok: exit node route: $ROUTE"
gwt_assert_running "$PID_G"
gwt_stop_gwd "$PID_G"
gwt_pass
