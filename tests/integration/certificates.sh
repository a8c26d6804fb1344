#!/usr/bin/env bash
# Certificates in the handshake (docs/CERTIFICATES.md). A gateway configured with no peers at
# all, trusting one CA, and clients that know the gateway's key and show a certificate the CA
# signed:
#
#   [c1] 192.0.2.11 --\                              c1 10.90.0.11   c2 10.90.0.12   c3 10.90.0.13
#   [c2] 192.0.2.12 ---- 192.0.2.1/24 [gateway]      gateway gw-g 10.90.0.1/24 (forwarding)
#   [c3] 192.0.2.13 --/   (a bridge)                 c4: revoked, c5: expired, c6: another CA
#   [c4] [c5] [c6] [c7] [c8] [c9]                   c7: c1's address, c8: not yet valid, c9: forged
#
# Checks: the three certified clients are admitted and reach the gateway and each other, routed
# by their certificates' addresses (the gateway's allowed IPs come from the certificates);
# c4 (revoked from the start), c5 (expired), c6 (signed by an unknown CA), c8 (not yet valid) and
# c9 (a flipped signature bit) are refused, each logged with its reason and counted; c3 is revoked at run time and `gwctl reload` ends its
# session; a client whose certificate claims another client's address is refused; a certified
# client's key added with `gwctl peer add` becomes a configured peer in its place.
# Usage: certificates.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

gwt_topo_pki
G=$GWT_NS_G DIR=$GWT_PKI
ctl() { "$GWT_GWCTL" "$@"; }
ctl ca init "$DIR/other-ca" >/dev/null || gwt_fail "ca init (other)"

cat >"$DIR/gateway.json" <<EOF
{ "name": "gw-g", "private_key_file": "gateway.key", "addresses": ["10.90.0.1/24"],
  "trusted_cas": ["ca.pub"], "revocation_file": "revoked.txt", "peers": [] }
EOF
: >"$DIR/revoked.txt"

client() {  # N NAME ADDRESS CA [SIGN ARGS...]: a client in group "clients"
    gwt_pki_client "$@" --groups clients
}
client 11 c1 10.90.0.11 ca
client 12 c2 10.90.0.12 ca
client 13 c3 10.90.0.13 ca
client 14 c4 10.90.0.14 ca
client 15 c5 10.90.0.15 ca --not-before $(($(date +%s) - 7200)) --duration 3600s
client 16 c6 10.90.0.16 other-ca
client 17 c7 10.90.0.11 ca # claims c1's address
client 18 c8 10.90.0.18 ca --not-before $(($(date +%s) + 86400))
client 19 c9 10.90.0.19 ca
# c9's certificate with one bit of its signature flipped: it still parses, but the CA never
# signed these bytes.
python3 - "$DIR/c9.crt" <<'PY' || gwt_fail "tamper c9.crt"
import base64, sys
path = sys.argv[1]
lines = open(path).read().split("\n")
body = base64.b64decode("".join(lines[1:-2]))
body = body[:-1] + bytes([body[-1] ^ 1])
text = base64.b64encode(body).decode()
open(path, "w").write(lines[0] + "\n" + "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n" + lines[-2] + "\n")
PY
ctl ca revoke --list "$DIR/revoked.txt" "$DIR/c4.crt" >/dev/null || gwt_fail "revoke c4"

LOG_G=$GWT_TMP/gwd-gateway.log
gwt_start_gwd "$G" "$DIR/gateway.json" "$LOG_G"
PID_G=$GWT_GWD_PID
gwt_assert_eventually 10 "gw-g is up" ip -n "$G" link show gw-g up
for c in c1 c2 c3; do
    ns=NS_$c
    gwt_start_gwd "${!ns}" "$DIR/$c.json" "$GWT_TMP/gwd-$c.log"
done
gwt_assert_eventually 20 "c1 reaches the gateway" gwt_ping "$NS_c1" 10.90.0.1
gwt_assert_eventually 10 "c2 reaches the gateway" gwt_ping "$NS_c2" 10.90.0.1
gwt_assert_eventually 10 "c3 reaches the gateway" gwt_ping "$NS_c3" 10.90.0.1
gwt_assert_log 5 "$LOG_G" "admitted peer c1 by its certificate"
gwt_assert "c1 reaches c2 through the gateway" gwt_ping "$NS_c1" 10.90.0.12
gwt_assert "c2 reaches c3 through the gateway" gwt_ping "$NS_c2" 10.90.0.13
gwt_assert "c3 reaches c1 through the gateway" gwt_ping "$NS_c3" 10.90.0.11
SHOW=$(gwt_ctl "$G" show gw-g --json) || gwt_fail "show"
jq -e '[.peers[].name] == ["c1","c2","c3"] and (.peers[0].allowed_ips == ["10.90.0.11/32"])' \
    <<<"$SHOW" >/dev/null || gwt_fail "show does not list c1..c3 with their certificate addresses: $SHOW"
gwt_log "ok: show lists c1, c2, c3 with the addresses of their certificates"
gwt_assert "the config file still has no peers" jq -e '.peers == []' "$DIR/gateway.json"

# The refused: each logged with its reason, counted, and kept out.
for c in c4 c5 c6 c7 c8 c9; do
    ns=NS_$c
    gwt_start_gwd "${!ns}" "$DIR/$c.json" "$GWT_TMP/gwd-$c.log"
done
gwt_assert_log 20 "$LOG_G" "refused the certificate of c4" "revoked"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c5" "expired"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c6" "unknown_ca"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c7" "address_taken"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c8" "not_yet_valid"
gwt_assert_log 10 "$LOG_G" "refused the certificate of c9" "bad_signature"
gwt_assert_never 4 "c4 (revoked) never reaches the gateway" gwt_ping "$NS_c4" 10.90.0.1
gwt_assert_not "c5 (expired) does not reach it" gwt_ping "$NS_c5" 10.90.0.1
gwt_assert_not "c6 (unknown CA) does not reach it" gwt_ping "$NS_c6" 10.90.0.1
gwt_assert "c1 still reaches the gateway (c7 took nothing of its)" gwt_ping "$NS_c1" 10.90.0.1
COUNTS=$(gwt_ctl "$G" show gw-g --json | jq -c '.counters.handshakes_failed | with_entries(select(.key | startswith("certificate_")))')
for r in revoked expired unknown_ca address_taken not_yet_valid bad_signature; do
    jq -e --arg k "certificate_$r" '.[$k] >= 1' <<<"$COUNTS" >/dev/null || gwt_fail "certificate_$r not counted: $COUNTS"
done
gwt_log "ok: refusals counted: $COUNTS"

# Revoking c3 at run time: reload ends its session.
ctl ca revoke --list "$DIR/revoked.txt" "$DIR/c3.crt" >/dev/null || gwt_fail "revoke c3"
OUT=$(gwt_ctl "$G" reload gw-g 2>&1) || gwt_fail "reload: $OUT"
[[ $OUT == *"removed: c3"* ]] || gwt_fail "reload does not say c3 was removed: $OUT"
gwt_assert_log 5 "$LOG_G" "peer c3 removed: " "revoked"
gwt_assert_never 4 "c3 no longer reaches the gateway" gwt_ping "$NS_c3" 10.90.0.1
gwt_assert "c1 still reaches c2" gwt_ping "$NS_c1" 10.90.0.12

# c1's key added as a configured peer replaces its admission by certificate.
gwt_assert "peer add of c1's key" gwt_ctl "$G" peer add gw-g c1-static --public-key-file "$DIR/c1.pub" \
    --allowed-ips 10.90.0.11/32
gwt_assert_log 5 "$LOG_G" "peer c1 is configured now; its certificate admission ends"
gwt_assert_eventually 20 "c1 reaches the gateway as the configured peer c1-static" gwt_ping "$NS_c1" 10.90.0.1
jq -e '[.peers[].name] == ["c1-static","c2"]' <<<"$(gwt_ctl "$G" show gw-g --json)" >/dev/null ||
    gwt_fail "show does not list c1-static and c2: $(gwt_ctl "$G" show gw-g --json | jq -c '[.peers[].name]')"
gwt_assert "a reload of the same file changes nothing" bash -c "GW_RUN_DIR='$(gwt_run_dir "$G")' '$GWT_GWCTL' reload gw-g | grep -qx 'no changes'"
gwt_assert_running "$PID_G"
gwt_stop_gwd "$PID_G"
gwt_pass
