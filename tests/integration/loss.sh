#!/usr/bin/env bash
# Scenario g: 10% loss each way. In the site-to-site topology nftables drops one in ten gw
# datagrams (UDP port 51820) at the ingress of each gateway's underlay link: in gwA (B -> A) and
# in gwB (A -> B). A 20 MiB TCP transfer from hostA to hostB over IPv6 inside must still arrive
# with a matching sha256 within 150 s; the drop counters must show about 10%. Then gwB restarts
# and a fresh handshake must complete under the same loss within 40 s.
#
# Why not an input/output rule in one namespace: gwd sends with UDP GSO and the kernel keeps a
# GSO batch (up to 64 datagrams) as one packet through the output hook and across the veth, so
# such a rule drops whole batches. Here UDP segmentation is switched off on the underlay veths
# (ethtool), so the batch is split at transmit and each datagram reaches the peer's ingress hook
# on its own; gwd itself still uses GSO.
# Usage: loss.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v ethtool >/dev/null || gwt_fail "missing tool 'ethtool' (run scripts/install-deps.sh)"

gwt_topo_site
GA=$GWT_NS_GA GB=$GWT_NS_GB
for ns in "$GA" "$GB"; do
    gwt_in "$ns" ethtool -K gwtul tx-udp-segmentation off || gwt_fail "ethtool in $ns"
done
gwt_start_site
gwt_assert_eventually 10 "hostA pings hostB fd02::2" gwt_ping "$GWT_NS_HA" fd02::2

gwt_log "adding 10% loss at the ingress of gwtul in gwA and in gwB (nftables table netdev gwtloss)"
for ns in "$GA" "$GB"; do
    gwt_in "$ns" nft -f - <<'NFT' || gwt_fail "nft setup in $ns"
table netdev gwtloss {
    chain in {
        type filter hook ingress device gwtul priority 0;
        udp dport 51820 counter
        udp dport 51820 numgen random mod 10 0 counter drop
    }
}
NFT
done
gwt_transfer "$GWT_NS_HA" "$GWT_NS_HB" fd02::2 20 150

# counters: "<seen> <dropped>" packets at one ingress
loss_counters() {
    gwt_in "$1" nft list table netdev gwtloss |
        awk '/counter packets/ {for (i = 1; i < NF; i++) if ($i == "packets") v[n++] = $(i + 1)} END {print v[0] + 0, v[1] + 0}'
}
read -r seen_b dropped_b < <(loss_counters "$GB")
read -r seen_a dropped_a < <(loss_counters "$GA")
gwt_log "A -> B: $dropped_b of $seen_b datagrams dropped; B -> A: $dropped_a of $seen_a dropped"
((seen_b > 5000)) || gwt_fail "only $seen_b datagrams A -> B: the transfer did not go through the loss rule datagram by datagram"
((dropped_b * 100 > seen_b * 6 && dropped_b * 100 < seen_b * 14)) ||
    gwt_fail "A -> B loss was $dropped_b of $seen_b, not about 10%"
((dropped_a > 0)) || gwt_fail "nothing dropped B -> A"

# A fresh handshake under the same loss: restart gwB (SIGTERM, start again).
n_before=$(grep -c "handshake complete with peer site-a" "$GWT_LOG_B")
gwt_stop_gwd "$GWT_PID_B"
gwt_start_site_b
wait_for 40 bash -c "[[ \$(grep -c 'handshake complete with peer site-a' '$GWT_LOG_B') -gt $n_before ]]" ||
    gwt_fail "no new handshake within 40 s under 10% loss"
gwt_log "ok: new handshake under 10% loss"
gwt_assert_eventually 20 "hostA reaches hostB after the handshake under loss" gwt_ping "$GWT_NS_HA" 10.2.0.2
gwt_assert_running "$GWT_PID_A"
gwt_assert_running "$GWT_PID_B"
gwt_pass
