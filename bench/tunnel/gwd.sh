# shellcheck shell=bash
# DAEMON_A_PID / DAEMON_B_PID are read by tunnel-bench.sh:
# shellcheck disable=SC2034
# bench/tunnel/gwd.sh -- gw's mode for the tunnel benchmark harness (../shared/bench, a sibling of
# this repository). bench/tunnel/run.sh copies it into the harness's modes.d/, where
# tunnel-bench.sh sources it; then `GWD_BIN=... GWCTL_BIN=... ./tunnel-bench.sh gwd` runs it.
#
# Contract (tunnel-bench.sh's header): namespaces $GWB_NS_A / $GWB_NS_B exist with the underlay
# $GWB_UL_A / $GWB_UL_B up; leave $OL_A/$OL_PREFIX up in A and $OL_B/$OL_PREFIX in B with MTU
# $OL_MTU; start each daemon in the foreground with gwb_spawn and set DAEMON_A_PID/DAEMON_B_PID;
# keys, configs and logs go under $GWB_TMP (removed at teardown).
#
# Environment: GWD_BIN, GWCTL_BIN (required: the built gwd and gwctl),
#   GWD_PORT=51900, GWD_LOG_LEVEL=warn, GWD_SUITES (optional JSON list for "suites", e.g.
#   '["AESGCM_SHA256"]'; default: gwd's own preference).
GWD_BIN=${GWD_BIN:-}
GWCTL_BIN=${GWCTL_BIN:-}
GWD_PORT=${GWD_PORT:-51900}
GWD_LOG_LEVEL=${GWD_LOG_LEVEL:-warn}
GWD_SUITES=${GWD_SUITES:-}

# gwd_bench_config NAME TUN OWN_OVERLAY PEER_NAME PEER_OVERLAY PEER_UNDERLAY: one interface config.
gwd_bench_config() {
    local suites=''
    [[ -n $GWD_SUITES ]] && suites="  \"suites\": $GWD_SUITES,"$'\n'
    cat <<JSON
{
  "name": "$2",
  "private_key_file": "$1.key",
  "listen_port": $GWD_PORT,
  "addresses": ["$3/$OL_PREFIX"],
  "mtu": $OL_MTU,
${suites}  "peers": [
    {
      "name": "$4",
      "public_key_file": "$4.pub",
      "endpoint": "$6:$GWD_PORT",
      "allowed_ips": ["$5/32"]
    }
  ]
}
JSON
}

mode_gwd_setup() {
    [[ -n $GWD_BIN && -x $GWD_BIN ]] || { gwb_log "set GWD_BIN to the built gwd (now '$GWD_BIN')"; return 1; }
    [[ -n $GWCTL_BIN && -x $GWCTL_BIN ]] || { gwb_log "set GWCTL_BIN to the built gwctl (now '$GWCTL_BIN')"; return 1; }
    local d=$GWB_TMP/gwd n
    mkdir -p "$d" && chmod 700 "$d" || return 1
    for n in a b; do
        (umask 077 && "$GWCTL_BIN" genkey >"$d/$n.key" && "$GWCTL_BIN" pubkey <"$d/$n.key" >"$d/$n.pub") ||
            { gwb_log "gwctl could not make the keys"; return 1; }
    done
    gwd_bench_config a gwbgwA "$OL_A" b "$OL_B" "$GWB_UL_B" >"$d/a.json" || return 1
    gwd_bench_config b gwbgwB "$OL_B" a "$OL_A" "$GWB_UL_A" >"$d/b.json" || return 1
    gwb_spawn "$GWB_NS_A" "$GWB_TMP/daemonA.log" "$GWD_BIN" --config "$d/a.json" --log-level "$GWD_LOG_LEVEL" --run-dir "$d/run"
    DAEMON_A_PID=$GWB_SPAWNED_PID
    gwb_spawn "$GWB_NS_B" "$GWB_TMP/daemonB.log" "$GWD_BIN" --config "$d/b.json" --log-level "$GWD_LOG_LEVEL" --run-dir "$d/run"
    DAEMON_B_PID=$GWB_SPAWNED_PID
    # gwd itself adds the address, sets the MTU and brings the TUN up.
    gwb_wait_for gwb_in_a ip -4 addr show dev gwbgwA up to "$OL_A" || { gwb_log "gwbgwA not up"; return 1; }
    gwb_wait_for gwb_in_b ip -4 addr show dev gwbgwB up to "$OL_B" || { gwb_log "gwbgwB not up"; return 1; }
}
