#!/usr/bin/env bash
# Bad input of every kind the daemon and gwctl take, each refused with a clear error that names
# what was wrong, and nothing lost or left behind:
#   gwd's command line (exit 2), configs that do not load (exit 1, no interface, file unchanged;
#   key files of the wrong kind among them, a key file of another user, a config others may
#   change), a busy UDP port (exit 1, no interface), garbage
#   datagrams to a running gwd (dropped, the tunnel carries on); gwctl's command line (exit 2)
#   and a bad key on stdin (exit 1).
# Usage: bad-input.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"

out=$GWT_TMP/out

# expect_exit CODE PATTERN CMD...: CMD exits with CODE and its stderr holds PATTERN (fixed string).
expect_exit() {
    local code=$1 pattern=$2 rc
    shift 2
    "$@" >"$out.stdout" 2>"$out"
    rc=$?
    [[ $rc == "$code" ]] || gwt_fail "'$*' exited $rc, expected $code; stderr: $(cat "$out")"
    grep -qF -- "$pattern" "$out" || gwt_fail "'$*': stderr lacks '$pattern': $(cat "$out")"
    gwt_log "refused as expected ($rc): $* -> $(head -n 1 "$out")"
}

# --- gwd's command line
expect_exit 2 "--config is required" "$GWT_GWD"
expect_exit 2 "--bogus" "$GWT_GWD" --bogus
expect_exit 2 "--log-level" "$GWT_GWD" --config x.json --log-level loud
expect_exit 1 "cannot open" "$GWT_GWD" --config "$GWT_TMP/missing.json"

# --- configs that do not load: one namespace, which must stay without a gw-a interface
gwt_ns GWT_NS_X gwX
dir=$GWT_TMP/site
gwt_config site-to-site/site-a.json "$dir"
gwt_keys "$dir" site-a site-b
links_before=$(ip -n "$GWT_NS_X" -o link show | wc -l)

# bad_config NAME PATTERN SED-EXPR: a copy of site-a.json edited by SED-EXPR is refused with
# PATTERN, creates nothing, and the file is byte for byte what it was.
bad_config() {
    local name=$1 pattern=$2 expr=$3 file sum
    file=$dir/$name.json
    sed -e "$expr" "$dir/site-a.json" >"$file"
    cmp -s "$file" "$dir/site-a.json" && gwt_fail "bad_config $name: the edit changed nothing"
    sum=$(sha256sum <"$file")
    # A gwd that takes the config runs on: the timeout ends it (exit 124).
    expect_exit 1 "$pattern" timeout "$(gwt_t 10)" ip netns exec "$GWT_NS_X" "$GWT_GWD" --config "$file"
    grep -qF -- "$file: " "$out" || gwt_fail "$name: the error does not name the file: $(cat "$out")"
    [[ $(sha256sum <"$file") == "$sum" ]] || gwt_fail "$name: gwd changed the config file"
    [[ $(ip -n "$GWT_NS_X" -o link show | wc -l) == "$links_before" ]] ||
        gwt_fail "$name: gwd left an interface behind: $(ip -n "$GWT_NS_X" -o link show)"
}
bad_config syntax "syntax error" 's/"mtu": 1420,/"mtu": 1420/'
bad_config unknown-key '$.peers[0].colour: expected one of' 's/"name": "site-b",/"name": "site-b", "colour": "red",/'
bad_config mtu '$.mtu: expected' 's/"mtu": 1420/"mtu": 99999/'
bad_config prefix '$.peers[0].allowed_ips[2]: expected an IPv4 or IPv6 prefix' 's#10.2.0.0/24#10.2.0.300/24#'
bad_config endpoint '$.peers[0].endpoint: expected' 's#192.0.2.2:51820#192.0.2.2:0#'
bad_config name '$.name: expected an interface name' 's#"gw-a"#"this-name-is-far-too-long"#'
bad_config key-file '$.private_key_file: expected a usable key file' 's#site-a.key#nowhere.key#'
bad_config pub-file '$.peers[0].public_key_file: expected a usable key file' 's#site-b.pub#nowhere.pub#'
# Key files of the wrong kind: a CA's files where gwd's own key, a peer's key or a PSK belongs,
# and a peer's key where a CA's belongs, each refused naming what the file is.
"$GWT_GWCTL" ca init "$dir/ca" >/dev/null || gwt_fail "ca init"
bad_config ca-as-key 'ca.key: this is a CA private key file, not a gw/WireGuard private key (X25519)' \
    's#site-a.key#ca.key#'
bad_config ca-as-pub 'ca.pub: this is a CA public key file, not a gw/WireGuard public key (X25519)' \
    's#site-b.pub#ca.pub#'
bad_config ca-as-psk 'ca.key: this is a CA private key file, not a pre-shared key' \
    's#"persistent_keepalive": 25#"persistent_keepalive": 25, "psk_file": "ca.key"#'
bad_config peer-as-ca '$.trusted_cas[0]: expected a usable CA public key file, got' \
    's#"mtu": 1420,#"mtu": 1420, "trusted_cas": ["site-b.pub"],#'
grep -qF 'site-b.pub: this is a gw/WireGuard key line (an X25519 key or a PSK), not a CA public key' \
    "$out" || gwt_fail "peer-as-ca: the error does not name the kind: $(cat "$out")"
chmod 644 "$dir/site-a.key"
bad_config key-mode 'mode 0644 lets group or others at the key' 's#"listen_port": 51820#"listen_port": 51821#'
chmod 600 "$dir/site-a.key"
# A key file another user owns (they could change it), and a config others may change.
chown 65534 "$dir/site-a.key"
bad_config key-owner "site-a.key: private key file: refused: owned by uid 65534 (nobody)" \
    's#"listen_port": 51820#"listen_port": 51822#'
grep -qF "(chown root $dir/site-a.key)" "$out" || gwt_fail "key-owner: the error lacks the chown: $(cat "$out")"
chown 0 "$dir/site-a.key"
sed -e 's#"listen_port": 51820#"listen_port": 51823#' "$dir/site-a.json" >"$dir/loose.json"
chmod 664 "$dir/loose.json"
expect_exit 1 "$dir/loose.json: refused: mode 0664 lets group or others change the config" \
    timeout "$(gwt_t 10)" ip netns exec "$GWT_NS_X" "$GWT_GWD" --config "$dir/loose.json"
grep -qF "(chmod go-w $dir/loose.json)" "$out" || gwt_fail "loose config: the error lacks the chmod: $(cat "$out")"
[[ $(wc -l <"$out") == 1 ]] || gwt_fail "loose config: more than one line: $(cat "$out")"
[[ $(ip -n "$GWT_NS_X" -o link show | wc -l) == "$links_before" ]] ||
    gwt_fail "loose config: gwd left an interface behind"

# --- a busy UDP port: refused before the TUN exists
ip netns exec "$GWT_NS_X" socat -u UDP6-RECVFROM:51820,ipv6only=0,fork /dev/null &
busy=$!
GWT_PIDS+=("$busy")
wait_for 5 bash -c "ip netns exec $GWT_NS_X ss -Hlun 'sport = :51820' | grep -q ." ||
    gwt_fail "could not occupy UDP port 51820"
expect_exit 1 "Address already in use" ip netns exec "$GWT_NS_X" "$GWT_GWD" --config "$dir/site-a.json"
[[ $(ip -n "$GWT_NS_X" -o link show | wc -l) == "$links_before" ]] ||
    gwt_fail "busy port: gwd left an interface behind"
kill "$busy" 2>/dev/null

# --- garbage datagrams to a running tunnel: dropped (logged at debug), nothing breaks
gwt_topo_site
GWT_LOG_LEVEL=debug gwt_start_site
gwt_assert_eventually 10 "gw-a pings gw-b" gwt_ping "$GWT_NS_GA" 10.77.0.2
garbage() {  # garbage N: the Nth bad datagram on stdout
    case $1 in
        0) printf 'x' ;;                                   # too short for any message
        1) head -c 31 /dev/urandom ;;                      # random bytes
        2) head -c 148 /dev/urandom ;;                     # random, initiation-sized
        3) printf '\001\000\000\000'; head -c 200 /dev/zero ;;  # an initiation of zeros
        4) printf '\006\000\000\000'; head -c 100 /dev/zero ;;  # transport for no index
    esac
}
for n in 0 1 2 3 4; do
    garbage "$n" | ip netns exec "$GWT_NS_GB" socat -u - UDP4-SENDTO:192.0.2.1:51820
done
gwt_assert_eventually 5 "gwd logged the dropped datagrams" gwt_log_has "$GWT_LOG_A" "dropped from 192.0.2.2"
gwt_assert_running "$GWT_PID_A"
gwt_assert_eventually 5 "gw-a still pings gw-b" gwt_ping "$GWT_NS_GA" 10.77.0.2

# --- gwctl
expect_exit 2 "a subcommand is required" "$GWT_GWCTL"
expect_exit 2 "bogus" "$GWT_GWCTL" bogus
printf 'not a key\n' >"$GWT_TMP/bad.key"
expect_exit 1 "expected a base64 private key" "$GWT_GWCTL" pubkey <"$GWT_TMP/bad.key"
[[ $("$GWT_GWCTL" pubkey <"$dir/site-a.key") == "$(cat "$dir/site-a.pub")" ]] ||
    gwt_fail "gwctl pubkey does not reproduce site-a.pub"

gwt_pass
