#!/usr/bin/env bash
# Scenario f: roaming. In the remote-worker topology the client's underlay address changes
# (2001:db8:2::2 is deleted, 2001:db8:2::3 added on the same link); the gateway must learn the
# new endpoint from authenticated packets and traffic resume within 20 s (v4 and v6 inside).
# Usage: roaming.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_topo_remote
CL=$GWT_NS_CL HOST=$GWT_NS_HOST
gwt_start_gateway
gwt_start_client
gwt_assert_eventually 15 "client pings the host 10.99.0.2" gwt_ping "$CL" 10.99.0.2

gwt_log "moving the client from 2001:db8:2::2 to 2001:db8:2::3"
ip -n "$CL" addr del 2001:db8:2::2/64 dev gwtul || gwt_fail "addr del"
ip -n "$CL" addr add 2001:db8:2::3/64 dev gwtul nodad || gwt_fail "addr add"
ip -n "$CL" -6 route replace default via 2001:db8:2::1 dev gwtul || gwt_fail "route replace"
gwt_assert_not "the old address is gone" bash -c "ip -n '$CL' addr show dev gwtul | grep -q '2001:db8:2::2/'"

gwt_assert_eventually 20 "traffic resumes from the new address (v4 inside)" gwt_ping "$CL" 10.99.0.2
gwt_assert_eventually 10 "traffic resumes from the new address (v6 inside)" gwt_ping "$CL" fd99::2
gwt_assert_eventually 10 "the host reaches the client again" gwt_ping "$HOST" 10.88.0.2
gwt_assert_running "$GWT_PID_CL"
gwt_assert_running "$GWT_PID_GW"
gwt_pass
