#!/usr/bin/env bash
# Secrets at rest, on the site-to-site pair with a PSK, gwB running as user nobody:
#   - after the drop to nobody, gwB is not dumpable, even with fs.suid_dumpable=1 (to which the
#     kernel resets the flag on the change of user): its /proc files are root's, and nobody can
#     read neither its environ nor its memory;
#   - once the tunnel is up and a peer with a PSK was added through the control socket, gwB's
#     whole memory (read as root through /proc/PID/mem) holds its static private key and each
#     PSK exactly once, in memory excluded from core dumps (sodium_malloc's MADV_DONTDUMP), and
#     the base64 text of none of them (key files, PSK files, control requests are all wiped);
#     of a PSK in a request refused after it was read, nothing at all.
# fs.suid_dumpable is set to 1 only while gwB starts, and restored at once (and on exit).
# Usage: secrets.sh GWD GWCTL CONFIGS_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gwt_init "$@"
command -v python3 >/dev/null || gwt_fail "missing tool 'python3' (run scripts/install-deps.sh)"
command -v setpriv >/dev/null || gwt_fail "missing tool 'setpriv' (run scripts/install-deps.sh)"

SUID_DUMPABLE=/proc/sys/fs/suid_dumpable
OLD_SUID_DUMPABLE=$(cat "$SUID_DUMPABLE")
restore_suid_dumpable() { echo "$OLD_SUID_DUMPABLE" >"$SUID_DUMPABLE" 2>/dev/null || true; }
trap 'restore_suid_dumpable; gwt_cleanup' EXIT
trap 'restore_suid_dumpable; gwt_cleanup; exit 130' INT
trap 'restore_suid_dumpable; gwt_cleanup; exit 143' TERM

gwt_topo_site
GA=$GWT_NS_GA
DIR=$GWT_SITE_DIR
# gwB's private key, chosen unclamped (X25519 clamps a copy of it: that copy must not match).
python3 -c 'import base64, os
k = bytearray(os.urandom(32)); k[0] |= 7; k[31] |= 0x80
print(base64.b64encode(bytes(k)).decode())' >"$DIR/site-b.key" || gwt_fail "site-b.key"
"$GWT_GWCTL" pubkey <"$DIR/site-b.key" >"$DIR/site-b.pub" || gwt_fail "site-b.pub"
(umask 077 && "$GWT_GWCTL" genpsk >"$DIR/site.psk" && "$GWT_GWCTL" genpsk >"$DIR/p3.psk") ||
    gwt_fail "genpsk"
gwt_keys "$DIR" p3
for side in a b; do
    sed -i 's#"persistent_keepalive": 25#"persistent_keepalive": 25, "psk_file": "site.psk"#' "$DIR/site-$side.json"
    grep -q '"psk_file": "site.psk"' "$DIR/site-$side.json" || gwt_fail "could not set site-$side's PSK"
done
sed -i 's#"mtu": 1420,#"mtu": 1420,\n  "user": "nobody",#' "$DIR/site-b.json"
grep -q '"user": "nobody"' "$DIR/site-b.json" || gwt_fail "could not set the user"
# gwB's folder: nobody's, where nobody can reach it, as gwd writes its config and PSK files there.
BDIR=$(mktemp -d "/tmp/gwt-$$.XXXXXX") || gwt_fail "mktemp failed"
GWT_PUBLIC_DIRS+=("$BDIR")
cp "$DIR/site-b.json" "$DIR/site-b.key" "$DIR/site-a.pub" "$DIR/site.psk" "$BDIR/" || gwt_fail "cp"
chown -R nobody "$BDIR" && chmod 700 "$BDIR" || gwt_fail "chown $BDIR"

gwt_start_site_a
# The kernel's dumpable flag after a change of user is fs.suid_dumpable's: 1 says "dumpable".
if echo 1 >"$SUID_DUMPABLE" 2>/dev/null; then
    SET_SUID_DUMPABLE=1
else
    SET_SUID_DUMPABLE=0
    gwt_log "note: cannot write $SUID_DUMPABLE; the dumpable check runs with its value $OLD_SUID_DUMPABLE"
fi
gwt_start_gwd "$GWT_NS_GB" "$BDIR/site-b.json" "$GWT_LOG_B"
GWT_PID_B=$GWT_GWD_PID
gwt_assert_log 10 "$GWT_LOG_B" "running as user nobody with"
restore_suid_dumpable
PID=$GWT_PID_B
gwt_assert_eventually 15 "gwA pings gwB through the tunnel (with the PSK)" gwt_ping "$GA" 10.77.0.2

# --- not dumpable after the drop
user=$(ps -o user= -p "$PID" | tr -d ' ')
[[ $user == nobody ]] || gwt_fail "gwB runs as '$user', expected nobody"
if nm -D "$GWT_GWD" 2>/dev/null | grep -q __asan_init || ldd "$GWT_GWD" 2>/dev/null | grep -q libasan; then
    gwt_log "note: a sanitizer build stays dumpable (LeakSanitizer must ptrace it): dumpable checks skipped"
else
    owner=$(stat -c %u "/proc/$PID/status")
    [[ $owner == 0 ]] || gwt_fail "gwB's /proc files belong to uid $owner, not root: it is dumpable (fs.suid_dumpable was $( ((SET_SUID_DUMPABLE)) && echo 1 || echo "$OLD_SUID_DUMPABLE") at the drop)"
    gwt_log "ok: gwB's /proc/$PID belongs to root: not dumpable"
    gwt_assert_not "user nobody cannot read gwB's environ" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$PID/environ"
    gwt_assert_not "user nobody cannot read gwB's memory" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
        dd if="/proc/$PID/mem" of=/dev/null bs=1 count=1 skip=4096 status=none
fi

# --- a PSK through the control socket, as gwctl sends it (base64 in a JSON line)
gwt_assert "peer add p3 with a PSK" gwt_ctl "$GWT_NS_GB" peer add gw-b p3 \
    --public-key-file "$DIR/p3.pub" --allowed-ips 10.77.0.33/32 --psk-file "$DIR/p3.psk"
# And one refused after its PSK was read (an unknown member): nothing of that PSK stays either.
(umask 077 && "$GWT_GWCTL" genpsk >"$DIR/p4.psk") || gwt_fail "genpsk"
gwt_keys "$DIR" p4
request='{"version":1,"command":"peer.add","peer":{"name":"p4","public_key":"'$(cat "$DIR/p4.pub")
request+='","allowed_ips":["10.77.0.44/32"],"psk":"'$(cat "$DIR/p4.psk")'","colour":"red"}}'
reply=$(printf '%s\n' "$request" | timeout "$(gwt_t 5)" socat -t "$(gwt_t 2)" - \
    "UNIX-CONNECT:$(gwt_run_dir "$GWT_NS_GB")/gw-b.sock")
[[ $reply == *'"ok":false'* && $reply == *colour* ]] || gwt_fail "the request with an unknown member got: $reply"
gwt_assert "gwB still serves show" gwt_ctl "$GWT_NS_GB" show gw-b
gwt_assert "the tunnel still works" gwt_ping "$GA" 10.77.0.2

# --- gwB's memory: each secret once, undumpable; no base64 text of any
cat >"$GWT_TMP/scan.py" <<'PY'
# scan.py PID NAME=BASE64...: for each secret, how often its bytes and its base64 text occur in
# the readable memory of PID, and how many of the byte matches lie in mappings excluded from core
# dumps (VmFlags "dd"). Prints "NAME raw=N undumpable=M text=T".
import base64, re, sys

pid = int(sys.argv[1])
secrets = [arg.split("=", 1) for arg in sys.argv[2:]]
needles = [(name, base64.b64decode(text), text.encode()) for name, text in secrets]
regions, current = [], None
with open(f"/proc/{pid}/smaps") as f:
    for line in f:
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
        if m:
            current = [int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4), ""]
            regions.append(current)
        elif line.startswith("VmFlags:") and current is not None:
            current[4] = line.split(":", 1)[1]
counts = {name: [0, 0, 0] for name, _, _ in needles}
chunk, overlap = 1 << 24, 64
with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
    for start, end, perms, path, flags in regions:
        if "r" not in perms or path in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
            continue
        if end - start > (1 << 30):
            continue  # a sanitizer's shadow: reserved, never written
        undumpable = " dd" in " " + flags
        pos, tail = start, b""
        while pos < end:
            try:
                mem.seek(pos)
                data = mem.read(min(chunk, end - pos))
            except OSError:
                break
            if not data:
                break
            buf = tail + data
            for name, raw, text in needles:
                for needle, slot in ((raw, 0), (text, 2)):
                    i = buf.find(needle)
                    while i != -1:
                        if i + len(needle) > len(tail):  # not counted in the last chunk already
                            counts[name][slot] += 1
                            if slot == 0 and undumpable:
                                counts[name][1] += 1
                        i = buf.find(needle, i + 1)
            tail = buf[-overlap:]
            pos += len(data)
for name, (raw, undumpable, text) in counts.items():
    print(f"{name} raw={raw} undumpable={undumpable} text={text}")
PY
scan=$(python3 "$GWT_TMP/scan.py" "$PID" "private_key=$(cat "$DIR/site-b.key")" \
    "site_psk=$(cat "$DIR/site.psk")" "p3_psk=$(cat "$DIR/p3.psk")" "p4_psk=$(cat "$DIR/p4.psk")") ||
    gwt_fail "memory scan failed: $scan"
gwt_log "gwB's memory: $(echo "$scan" | tr '\n' ';')"
while read -r name raw undumpable text; do
    if [[ $name == p4_psk ]]; then  # refused: gwd keeps nothing of it
        [[ $raw == raw=0 && $text == text=0 ]] || gwt_fail "gwB's memory still holds the refused PSK ($scan)"
        continue
    fi
    [[ $raw == raw=1 ]] || gwt_fail "gwB's memory holds $name ${raw#raw=} times, expected once ($scan)"
    [[ $undumpable == undumpable=1 ]] ||
        gwt_fail "gwB's copy of $name is in memory a core dump would hold ($scan)"
    [[ $text == text=0 ]] || gwt_fail "gwB's memory holds the base64 text of $name ${text#text=} times ($scan)"
done <<<"$scan"
gwt_log "ok: each key once, in locked memory excluded from core dumps; no base64 text left"

gwt_stop_gwd "$PID"
gwt_pass
