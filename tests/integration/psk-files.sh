#!/usr/bin/env bash
# gwd deletes only the PSK files it wrote itself. One gwd whose config names PSK files an
# administrator wrote: two peers share shared.psk, a third has p3.psk (the name an older gwd gave
# its own files). Removing one of the two, `peer set --no-psk` on the other and `peer set
# --psk-file` on the third leave every such file as it was, and reload and a restart work. The
# files gwd writes itself (PEER.gwd.psk, PEER.N.gwd.psk) go when a change drops them.
# Usage: psk-files.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v jq >/dev/null || gwt_fail "missing tool 'jq' (run scripts/install-deps.sh)"

gwt_ns NS gw
DIR=$GWT_TMP/psk
gwt_keys "$DIR" gw p1 p2 p3 p4
(umask 077 && "$GWT_GWCTL" genpsk >"$DIR/shared.psk" && "$GWT_GWCTL" genpsk >"$DIR/p3.psk" &&
    "$GWT_GWCTL" genpsk >"$DIR/new.psk") || gwt_fail "genpsk"
CFG=$DIR/gw-p.json
cat >"$CFG" <<'EOF'
{
  "name": "gw-p",
  "private_key_file": "gw.key",
  "addresses": ["10.66.0.1/24"],
  "peers": [
    { "name": "p1", "public_key_file": "p1.pub", "allowed_ips": ["10.66.0.11/32"], "psk_file": "shared.psk" },
    { "name": "p2", "public_key_file": "p2.pub", "allowed_ips": ["10.66.0.12/32"], "psk_file": "shared.psk" },
    { "name": "p3", "public_key_file": "p3.pub", "allowed_ips": ["10.66.0.13/32"], "psk_file": "p3.psk" }
  ]
}
EOF
SUM_SHARED=$(sha256sum <"$DIR/shared.psk")
SUM_P3=$(sha256sum <"$DIR/p3.psk")
LOG=$GWT_TMP/gwd-psk.log

start() {
    gwt_start_gwd "$NS" "$CFG" "$LOG"
    PID=$GWT_GWD_PID
    gwt_assert_eventually 10 "gw-p is up" ip -n "$NS" link show gw-p up
    gwt_assert_running "$PID"
}
ctl() { gwt_ctl "$NS" "$@"; }
# intact FILE SUM: FILE is there with the content it had.
intact() { [[ -f $1 && $(sha256sum <"$1") == "$2" ]]; }
named() { jq -r --arg n "$1" '.peers[] | select(.name == $n) | .psk_file // "none"' "$CFG"; }
reload_ok() {
    local out
    out=$(ctl reload gw-p 2>&1) || gwt_fail "reload failed: $out"
    gwt_log "ok: reload: $out"
}

start
# --- an administrator's file two peers share
gwt_assert "peer remove p1" ctl peer remove gw-p p1
gwt_assert "shared.psk, which p2 still names, is still there" intact "$DIR/shared.psk" "$SUM_SHARED"
reload_ok
gwt_assert "peer set p2 --no-psk" ctl peer set gw-p p2 --no-psk
gwt_assert "shared.psk, which gwd did not write, is still there" intact "$DIR/shared.psk" "$SUM_SHARED"
[[ $(named p2) == none ]] || gwt_fail "p2 still names $(named p2)"

# --- an administrator's file under the name an older gwd gave its own
gwt_assert "peer set p3 --psk-file" ctl peer set gw-p p3 --psk-file "$DIR/new.psk"
gwt_assert "p3.psk, which gwd did not write, is still there" intact "$DIR/p3.psk" "$SUM_P3"
[[ $(named p3) == p3.gwd.psk ]] || gwt_fail "p3's replacement PSK is $(named p3), not p3.gwd.psk"
[[ $(stat -c %a "$DIR/p3.gwd.psk") == 600 ]] || gwt_fail "p3.gwd.psk has mode $(stat -c %a "$DIR/p3.gwd.psk")"
gwt_log "ok: p3's new PSK went to p3.gwd.psk (0600)"

# --- files gwd wrote itself go when a change drops them
gwt_assert "peer set p3 --psk-file again" ctl peer set gw-p p3 --psk-file "$DIR/new.psk"
[[ $(named p3) == p3.1.gwd.psk ]] || gwt_fail "p3's second PSK is $(named p3), not p3.1.gwd.psk"
gwt_assert "the PSK file gwd wrote before for p3 is gone" test ! -e "$DIR/p3.gwd.psk"
gwt_assert "peer add p4 --psk-file" ctl peer add gw-p p4 --public-key-file "$DIR/p4.pub" \
    --allowed-ips 10.66.0.14/32 --psk-file "$DIR/new.psk"
gwt_assert "p4's PSK is in p4.gwd.psk" test -f "$DIR/p4.gwd.psk"
gwt_assert "peer remove p4" ctl peer remove gw-p p4
gwt_assert "p4.gwd.psk went with p4" test ! -e "$DIR/p4.gwd.psk"
gwt_assert "the file gwctl read for it is untouched" test -f "$DIR/new.psk"
reload_ok

# --- and the config still starts
gwt_stop_gwd "$PID"
start
gwt_assert "the restarted gwd serves show" ctl show gw-p
gwt_assert "and reloads" ctl reload gw-p
gwt_assert "the administrator's files are intact at the end" \
    bash -c "[[ \$(sha256sum <'$DIR/shared.psk') == '$SUM_SHARED' && \$(sha256sum <'$DIR/p3.psk') == '$SUM_P3' ]]"
gwt_stop_gwd "$PID"
gwt_pass
