#!/usr/bin/env bash
# What an eavesdropper and a prober learn (docs/PROTOCOL.md, sections 7.1 and 11), against real
# gwd in the site-to-site topology. A capture of the underlay (an AF_PACKET socket in gwA's
# namespace) holds real handshakes; the attacker tries every key of a list of 101 candidate public
# keys (site-b's among 100 others) against the mac1 of each initiation and finish; and a prober
# who knows site-b's public key sends it an initiation of its own.
#   1. without a network key: the capture names site-b (as it would name a WireGuard responder),
#      and the prober gets an answer;
#   2. with the same network_key_file on both gateways: the tunnel works, the capture names
#      nobody, the prober gets no answer at all (gwd counts its initiation as bad_mac1), and a
#      gateway with another network key is not answered either.
# Usage: observer.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

gwt_topo_site
GA=$GWT_NS_GA GB=$GWT_NS_GB
DIR=$GWT_SITE_DIR
TOOLS=$GWT_TMP/tools
mkdir -p "$TOOLS"

# capture.py IFACE OUT READY: every UDP payload to or from port 51820 on IFACE, one hex line
# each; creates READY once it listens.
cat >"$TOOLS/capture.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((sys.argv[1], 0))
open(sys.argv[3], "w").close()
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        f = s.recv(65535)
        if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        ihl = (f[14] & 15) * 4
        udp = 14 + ihl
        sport, dport = int.from_bytes(f[udp:udp + 2], "big"), int.from_bytes(f[udp + 2:udp + 4], "big")
        if 51820 in (sport, dport):
            out.write(f[udp + 8:].hex() + "\n")
PY
# identify.py CAPTURE KEYS...: the index of the first key whose MAC1_KEY verifies the mac1 of a
# captured initiation (mac1 before the last 16 bytes) or finish (the last 16 bytes), else -1.
cat >"$TOOLS/identify.py" <<'PY'
import base64, hashlib, sys
def mac1_key(pk):
    return hashlib.blake2b(b"mac1----" + pk, digest_size=32).digest()
keys = [base64.b64decode(k) for k in sys.argv[2:]]
seen = 0
for line in open(sys.argv[1]):
    m = bytes.fromhex(line.strip())
    if not m or m[0] not in (1, 3):
        continue
    seen += 1
    end = len(m) - (32 if m[0] == 1 else 16)
    for i, k in enumerate(keys):
        if hashlib.blake2b(m[:end], key=mac1_key(k), digest_size=16).digest() == m[end:end + 16]:
            print(i)
            sys.exit(0)
print(-1 if seen else "no initiation or finish captured")
PY
# probe.py HOST KEY: an initiation to HOST:51820 as anyone who knows the responder's KEY builds
# one (a random e, the offer in clear, mac1, no mac2); prints the type of the first answer within
# 3 s, or "none".
cat >"$TOOLS/probe.py" <<'PY'
import base64, hashlib, os, socket, sys
pk = base64.b64decode(sys.argv[2])
m = bytes([1, 0, 1, 0]) + os.urandom(4) + os.urandom(32) + bytes([1, 1, 1, 0, 0, 0, 0, 0])
key = hashlib.blake2b(b"mac1----" + pk, digest_size=32).digest()
m += hashlib.blake2b(m, key=key, digest_size=16).digest() + bytes(16)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(m, (sys.argv[1], 51820))
try:
    print(s.recv(2048)[0])
except socket.timeout:
    print("none")
PY

# candidates: 100 random public keys with site-b's at index 42.
CANDIDATES=()
for i in $(seq 0 99); do
    CANDIDATES+=("$("$GWT_GWCTL" genkey | "$GWT_GWCTL" pubkey)")
done
CANDIDATES=("${CANDIDATES[@]:0:42}" "$(cat "$DIR/site-b.pub")" "${CANDIDATES[@]:42}")

# handshake_capture NAME: capture gwA's underlay while both gateways start and shake hands.
handshake_capture() {
    local out=$GWT_TMP/capture-$1.txt cpid
    ip netns exec "$GA" python3 "$TOOLS/capture.py" gwtul "$out" "$out.ready" &
    cpid=$!
    GWT_PIDS+=("$cpid")
    gwt_assert_eventually 10 "the capture listens on gwA's underlay" test -e "$out.ready"
    gwt_start_site
    gwt_assert_eventually 10 "hostA reaches hostB ($1)" gwt_ping "$GWT_NS_HA" 10.2.0.2
    gwt_assert_eventually 5 "the capture holds a finish" grep -q '^03' "$out"
    gwt_kill_pid "$cpid"
    CAPTURE=$out
    gwt_log "$1: captured $(wc -l <"$out") datagrams on gwA's underlay"
}

# --- 1. no network key
handshake_capture plain
FOUND=$(python3 "$TOOLS/identify.py" "$CAPTURE" "${CANDIDATES[@]}")
[[ $FOUND == 42 ]] || gwt_fail "without a network key the capture should name site-b (42), got: $FOUND"
gwt_log "ok: without a network key, mac1 confirms which of 101 candidates gwB is (as in WireGuard)"
ANSWER=$(ip netns exec "$GA" python3 "$TOOLS/probe.py" 192.0.2.2 "$(cat "$DIR/site-b.pub")")
[[ $ANSWER == 2 || $ANSWER == 5 ]] || gwt_fail "the prober got no answer without a network key: $ANSWER"
gwt_log "ok: a prober who knows gwB's key gets a message of type $ANSWER"
gwt_stop_gwd "$GWT_PID_A"
gwt_stop_gwd "$GWT_PID_B"

# --- 2. a network key shared by both gateways
(umask 077 && "$GWT_GWCTL" genpsk >"$DIR/network.key") || gwt_fail "genpsk"
for f in site-a site-b; do
    jq '.network_key_file = "network.key"' "$DIR/$f.json" >"$DIR/$f.new" && mv "$DIR/$f.new" "$DIR/$f.json"
done
handshake_capture network-key
FOUND=$(python3 "$TOOLS/identify.py" "$CAPTURE" "${CANDIDATES[@]}")
[[ $FOUND == -1 ]] || gwt_fail "with a network key the capture still names a candidate: $FOUND"
gwt_log "ok: with a network key, no candidate's mac1 verifies"
BAD_BEFORE=$(gwt_ctl "$GB" show gw-b --json | jq '.counters.dropped.bad_mac1')
ANSWER=$(ip netns exec "$GA" python3 "$TOOLS/probe.py" 192.0.2.2 "$(cat "$DIR/site-b.pub")")
[[ $ANSWER == none ]] || gwt_fail "the prober got an answer despite the network key: type $ANSWER"
BAD_AFTER=$(gwt_ctl "$GB" show gw-b --json | jq '.counters.dropped.bad_mac1')
((BAD_AFTER > BAD_BEFORE)) || gwt_fail "gwB did not count the probe as bad_mac1 ($BAD_BEFORE -> $BAD_AFTER)"
gwt_log "ok: a prober who knows gwB's key gets no answer at all (bad_mac1 $BAD_BEFORE -> $BAD_AFTER)"
gwt_stop_gwd "$GWT_PID_A"

# A gateway with another network key: gwB never answers it.
(umask 077 && "$GWT_GWCTL" genpsk >"$DIR/other.key") || gwt_fail "genpsk"
jq '.network_key_file = "other.key"' "$DIR/site-a.json" >"$DIR/site-a.new" && mv "$DIR/site-a.new" "$DIR/site-a.json"
gwt_start_site_a
gwt_assert_never 6 "gwA with another network key never reaches gwB" gwt_ping "$GA" 10.77.0.2
gwt_assert_running "$GWT_PID_B"
gwt_pass
