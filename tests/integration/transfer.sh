#!/usr/bin/env bash
# Scenario c: 50 MiB over TCP (socat) from hostA to hostB through the site-to-site tunnel; the
# sha256 of what arrives must match what was sent. Then the same again with both gwd restarted
# with --threads 2 (encryption and decryption on a worker thread too). Topology: lib.sh,
# gwt_topo_site.
# Usage: transfer.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

gwt_topo_site
gwt_start_site
gwt_assert_eventually 10 "hostA pings hostB 10.2.0.2" gwt_ping "$GWT_NS_HA" 10.2.0.2
gwt_transfer "$GWT_NS_HA" "$GWT_NS_HB" 10.2.0.2 50 120
gwt_assert_running "$GWT_PID_A"
gwt_assert_running "$GWT_PID_B"

# With worker threads.
gwt_stop_gwd "$GWT_PID_A"
gwt_stop_gwd "$GWT_PID_B"
GWT_GWD_ARGS="${GWT_GWD_ARGS:-} --threads 2"
gwt_start_site
gwt_assert_log 10 "$GWT_LOG_A" "2 threads encrypt and decrypt"
gwt_assert_log 10 "$GWT_LOG_B" "2 threads encrypt and decrypt"
gwt_assert_eventually 20 "hostA pings hostB 10.2.0.2 (--threads 2)" gwt_ping "$GWT_NS_HA" 10.2.0.2
gwt_transfer "$GWT_NS_HA" "$GWT_NS_HB" 10.2.0.2 50 120
gwt_assert_running "$GWT_PID_A"
gwt_assert_running "$GWT_PID_B"
gwt_pass
