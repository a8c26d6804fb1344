#!/usr/bin/env bash
# Live control of a running gwd through gwctl and its control socket (docs/CONTROL.md).
# The site-to-site pair plus a third gateway C, wired to A by its own underlay link:
#
#   [gwC] gwtc 192.0.3.2/24 -- 192.0.3.1/24 gwtc [gwA] gwtul 192.0.2.1 -- 192.0.2.2 [gwB]
#   gw-c 10.77.0.3/24                                gw-a 10.77.0.1/24        gw-b 10.77.0.2/24
#
# Checks: show and show --json; C is added to A live (no restart) and pings A through the
# tunnel, while A's session with B is untouched; peer set; removing C stops its packets,
# wipes its keys and refuses its handshakes; reload applies an edited file and refuses a broken
# one; the socket is 0660 and clients are checked by credentials (root, the control group, its
# supplementary members; a user outside it is refused even past the file mode); bad requests
# of every kind get error replies while gwd keeps serving.
# Usage: control.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
for c in jq setpriv; do
    command -v "$c" >/dev/null || gwt_fail "missing tool '$c' (run scripts/install-deps.sh)"
done

gwt_topo_site
A=$GWT_NS_GA
gwt_ns C gwC
gwt_veth "$A" gwtc "$C" gwtc
gwt_addr "$A" gwtc 192.0.3.1/24
gwt_addr "$C" gwtc 192.0.3.2/24
CDIR=$GWT_TMP/site-c
gwt_keys "$CDIR" site-c
cp "$GWT_SITE_DIR/site-a.pub" "$CDIR/"
# C may be driven by the group "nogroup" besides root.
cat >"$CDIR/site-c.json" <<EOF
{
  "name": "gw-c",
  "private_key_file": "site-c.key",
  "addresses": ["10.77.0.3/24"],
  "control_group": "nogroup",
  "peers": [
    { "name": "site-a", "public_key_file": "site-a.pub", "endpoint": "192.0.3.1:51820",
      "allowed_ips": ["10.77.0.1/32"] }
  ]
}
EOF
LOG_C=$GWT_TMP/gwd-site-c.log
ACFG=$GWT_SITE_DIR/site-a.json
CPUB=$(cat "$CDIR/site-c.pub")

# A exports Prometheus metrics.
jq '.metrics_port = 9586' "$ACFG" >"$ACFG.new" && mv "$ACFG.new" "$ACFG"
gwt_start_site
gwt_start_gwd "$C" "$CDIR/site-c.json" "$LOG_C"
PID_C=$GWT_GWD_PID
gwt_assert_eventually 10 "gw-c is up in gwC" ip -n "$C" link show gw-c up

ctl_a() { gwt_ctl "$A" "$@"; }
json_a() { ctl_a show gw-a --json; }
hs_b() { json_a | jq -e -r '.peers[] | select(.name == "site-b") | .handshakes'; }

# --- show ---
gwt_assert_eventually 10 "gwctl show names site-b with a handshake" \
    bash -c "GW_RUN_DIR='$(gwt_run_dir "$A")' '$GWT_GWCTL' show gw-a | grep -q 'latest handshake: .*ago\|latest handshake: Now'"
gwt_assert "A pings B (so that there is transfer to show)" gwt_ping "$A" 10.77.0.2
SHOW=$(ctl_a show gw-a) || gwt_fail "gwctl show gw-a failed"
printf '%s\n' "$SHOW" | sed 's/^/    | /'
for want in "interface: gw-a" "peer: site-b" "endpoint: 192.0.2.2:51820" "transfer:" \
    "allowed ips: 10.77.0.2/32"; do
    [[ $SHOW == *"$want"* ]] || gwt_fail "gwctl show lacks '$want'"
done
gwt_assert "show --json holds the peer's session and suite" \
    bash -c "GW_RUN_DIR='$(gwt_run_dir "$A")' '$GWT_GWCTL' show gw-a --json | jq -e '.peers[0].session == true and (.peers[0].suite | type) == \"string\" and .interface.listen_port == 51820'"
HS_B=$(hs_b) || gwt_fail "no handshake count for site-b"

# --- peer add: C comes up with no restart of A ---
gwt_assert_never 3 "before it is added, C cannot reach A" gwt_ping "$C" 10.77.0.1
gwt_assert "peer add site-c" ctl_a peer add gw-a site-c --public-key "$CPUB" \
    --endpoint 192.0.3.2:51820 --allowed-ips 10.77.0.3/32
gwt_assert_eventually 15 "C pings A through the tunnel" gwt_ping "$C" 10.77.0.1
gwt_assert_running "$GWT_PID_A"
gwt_assert "the config file holds site-c" jq -e '.peers | map(.name) == ["site-b", "site-c"]' "$ACFG"
gwt_assert "A still pings B" gwt_ping "$A" 10.77.0.2
[[ $(hs_b) == "$HS_B" ]] || gwt_fail "adding site-c touched site-b's session (handshakes $HS_B -> $(hs_b))"
gwt_log "ok: site-b's session untouched ($HS_B handshakes)"
gwt_assert "peer list names both" bash -c "GW_RUN_DIR='$(gwt_run_dir "$A")' '$GWT_GWCTL' peer list gw-a | cut -f1 | tr '\n' ' ' | grep -qx 'site-b site-c '"
gwt_assert_not "adding a peer with a taken network is refused" \
    ctl_a peer add gw-a other --public-key "$(cat "$GWT_SITE_DIR/site-b.pub" | tr 'A-Za-z' 'B-ZAb-za' | cut -c1-43)=" --allowed-ips 10.77.0.3/32

# --- peer set ---
gwt_assert "peer set site-b keepalive 7" ctl_a peer set gw-a site-b --persistent-keepalive 7
gwt_assert "the file holds keepalive 7" jq -e '.peers[0].persistent_keepalive == 7' "$ACFG"
gwt_assert "show prints it" bash -c "GW_RUN_DIR='$(gwt_run_dir "$A")' '$GWT_GWCTL' show gw-a | grep -q 'every 7 seconds'"
[[ $(hs_b) == "$HS_B" ]] || gwt_fail "peer set restarted site-b's session"
gwt_assert_not "peer set of an unknown peer fails" ctl_a peer set gw-a nobody --persistent-keepalive 1

# --- peer remove: C's packets stop, its handshakes are refused ---
gwt_assert "peer remove site-c" ctl_a peer remove gw-a site-c
gwt_assert_log 5 "$GWT_LOG_A" "peer site-c removed; its keys are wiped"
gwt_assert_never 4 "C no longer reaches A" gwt_ping "$C" 10.77.0.1
gwt_assert_log 25 "$GWT_LOG_A" "unknown peer" "$CPUB"
gwt_assert "the file no longer holds site-c" jq -e '.peers | map(.name) == ["site-b"]' "$ACFG"
gwt_assert "A still pings B" gwt_ping "$A" 10.77.0.2

# --- reload ---
jq --arg k "$CPUB" '.peers += [{"name":"site-c","public_key":$k,"endpoint":"192.0.3.2:51820","allowed_ips":["10.77.0.3/32"]}] | .peers[0].persistent_keepalive = 9' \
    "$ACFG" >"$ACFG.new" && mv "$ACFG.new" "$ACFG"
OUT=$(ctl_a reload gw-a 2>&1) || gwt_fail "reload failed: $OUT"
[[ $OUT == *site-c* && $OUT == *site-b* ]] || gwt_fail "reload output names neither site-c nor site-b: $OUT"
gwt_log "ok: reload: $OUT"
gwt_assert_eventually 15 "after reload C pings A again" gwt_ping "$C" 10.77.0.1
cp "$ACFG" "$GWT_TMP/good.json"
echo '{ "name": "gw-a", "peers": [ }' >"$ACFG"
OUT=$(ctl_a reload gw-a 2>&1) && gwt_fail "reload of a broken file succeeded: $OUT"
[[ $OUT == *"site-a.json"* ]] || gwt_fail "reload error does not name the file: $OUT"
gwt_log "ok: broken reload refused: $OUT"
cp "$GWT_TMP/good.json" "$ACFG"
gwt_assert "after the broken reload C still pings A" gwt_ping "$C" 10.77.0.1

# --- metrics ---
metrics() { ip netns exec "$A" curl -sS --max-time "$(gwt_t 5)" "http://127.0.0.1:9586${1:-/metrics}"; }
M=$(metrics) || gwt_fail "no metrics from 127.0.0.1:9586"
metric() { awk -v m="$1" 'index($0, m) == 1 { print $NF }' <<<"$M"; }
for name in 'gw_peer_received_bytes_total{interface="gw-a",peer="site-b"' \
    'gw_peer_sent_bytes_total{interface="gw-a",peer="site-b"' \
    'gw_peer_handshakes_total{interface="gw-a",peer="site-b"' \
    'gw_peer_last_handshake_seconds{interface="gw-a",peer="site-b"'; do
    v=$(metric "$name")
    [[ -n $v && $v != 0 ]] || gwt_fail "metric $name is '${v}' (want > 0)"
done
[[ $(metric 'gw_sessions_active{interface="gw-a"}') == 2 ]] || gwt_fail "gw_sessions_active is not 2"
v=$(metric 'gw_handshakes_failed_total{interface="gw-a",reason="unknown_peer"}')
[[ -n $v && $v -ge 1 ]] || gwt_fail "C's refused handshakes are not counted (unknown_peer: '$v')"
v=$(metric 'gw_handshakes_failed_total{interface="gw-a",reason="evicted"}')
[[ $v == 0 ]] || gwt_fail "evicted pending handshakes are not reported as 0 (got '$v')"
for m in gw_packets_dropped_total gw_cookie_replies_sent_total gw_peers; do
    grep -q "^# TYPE $m " <<<"$M" || gwt_fail "metric $m has no TYPE line"
done
gwt_log "ok: metrics: $(grep -c '^gw_' <<<"$M") samples, site-b's counters set, C's refusals counted"
code=$(ip netns exec "$A" curl -s -o /dev/null -w '%{http_code}' --max-time "$(gwt_t 5)" http://127.0.0.1:9586/nothing)
[[ $code == 404 ]] || gwt_fail "/nothing got HTTP $code, not 404"
# DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 reads nothing.
OUT=$(ip netns exec "$A" curl -sS -w '%{http_code}' --max-time "$(gwt_t 5)" -H 'Host: evil.example' \
    http://127.0.0.1:9586/metrics) || gwt_fail "curl with Host evil.example failed: $OUT"
[[ $OUT == *421 && $OUT != *gw_peer* ]] || gwt_fail "a request for Host evil.example got: $OUT"
gwt_log "ok: a request for Host evil.example gets 421 and no metrics"
gwt_assert_not "metrics are not served beyond 127.0.0.1" \
    ip netns exec "$GWT_NS_GB" curl -sS --max-time 3 http://192.0.2.1:9586/metrics

# --- permissions ---
SOCK_A=$(gwt_run_dir "$A")/gw-a.sock
SOCK_C=$(gwt_run_dir "$C")/gw-c.sock
[[ $(stat -c %a "$SOCK_A") == 660 ]] || gwt_fail "socket mode is $(stat -c %a "$SOCK_A"), not 660"
[[ $(stat -c %G "$SOCK_C") == nogroup ]] || gwt_fail "gw-c's socket group is $(stat -c %G "$SOCK_C")"
chmod 755 "$GWT_TMP" "$GWT_TMP/run" "$(gwt_run_dir "$A")" "$(gwt_run_dir "$C")"
as_nobody() { setpriv --reuid nobody "$@"; }
# The build's gwctl may sit where nobody cannot reach it (a clone under /root, mode 0700).
GWCTL_ANY=$(gwt_public_copy "$GWT_GWCTL")
OUT=$(as_nobody --regid nogroup --clear-groups env GW_RUN_DIR="$(gwt_run_dir "$A")" "$GWCTL_ANY" show gw-a 2>&1) &&
    gwt_fail "nobody reached gw-a's socket: $OUT"
[[ $OUT == *"cannot reach gwd for gw-a"*"Permission denied"* ]] ||
    gwt_fail "nobody's gwctl did not fail at gw-a's socket mode: $OUT"
gwt_log "ok: nobody is refused by gw-a's socket mode: $OUT"
OUT=$(as_nobody --regid users --clear-groups --inh-caps +dac_override --ambient-caps +dac_override \
    env GW_RUN_DIR="$(gwt_run_dir "$C")" "$GWCTL_ANY" show gw-c 2>&1) &&
    gwt_fail "nobody past the file mode was served by gw-c: $OUT"
[[ $OUT == *"not root and not in group nogroup"* ]] || gwt_fail "refusal does not say why: $OUT"
gwt_log "ok: nobody past the file mode is refused by its credentials: $OUT"
gwt_assert_log 5 "$LOG_C" "refused a client" "uid 65534"
gwt_assert "nobody in group nogroup may show gw-c" \
    as_nobody --regid nogroup --clear-groups env GW_RUN_DIR="$(gwt_run_dir "$C")" "$GWCTL_ANY" show gw-c
gwt_assert "nobody with nogroup as a supplementary group may too" \
    as_nobody --regid users --groups nogroup env GW_RUN_DIR="$(gwt_run_dir "$C")" "$GWCTL_ANY" show gw-c

# --- bad requests: each gets an error reply; gwd keeps serving ---
req() { printf '%s\n' "$1" | timeout "$(gwt_t 5)" socat -t "$(gwt_t 2)" - "UNIX-CONNECT:$SOCK_A"; }
check_reply() {
    local desc=$1 line=$2 code=$3 out
    out=$(req "$line") || gwt_fail "$desc: no reply"
    jq -e --arg c "$code" '.ok == false and .error == $c and (.message | length) > 0' <<<"$out" >/dev/null ||
        gwt_fail "$desc: expected error $code, got: $out"
    gwt_log "ok: $desc -> $(jq -r '.error + ": " + .message' <<<"$out" | cut -c1-140)"
}
check_reply "not JSON" 'hello' bad_json
check_reply "not an object" '[1,2]' bad_json
check_reply "no version" '{"command":"show"}' unsupported_version
check_reply "version 2" '{"version":2,"command":"show"}' unsupported_version
check_reply "unknown command" '{"version":1,"command":"explode"}' unknown_command
check_reply "unknown member" '{"version":1,"command":"show","all":true}' bad_request
check_reply "peer without a key" '{"version":1,"command":"peer.add","peer":{"name":"x"}}' bad_request
check_reply "bad prefix" '{"version":1,"command":"peer.set","peer":"site-b","set":{"allowed_ips":["10.0.0.0/33"]}}' bad_request
check_reply "psk file name" '{"version":1,"command":"peer.add","peer":{"name":"x","public_key":"'"$CPUB"'","psk_file":"/etc/shadow"}}' bad_request
check_reply "unknown peer" '{"version":1,"command":"peer.remove","peer":"ghost"}' not_found
check_reply "full tunnel added live" '{"version":1,"command":"peer.set","peer":"site-b","set":{"allowed_ips":["0.0.0.0/0"]}}' restart_required
# 30,000 nested arrays fit in a request line: refused, not recursed into.
DEEP=$(printf '%.0s[' $(seq 1 30000))$(printf '%.0s]' $(seq 1 30000))
check_reply "30,000 nested arrays" "$DEEP" bad_json
check_reply "30,000 nested arrays in a member" '{"version":1,"command":"show","x":'"$DEEP"'}' bad_json
BIG=$(head -c 70000 /dev/zero | tr '\0' 'a')
OUT=$(req "$BIG") || true
jq -e '.error == "too_large"' <<<"$OUT" >/dev/null || gwt_fail "oversized line: got '$OUT'"
gwt_log "ok: an oversized line gets too_large"
# Several requests on one connection, one of them bad: each answered in order.
OUT=$(printf '%s\n' '{"version":1,"command":"version"}' 'nonsense' '{"version":1,"command":"peer.list"}' |
    timeout "$(gwt_t 5)" socat -t "$(gwt_t 2)" - "UNIX-CONNECT:$SOCK_A")
[[ $(jq -s -c 'map(.ok)' <<<"$OUT") == '[true,false,true]' ]] || gwt_fail "pipelined replies: $OUT"
gwt_log "ok: three requests on one connection answered in order"
# Random bytes, truncated JSON, deep nesting and a client that hangs up mid-line.
for i in $(seq 1 200); do
    case $((i % 4)) in
        0) head -c $((RANDOM % 300 + 1)) /dev/urandom ;;
        1) printf '{"version":1,"command":"peer.add","peer":{"name":"p%s","allowed_ips":[' "$i" ;;
        2) printf '%.0s[' $(seq 1 $((RANDOM % 2000 + 1))) ;;
        3) printf '{"version":1,"command":"peer.set","peer":"site-b","set":{"endpoint":%s}}\n' "$RANDOM" ;;
    esac | timeout 3 socat -t 0.2 - "UNIX-CONNECT:$SOCK_A" >/dev/null 2>&1
done
gwt_assert_running "$GWT_PID_A"
gwt_assert "after 200 bad requests gwd still serves show" ctl_a show gw-a
gwt_assert "and the tunnel to B still works" gwt_ping "$A" 10.77.0.2
gwt_assert "and the config file is unchanged" cmp "$ACFG" "$GWT_TMP/good.json"

gwt_stop_gwd "$PID_C"
gwt_assert "gw-c's socket is gone after SIGTERM" test ! -e "$SOCK_C"
gwt_pass
