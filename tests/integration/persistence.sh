#!/usr/bin/env bash
# Changes made through gwctl survive a crash: gwd is killed with SIGKILL in the middle of 200
# rapid `gwctl peer add`s, twice. While the changes run, a reader parses the config file over
# and over and never finds it broken. After each kill the file parses and holds exactly a prefix
# of the changes, with every change gwctl reported done (at most one more: saved, not yet
# answered); gwd restarts from it, removes the temporary file a kill may leave, and runs those
# peers.
# Usage: persistence.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

gwt_ns A gwA
DIR=$GWT_TMP/site
gwt_config site-to-site/site-a.json "$DIR"
gwt_keys "$DIR" site-a site-b
CFG=$DIR/site-a.json
LOG=$GWT_TMP/gwd-a.log
N=200

# 2N distinct public keys (any 32 bytes will do for a peer that never connects).
mapfile -t KEYS < <(head -c $((2 * N * 32)) /dev/urandom | base64 -w 0 | fold -w 44 | head -n $((2 * N)))
for i in "${!KEYS[@]}"; do KEYS[i]=${KEYS[i]:0:43}=; done
# Canonical base64 of 32 bytes ends in one of these before the '='.
for i in "${!KEYS[@]}"; do
    k=${KEYS[i]}
    last=${k:42:1}
    case $last in A | E | I | M | Q | U | Y | c | g | k | o | s | w | 0 | 4 | 8) ;; *) KEYS[i]=${k:0:42}A= ;; esac
done

# A reader that parses the file every few milliseconds; it records every failure.
BROKEN=$GWT_TMP/broken
reader() {
    while [[ ! -e $GWT_TMP/stop-reader ]]; do
        jq -e '.peers | length >= 1' "$CFG" >/dev/null 2>&1 || cp "$CFG" "$BROKEN.$RANDOM" 2>/dev/null
    done
}

added=0  # peers p0 .. p(added-1) are in the file
round() {
    local r=$1 kill_after=$2 acked=$GWT_TMP/acked.$1 pid names count expect
    : >"$acked"
    gwt_start_gwd "$A" "$CFG" "$LOG"
    pid=$GWT_GWD_PID
    gwt_assert_eventually 10 "round $r: gwd serves its socket" gwt_ctl "$A" show gw-a
    rm -f "$GWT_TMP/stop-reader"
    reader &
    local reader_pid=$!
    (
        for ((i = added; i < added + N; i++)); do
            gwt_ctl "$A" peer add gw-a "p$i" --public-key "${KEYS[i]}" \
                --allowed-ips "10.200.$((i / 250)).$((i % 250 + 1))/32" 2>/dev/null || exit 0
            echo "$i" >>"$acked"
        done
    ) &
    local writer=$!
    # Kill once the given number of changes were acknowledged.
    wait_for 60 bash -c "[[ \$(wc -l <'$acked') -ge $kill_after ]]" ||
        gwt_fail "round $r: fewer than $kill_after changes acknowledged in 60 s"
    kill -KILL "$pid"
    gwt_wait_exit "$pid" 5 || gwt_fail "gwd survived SIGKILL"
    wait "$writer"
    touch "$GWT_TMP/stop-reader"
    wait "$reader_pid"
    local n_acked
    n_acked=$(wc -l <"$acked")
    gwt_log "round $r: killed gwd after $n_acked acknowledged changes"

    names=$(jq -r '.peers[].name' "$CFG") || gwt_fail "round $r: the config does not parse after SIGKILL"
    count=$(($(wc -l <<<"$names") - 1))
    expect=$(printf 'site-b\n'; for ((i = 0; i < count; i++)); do echo "p$i"; done)
    [[ $names == "$expect" ]] || gwt_fail "round $r: the peers are not a prefix of the changes: $(tr '\n' ' ' <<<"$names" | cut -c1-300)"
    ((count >= added + n_acked)) || gwt_fail "round $r: an acknowledged change is lost ($count peers, $added + $n_acked acknowledged)"
    ((count <= added + n_acked + 1)) || gwt_fail "round $r: $count peers but only $added + $n_acked changes were made"
    gwt_log "ok: round $r: the file parses and holds the first $count changes ($((count - added)) this round, $n_acked acknowledged)"
    added=$count
}

round 1 60
round 2 150
ls "$DIR"/.site-a.json.tmp-* >/dev/null 2>&1 && gwt_log "a kill left a temporary file: $(ls "$DIR"/.site-a.json.tmp-*)"
if compgen -G "$BROKEN.*" >/dev/null; then
    gwt_fail "the reader found a broken file during the changes: $(head -c 300 "$(compgen -G "$BROKEN.*" | head -n 1)")"
fi
gwt_log "ok: the reader never found the file broken"

gwt_start_gwd "$A" "$CFG" "$LOG"
PID=$GWT_GWD_PID
gwt_assert_eventually 10 "gwd restarts from the file" gwt_ctl "$A" show gw-a
gwt_assert_log 5 "$LOG" "$((added + 1)) peers"
gwt_assert "no temporary file is left" bash -c "! ls '$DIR'/.site-a.json.tmp-* 2>/dev/null"
gwt_assert "peer list holds them all" bash -c "[[ \$(GW_RUN_DIR='$(gwt_run_dir "$A")' '$GWT_GWCTL' peer list gw-a | wc -l) == $((added + 1)) ]]"
gwt_assert "a route of the last peer exists" bash -c "ip -n '$A' route show dev gw-a | grep -q '10.200.$(((added - 1) / 250)).$(((added - 1) % 250 + 1))'"
gwt_stop_gwd "$PID"
gwt_pass
