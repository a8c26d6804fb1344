#!/usr/bin/env bash
# 10,000 peers: gwd starts with them (a route each), `gwctl show --json` and `gwctl peer list`
# answer with all of them, a live `peer add` still works, and the memory each idle peer costs is
# measured: gwd's resident memory with 10,000 peers less that with none, divided by 10,000.
# Figures are printed, never asserted (the machine is shared); the waits are bounded only so
# that a hang fails the test.
# Usage: scale.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
for c in jq python3; do
    command -v "$c" >/dev/null || gwt_fail "missing tool '$c' (run scripts/install-deps.sh)"
done
N=${GWT_SCALE_PEERS:-10000}

gwt_ns A gwA
DIR=$GWT_TMP/scale
gwt_config site-to-site/site-a.json "$DIR"
gwt_keys "$DIR" site-a
LOG=$GWT_TMP/gwd-a.log

# make_config FILE N: site-a.json with N peers p0..p(N-1), each a random key and one /32.
make_config() {
    python3 - "$DIR/site-a.json" "$1" "$2" <<'EOF'
import base64, json, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = json.load(open(src))
cfg["peers"] = [{"name": f"p{i}",
                 "public_key": base64.b64encode(os.urandom(32)).decode(),
                 "allowed_ips": [f"10.{128 + i // 65536}.{i // 256 % 256}.{i % 256}/32"]}
                for i in range(n)]
json.dump(cfg, open(dst, "w"), indent=2)
EOF
}

# rss_kib PID: resident memory in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# start CONFIG: gwd on CONFIG; waits for its socket; sets PID and STARTED (seconds to serve).
start() {
    local t0=$EPOCHREALTIME
    gwt_start_gwd "$A" "$1" "$LOG"
    PID=$GWT_GWD_PID
    gwt_assert_eventually 120 "gwd with $(jq '.peers | length' "$1") peers serves its socket" \
        gwt_ctl "$A" version gw-a
    STARTED=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    sleep 1  # let startup's transient buffers go
}

make_config "$DIR/empty.json" 0
make_config "$DIR/big.json" "$N"
gwt_log "config with $N peers: $(stat -c %s "$DIR/big.json") bytes"

start "$DIR/empty.json"
RSS0=$(rss_kib "$PID")
gwt_stop_gwd "$PID"

start "$DIR/big.json"
RSSN=$(rss_kib "$PID")
gwt_log "gwd with $N peers served its socket after ${STARTED} s (config read, $N routes added)"

# timed OUT ARGS...: gwctl ARGS against A's gwd, its output in OUT; the seconds it took in TOOK.
timed() {
    local out=$1 t0=$EPOCHREALTIME
    shift
    # A request about 10,000 peers is slow under a sanitizer: gwctl waits as long as the guard.
    GW_RUN_DIR=$(gwt_run_dir "$A") timeout "$(gwt_t 60)" "$GWT_GWCTL" --timeout "$(gwt_t 50)" "$@" \
        >"$out" || gwt_fail "'gwctl $*' failed or took over $(gwt_t 60) s"
    TOOK=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
}
timed "$GWT_TMP/show.json" show gw-a --json
T_SHOW=$TOOK
[[ $(jq '.peers | length' "$GWT_TMP/show.json") == "$N" ]] || gwt_fail "show --json does not hold $N peers"
timed "$GWT_TMP/list.txt" peer list gw-a
T_LIST=$TOOK
[[ $(wc -l <"$GWT_TMP/list.txt") == "$N" ]] || gwt_fail "peer list does not print $N lines"
timed "$GWT_TMP/show.txt" show gw-a
T_HUMAN=$TOOK
KEY=$(head -c 32 /dev/urandom | base64)
timed /dev/null peer add gw-a newcomer --public-key "$KEY" --allowed-ips 10.250.0.1/32
T_ADD=$TOOK
gwt_assert "the newcomer's route exists" bash -c "ip -n '$A' route show dev gw-a | grep -q 10.250.0.1"
timed /dev/null peer remove gw-a p0
T_REMOVE=$TOOK
RSS_AFTER=$(rss_kib "$PID")
gwt_stop_gwd "$PID" 30

PER_PEER=$(awk -v a="$RSS0" -v b="$RSSN" -v n="$N" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
gwt_log "FIGURES peers=$N rss_empty_kib=$RSS0 rss_peers_kib=$RSSN bytes_per_idle_peer=$PER_PEER" \
    "rss_after_requests_kib=$RSS_AFTER start_s=$STARTED show_json_s=$T_SHOW peer_list_s=$T_LIST" \
    "show_s=$T_HUMAN peer_add_s=$T_ADD peer_remove_s=$T_REMOVE"
gwt_pass
