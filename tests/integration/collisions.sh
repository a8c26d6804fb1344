#!/usr/bin/env bash
# Route collisions are refused, not skipped. A gateway with a LAN (gwtlan: 10.5.0.0/24,
# fd05::/64, and a static route 10.6.0.0/16 through it) and one site-b peer:
#   - a peer's allowed IP the host already routes through another device (gwtlan), IPv4 or IPv6,
#     or a prefix holding the peer's own endpoint: gwd exits 1 at start naming the file, the JSON
#     path, the prefix and the device or the endpoint, and leaves no interface behind;
#   - a full tunnel (0.0.0.0/0, ::/0) whose endpoint it holds still starts;
#   - live: peer add, peer set and reload of such prefixes get `conflict` naming them, and
#     nothing changes (file, routes); the interface's own subnet is no collision.
# Usage: collisions.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

gwt_ns G gw
gwt_ns H lan
gwt_veth "$G" gwtlan "$H" gwtlan
gwt_addr "$G" gwtlan 10.5.0.1/24 fd05::1/64
gwt_addr "$H" gwtlan 10.5.0.2/24 fd05::2/64
gwt_route "$G" 10.6.0.0/16 via 10.5.0.2
DIR=$GWT_TMP/collisions
gwt_config site-to-site/site-a.json "$DIR"
gwt_keys "$DIR" site-a site-b
CFG=$DIR/site-a.json
LOG=$GWT_TMP/gwd-collisions.log
out=$GWT_TMP/out
links_before=$(ip -n "$G" -o link show | wc -l)

# refused NAME JQ-EXPR PATTERN...: site-a.json edited by JQ-EXPR makes gwd exit 1 at start, with
# one error line naming the file and every PATTERN; no interface is left.
refused() {
    local name=$1 expr=$2 file=$DIR/$1.json rc p
    shift 2
    jq "$expr" "$CFG" >"$file" || gwt_fail "jq $expr"
    # A gwd that accepts the config runs on: the timeout ends it (exit 124).
    timeout "$(gwt_t 10)" ip netns exec "$G" "$GWT_GWD" --config "$file" \
        --run-dir "$(gwt_run_dir "$G")" >"$out" 2>&1
    rc=$?
    [[ $rc == 1 ]] || gwt_fail "$name: gwd exited $rc, expected 1 (124: it ran): $(cat "$out")"
    grep -qF -- "$file: " "$out" || gwt_fail "$name: the error does not name the file: $(cat "$out")"
    for p in "$@"; do
        grep -qF -- "$p" "$out" || gwt_fail "$name: the error lacks '$p': $(cat "$out")"
    done
    [[ $(ip -n "$G" -o link show | wc -l) == "$links_before" ]] ||
        gwt_fail "$name: gwd left an interface behind: $(ip -n "$G" -o link show)"
    gwt_log "ok: $name refused at start: $(grep -F "$file: " "$out" | head -n 1)"
}
refused lan '.peers[0].allowed_ips += ["10.5.0.0/24"]' \
    '$.peers[0].allowed_ips[4]' '10.5.0.0/24' 'gwtlan'
refused lan6 '.peers[0].allowed_ips += ["fd05::/64"]' '$.peers[0].allowed_ips[4]' 'fd05::/64' 'gwtlan'
refused static '.peers[0].allowed_ips = ["10.6.0.0/16"]' '$.peers[0].allowed_ips[0]' '10.6.0.0/16' 'gwtlan'
refused endpoint '.peers[0].allowed_ips += ["192.0.2.0/24"]' \
    '$.peers[0].allowed_ips[4]' '192.0.2.0/24' 'endpoint 192.0.2.2:51820'

# A full tunnel routes everything but its own endpoint by policy routing: it starts.
jq '.peers[0].allowed_ips = ["0.0.0.0/0", "::/0"]' "$CFG" >"$DIR/full.json"
gwt_start_gwd "$G" "$DIR/full.json" "$LOG"
gwt_assert_eventually 10 "a full tunnel to an endpoint it holds starts" ip -n "$G" link show gw-a up
gwt_assert_running "$GWT_GWD_PID"
gwt_stop_gwd "$GWT_GWD_PID"

# --- live changes
gwt_start_gwd "$G" "$CFG" "$LOG"
PID=$GWT_GWD_PID
gwt_assert_eventually 10 "gw-a is up" ip -n "$G" link show gw-a up
cp "$CFG" "$GWT_TMP/good.json"
SOCK=$(gwt_run_dir "$G")/gw-a.sock
req() { printf '%s\n' "$1" | timeout "$(gwt_t 5)" socat -t "$(gwt_t 2)" - "UNIX-CONNECT:$SOCK"; }
# conflict DESC REQUEST PATTERN...: the reply is error `conflict` with every PATTERN in its message.
conflict() {
    local desc=$1 line=$2 reply p
    shift 2
    reply=$(req "$line") || gwt_fail "$desc: no reply"
    jq -e '.ok == false and .error == "conflict"' <<<"$reply" >/dev/null ||
        gwt_fail "$desc: expected error conflict, got: $reply"
    for p in "$@"; do
        [[ $(jq -r .message <<<"$reply") == *"$p"* ]] || gwt_fail "$desc: the message lacks '$p': $reply"
    done
    gwt_log "ok: $desc -> $(jq -r .message <<<"$reply")"
}
KEY_X=$(cd "$DIR" && umask 077 && "$GWT_GWCTL" genkey | "$GWT_GWCTL" pubkey)
conflict "peer add of the LAN's prefix" \
    '{"version":1,"command":"peer.add","peer":{"name":"x","public_key":"'"$KEY_X"'","allowed_ips":["10.77.0.9/32","10.5.0.0/24"]}}' \
    '$.peer.allowed_ips[1]' '10.5.0.0/24' 'gwtlan'
conflict "peer add of a prefix holding the new peer's endpoint" \
    '{"version":1,"command":"peer.add","peer":{"name":"x","public_key":"'"$KEY_X"'","endpoint":"10.9.1.1:51820","allowed_ips":["10.9.0.0/16"]}}' \
    '$.peer.allowed_ips[0]' '10.9.0.0/16' 'endpoint 10.9.1.1:51820'
conflict "peer set of the static route's prefix" \
    '{"version":1,"command":"peer.set","peer":"site-b","set":{"allowed_ips":["10.77.0.2/32","10.6.0.0/16"]}}' \
    '$.set.allowed_ips[1]' '10.6.0.0/16' 'gwtlan'
conflict "peer set of an endpoint inside the peer's own prefix" \
    '{"version":1,"command":"peer.set","peer":"site-b","set":{"endpoint":"10.2.0.9:51820"}}' \
    '10.2.0.0/24' 'endpoint 10.2.0.9:51820'
OUT=$(gwt_ctl "$G" peer set gw-a site-b --allowed-ips 10.77.0.2/32,fd05::/64 2>&1) &&
    gwt_fail "gwctl peer set of fd05::/64 succeeded: $OUT"
[[ $OUT == *fd05::/64*gwtlan* ]] || gwt_fail "gwctl's error does not name the prefix and device: $OUT"
gwt_log "ok: gwctl says: $OUT"
jq '.peers[0].allowed_ips += ["10.5.0.0/24"]' "$GWT_TMP/good.json" >"$CFG"
conflict "reload of a file with the LAN's prefix" '{"version":1,"command":"reload"}' \
    "$CFG: " '$.peers[0].allowed_ips[4]' '10.5.0.0/24' 'gwtlan' 'nothing changed'
cp "$GWT_TMP/good.json" "$CFG"
gwt_assert "gwd is still up" gwt_ctl "$G" show gw-a
gwt_assert "the config file is as it was" cmp "$CFG" "$GWT_TMP/good.json"
gwt_assert_not "no route of the LAN's prefix through gw-a" \
    bash -c "ip -n '$G' route show dev gw-a | grep -q -e 10.5.0.0 -e 10.6.0.0"
gwt_assert "the LAN's prefix still routes to gwtlan" gwt_route_dev_is "$G" 10.5.0.2 gwtlan
gwt_assert "the static route still routes to gwtlan" gwt_route_dev_is "$G" 10.6.1.1 gwtlan
gwt_assert "the interface's own subnet is no collision" \
    gwt_ctl "$G" peer set gw-a site-b --allowed-ips 10.77.0.0/24
gwt_assert "gwd routes that subnet through gw-a" gwt_route_dev_is "$G" 10.77.0.9 gw-a
gwt_stop_gwd "$PID"
gwt_pass
