#!/usr/bin/env bash
# How gwd runs as a service, on the site-to-site pair:
#   - gwB runs as user nobody ("user" in its config): after setup it has nobody's uid, only
#     CAP_NET_ADMIN, still carries traffic, and on SIGINT still removes its routes;
#   - gwA tells systemd READY=1 once its interface is up and STOPPING=1 on the way out
#     (NOTIFY_SOCKET, read here by socat);
#   - a packet that decrypts under gwA's keys but has a source outside gwA's allowed IPs is
#     dropped by gwB and counted in its exit summary;
#   - the logs of both runs, at debug level, hold no private key.
# Usage: operation.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_topo_site
GA=$GWT_NS_GA GB=$GWT_NS_GB
sed -i 's#"mtu": 1420,#"mtu": 1420,\n  "user": "nobody",#' "$GWT_SITE_DIR/site-b.json"
grep -q '"user": "nobody"' "$GWT_SITE_DIR/site-b.json" || gwt_fail "could not set the user"

# systemd's notification socket, played by socat.
notify=$GWT_TMP/notify.sock
notes=$GWT_TMP/notify.txt
socat -u "UNIX-RECVFROM:$notify,fork" "OPEN:$notes,creat,append" &
GWT_PIDS+=("$!")
wait_for 5 test -S "$notify" || gwt_fail "no notification socket"

export NOTIFY_SOCKET=$notify GWT_LOG_LEVEL=debug
gwt_start_site_a
unset NOTIFY_SOCKET
gwt_start_site_b
unset GWT_LOG_LEVEL
gwt_assert_eventually 10 "gw-a is up" ip -n "$GA" link show gw-a up
gwt_assert_eventually 10 "gwd told systemd READY=1" grep -q "READY=1" "$notes"
gwt_assert_eventually 10 "gwA pings gwB through the tunnel" gwt_ping "$GA" 10.77.0.2

user=$(ps -o user= -p "$GWT_PID_B" | tr -d ' ')
[[ $user == nobody ]] || gwt_fail "gwB runs as '$user', expected nobody"
caps=$(awk '/^CapEff/ {print $2}' "/proc/$GWT_PID_B/status")
[[ $caps == 0000000000001000 ]] || gwt_fail "gwB's effective capabilities are $caps, expected CAP_NET_ADMIN alone (0x1000)"
gwt_assert_log 5 "$GWT_LOG_B" "running as user nobody with"
gwt_log "gwB runs as $user with capabilities $caps"

# A source gwB does not allow from gwA: 10.9.9.9 is in none of site-a's allowed IPs.
ip -n "$GA" addr add 10.9.9.9/32 dev lo || gwt_fail "addr add"
gwt_assert_not "a packet from 10.9.9.9 gets no answer" \
    ip netns exec "$GA" ping -n -q -c 3 -i 0.2 -W 1 -I 10.9.9.9 10.2.0.1
gwt_assert "the tunnel still carries allowed sources" gwt_ping "$GA" 10.2.0.1

# SIGINT, as from a terminal, with the privileges dropped: still a clean stop.
kill -INT "$GWT_PID_B"
gwt_wait_exit "$GWT_PID_B" 10 || gwt_fail "gwB still running 10 s after SIGINT"
[[ $GWT_RC == 0 ]] || gwt_fail "gwB exited $GWT_RC after SIGINT"
gwt_assert_log 1 "$GWT_LOG_B" "drops:" "source outside allowed IPs 3"
gwt_assert_not "gw-b is gone" ip -n "$GB" link show gw-b
gwt_assert_not "no route into gw-b left" bash -c "ip -n '$GB' route show table all | grep -q gw-b"

gwt_stop_gwd "$GWT_PID_A"
gwt_assert_eventually 5 "gwd told systemd STOPPING=1" grep -q "STOPPING=1" "$notes"

# Whole runs at debug level, start to stop: no private key in any line (the public keys are
# there, as they should be).
for key in site-a site-b; do
    for log in "$GWT_LOG_A" "$GWT_LOG_B"; do
        gwt_assert_not "$(basename "$log") does not hold $key.key" \
            grep -qF -- "$(head -c 43 "$GWT_SITE_DIR/$key.key")" "$log"
    done
done
gwt_assert "gw-a's log names its own public key" grep -qF -- "$(cat "$GWT_SITE_DIR/site-a.pub")" "$GWT_LOG_A"
gwt_pass
