# shellcheck shell=bash
# tests/integration/lib.sh -- helpers for gwd's network-namespace tests and the demo.
# Source it; do not execute it. A scenario script reads:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   gwt_init "$@"              # args: GWD GWCTL CONFIGS_DIR (as meson passes them)
#   gwt_topo_site              # or gwt_topo_remote; or build your own with gwt_ns/gwt_veth
#   gwt_start_site
#   gwt_assert_eventually 10 "hostA pings hostB" gwt_ping "$GWT_NS_HA" 10.2.0.2
#   gwt_pass
#
# Exit codes: 0 pass, 1 fail (gwt_fail prints what failed and the tail of every gwd log),
# 77 skip (not root, or no /dev/net/tun).
#
# Everything a run creates is unique to it and removed by the EXIT/INT/TERM trap:
#   namespaces  gwt<PID>-<name>    (PID of the test script)
#   links       gwt* inside those namespaces, plus the TUN devices the configs name
#   processes   every gwd started through gwt_start_gwd (TERM, then KILL), then
#               whatever still lives in our namespaces (by PID, from `ip netns pids`)
#   files       /tmp/gwt-<PID>.XXXXXX (kept when GWT_KEEP_TMP=1)
# Namespaces and temp dirs of earlier runs whose script PID is gone are removed at init.
#
# Environment: GWT_LOG_LEVEL (gwd --log-level; default info), GWT_GWD_ARGS (more gwd arguments,
# e.g. --no-offloads), GWT_KEEP_TMP=1, GWT_QUIET=1, GW_TEST_TIME_FACTOR (a whole number that
# stretches every wait that guards against a hang: the meson build sets it for sanitizer builds).
#
# Nothing here assumes the clone is readable by others (it may sit under /root, mode 0700): a
# program an unprivileged user must run is copied by gwt_public_copy. Nothing here needs a host
# file a minimal system lacks (/etc/hosts, resolv.conf, hostname): gwt_start_gwd_with_etc gives
# one gwd its own /etc, in a mount namespace of its own, and the host's /etc is never written.

GWT_GWD=
GWT_GWCTL=
GWT_CONFIGS=
GWT_TMP=
GWT_PREFIX=gwt$$-
GWT_NAMESPACES=()
GWT_PIDS=()
GWT_LOGS=()
GWT_GWD_NAMESPACES=()
GWT_PUBLIC_DIRS=()
GWT_DEFERRED=()
GWT_CLEANED=0
GWT_START=$SECONDS
GWT_GWD_PID=
GWT_NAME=$(basename "${0%.sh}")
GWT_TIME_FACTOR=${GW_TEST_TIME_FACTOR:-1}
[[ $GWT_TIME_FACTOR =~ ^[1-9][0-9]?$ ]] || GWT_TIME_FACTOR=1

# gwt_t SECONDS: a hang guard's length, stretched by GW_TEST_TIME_FACTOR. Only for waits that
# end as soon as what they wait for happens; never for how long something must NOT happen.
gwt_t() { echo $(($1 * GWT_TIME_FACTOR)); }

gwt_log() { [[ ${GWT_QUIET:-0} == 1 ]] || printf '[%s %(%H:%M:%S)T +%ss] %s\n' "$GWT_NAME" -1 "$((SECONDS - GWT_START))" "$*"; }

gwt_skip() {
    echo "SKIP: $GWT_NAME: $*"
    exit 77
}

# gwt_fail MSG...: print the failure, every gwd log's tail and the namespaces' state; exit 1.
gwt_fail() {
    local log ns
    local -a dump=("${GWT_GWD_NAMESPACES[@]}")
    [[ ${#dump[@]} -gt 0 ]] || dump=("${GWT_NAMESPACES[@]}")
    {
        echo "FAIL: $GWT_NAME: $*"
        gwt_gwd_states
        for log in "${GWT_LOGS[@]}"; do
            echo "---- last 30 lines of $(basename "$log")"
            tail -n 30 "$log" 2>/dev/null
        done
        for ns in "${dump[@]}"; do
            ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || continue
            echo "---- $ns: links, addresses, routes (all tables), rules"
            ip -n "$ns" -br addr 2>&1
            ip -n "$ns" -4 route show table all 2>&1 | grep -v -e '^local ' -e '^broadcast ' -e '^multicast '
            ip -n "$ns" -6 route show table all 2>&1 | grep -v -e '^local ' -e '^multicast ' -e '^anycast ' -e '^fe80::/64'
            ip -n "$ns" -4 rule 2>&1
            ip -n "$ns" -6 rule 2>&1
        done
        echo "FAIL: $GWT_NAME: $* (after $((SECONDS - GWT_START)) s)"
    } >&2
    exit 1
}

# gwt_gwd_states: one line for every gwd started, running or with its exit code.
GWT_GWD_STARTED=()  # "PID NAMESPACE CONFIG"
gwt_gwd_states() {
    local entry pid ns cfg
    for entry in "${GWT_GWD_STARTED[@]}"; do
        read -r pid ns cfg <<<"$entry"
        if gwt_alive "$pid"; then
            echo "---- gwd $pid ($(basename "$cfg") in $ns): running"
        else
            wait "$pid" 2>/dev/null
            echo "---- gwd $pid ($(basename "$cfg") in $ns): not running (exit code $?)"
        fi
    done
}

# gwt_pass: exit 0, or fail if a gwt_soft check failed on the way.
gwt_pass() {
    if [[ ${#GWT_DEFERRED[@]} -gt 0 ]]; then
        gwt_fail "${#GWT_DEFERRED[@]} check(s) failed earlier: $(printf '[%s] ' "${GWT_DEFERRED[@]}")"
    fi
    echo "PASS: $GWT_NAME ($((SECONDS - GWT_START)) s)"
    exit 0
}

# gwt_soft DESC CMD...: run CMD (e.g. gwt_assert... or gwt_transfer) in a subshell; if it fails,
# note DESC and go on, so that the later checks still run; gwt_pass then fails.
gwt_soft() {
    local desc=$1
    shift
    ("$@") && return 0
    GWT_DEFERRED+=("$desc")
    echo "FAILED (continuing): $desc" >&2
    return 1
}

# gwt_init GWD GWCTL CONFIGS_DIR: checks, stale-run cleanup, temp dir, traps.
gwt_init() {
    GWT_GWD=${1:-}
    GWT_GWCTL=${2:-}
    GWT_CONFIGS=${3:-}
    [[ $EUID -eq 0 ]] || gwt_skip "needs root (network namespaces)"
    [[ -c /dev/net/tun ]] || gwt_skip "/dev/net/tun is missing"
    [[ -n $GWT_GWD && -x $GWT_GWD ]] || gwt_fail "gwd not executable: '$GWT_GWD' (usage: $0 GWD GWCTL CONFIGS_DIR)"
    [[ -n $GWT_GWCTL && -x $GWT_GWCTL ]] || gwt_fail "gwctl not executable: '$GWT_GWCTL'"
    [[ -n $GWT_CONFIGS && -d $GWT_CONFIGS ]] || gwt_fail "configs folder not found: '$GWT_CONFIGS'"
    GWT_GWD=$(realpath "$GWT_GWD")
    GWT_GWCTL=$(realpath "$GWT_GWCTL")
    GWT_CONFIGS=$(realpath "$GWT_CONFIGS")
    local c
    for c in ip ping nft socat sha256sum ss timeout awk realpath; do
        command -v "$c" >/dev/null || gwt_fail "missing tool '$c' (run scripts/install-deps.sh)"
    done
    gwt_cleanup_stale
    trap 'gwt_cleanup' EXIT
    trap 'gwt_cleanup; exit 130' INT
    trap 'gwt_cleanup; exit 143' TERM
    GWT_TMP=$(mktemp -d "/tmp/gwt-$$.XXXXXX") || gwt_fail "mktemp failed"
    chmod 700 "$GWT_TMP"
    GWT_START=$SECONDS
}

# Namespaces "gwt<PID>-*" and dirs "/tmp/gwt-<PID>.*" whose PID no longer runs.
gwt_cleanup_stale() {
    local ns pid d
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^gwt[0-9]+-'); do
        pid=${ns#gwt}
        pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null && continue
        gwt_ns_destroy "$ns"
    done
    for d in /tmp/gwt-[0-9]*.??????; do
        [[ -d $d ]] || continue
        pid=${d#/tmp/gwt-}
        pid=${pid%%.*}
        kill -0 "$pid" 2>/dev/null || rm -rf -- "$d"
    done
    return 0
}

# gwt_alive PID: the process exists and is not a zombie.
gwt_alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [[ ${s%% *} != Z ]]
}

# gwt_kill_pid PID: TERM, up to 3 s, then KILL (only this PID).
gwt_kill_pid() {
    local pid=$1 i
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    gwt_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
        gwt_alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 20; i++)); do
        gwt_alive "$pid" || return 0
        sleep 0.1
    done
}

gwt_ns_destroy() {
    local ns=$1 pid
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || return 0
    for pid in $(ip netns pids "$ns" 2>/dev/null); do gwt_kill_pid "$pid"; done
    ip netns del "$ns" 2>/dev/null || echo "WARN: could not delete namespace $ns" >&2
    return 0
}

gwt_cleanup() {
    [[ $GWT_CLEANED == 1 ]] && return 0
    GWT_CLEANED=1
    local pid ns d
    for pid in "${GWT_PIDS[@]}"; do gwt_kill_pid "$pid"; done
    for ns in "${GWT_NAMESPACES[@]}"; do gwt_ns_destroy "$ns"; done
    for d in "${GWT_PUBLIC_DIRS[@]}"; do
        [[ $d == /tmp/gwt-* ]] && rm -rf -- "$d"
    done
    if [[ -n $GWT_TMP && -d $GWT_TMP && $GWT_TMP == /tmp/gwt-* ]]; then
        if [[ ${GWT_KEEP_TMP:-0} == 1 ]]; then
            echo "kept $GWT_TMP" >&2
        else
            rm -rf -- "$GWT_TMP"
        fi
    fi
    return 0
}

# wait_for TIMEOUT CMD...: retry CMD (output silenced) every 0.2 s for up to TIMEOUT seconds
# (stretched by GW_TEST_TIME_FACTOR).
wait_for() {
    local deadline=$((SECONDS + $(gwt_t "$1")))
    shift
    while true; do
        "$@" >/dev/null 2>&1 && return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.2
    done
}

# ------------------------------------------------------------ namespaces ---

# gwt_ns VAR NAME: create namespace gwt<PID>-NAME (lo up, no IPv6 DAD, IPv4 reverse-path filter
# off: full-tunnel.sh turns it on where it matters), store its name in VAR.
gwt_ns() {
    local ns=$GWT_PREFIX$2
    ip netns add "$ns" || gwt_fail "ip netns add $ns"
    GWT_NAMESPACES+=("$ns")
    local out
    out=$(ip netns exec "$ns" true 2>&1) || gwt_fail "host prerequisite: 'ip netns exec' does not" \
        "work here: $out (in a chroot, make its root a mount point first: mount --bind DIR DIR)"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
    printf -v "$1" '%s' "$ns"
}

gwt_in() { ip netns exec "$@"; }

# gwt_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
gwt_veth() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || gwt_fail "veth $1/$2 - $3/$4"
    ip -n "$1" link set "$2" up || gwt_fail "link up $1/$2"
    ip -n "$3" link set "$4" up || gwt_fail "link up $3/$4"
}

# gwt_addr NS IF PREFIX...: add addresses (IPv6 without DAD).
gwt_addr() {
    local ns=$1 dev=$2 a
    shift 2
    for a in "$@"; do
        if [[ $a == *:* ]]; then
            ip -n "$ns" addr add "$a" dev "$dev" nodad || gwt_fail "addr $a on $ns/$dev"
        else
            ip -n "$ns" addr add "$a" dev "$dev" || gwt_fail "addr $a on $ns/$dev"
        fi
    done
}

# gwt_route NS ARGS...: ip route add ARGS (-6 chosen when the args hold a ':').
gwt_route() {
    local ns=$1 fam=-4
    shift
    [[ $* == *:* ]] && fam=-6
    ip -n "$ns" "$fam" route add "$@" || gwt_fail "route add $* in $ns"
}

gwt_forwarding() {
    ip netns exec "$1" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null ||
        gwt_fail "forwarding in $1"
}

# gwt_ping NS ADDR: one echo, 1 s deadline.
gwt_ping() { ip netns exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }

# -------------------------------------------------------- keys, configs ---

# gwt_keys DIR NAME...: DIR/NAME.key (0600, under umask 077) and DIR/NAME.pub.
gwt_keys() {
    local dir=$1 n
    shift
    mkdir -p "$dir"
    for n in "$@"; do
        (umask 077 && "$GWT_GWCTL" genkey >"$dir/$n.key" && "$GWT_GWCTL" pubkey <"$dir/$n.key" >"$dir/$n.pub") ||
            gwt_fail "key generation for $n in $dir"
        chmod 644 "$dir/$n.pub"
    done
}

# gwt_config REL DIR: copy configs/REL unchanged into DIR.
gwt_config() {
    mkdir -p "$2"
    cp "$GWT_CONFIGS/$1" "$2/" || gwt_fail "copy $GWT_CONFIGS/$1"
}

# ----------------------------------------------------------------- gwd ---

# gwt_start_gwd NS CONFIG LOG: start gwd in NS (foreground process, output appended to LOG);
# sets GWT_GWD_PID. `ip netns exec` execs, so $! is gwd itself.
gwt_start_gwd() {
    local ns=$1 cfg=$2 log=$3
    echo "==== $(date +%T) gwd --config $cfg (namespace $ns)" >>"$log"
    # shellcheck disable=SC2086  # GWT_GWD_ARGS: extra words for gwd (debugging), split on purpose
    ip netns exec "$ns" "$GWT_GWD" --config "$cfg" --log-level "${GWT_LOG_LEVEL:-info}" \
        --run-dir "$(gwt_run_dir "$ns")" ${GWT_GWD_ARGS:-} >>"$log" 2>&1 &
    gwt_started_gwd "$ns" "$cfg" "$log"
}

# gwt_start_gwd_with_etc NS ETC CONFIG LOG: gwt_start_gwd, with the folder ETC bound over /etc
# for this gwd alone (a mount namespace of its own, inside `ip netns exec`'s). Make ETC with
# gwt_private_etc; files written into it later show through at once.
gwt_start_gwd_with_etc() {
    local ns=$1 etc=$2 cfg=$3 log=$4
    echo "==== $(date +%T) gwd --config $cfg (namespace $ns, /etc from $etc)" >>"$log"
    # `unshare` and `exec` keep the PID, so $! is gwd itself, as above.
    # shellcheck disable=SC2016,SC2086  # $1 is for the inner shell; GWT_GWD_ARGS as above
    ip netns exec "$ns" unshare --mount --propagation private -- \
        sh -c 'mount --bind "$1" /etc || exit 125; shift; exec "$@"' sh "$etc" \
        "$GWT_GWD" --config "$cfg" --log-level "${GWT_LOG_LEVEL:-info}" \
        --run-dir "$(gwt_run_dir "$ns")" ${GWT_GWD_ARGS:-} >>"$log" 2>&1 &
    gwt_started_gwd "$ns" "$cfg" "$log"
}

# gwt_private_etc DIR: a copy of the host's /etc in DIR, without the files a test may want to
# provide (hosts, resolv.conf, hostname), whether or not the host has them.
gwt_private_etc() {
    mkdir -p "$1" && cp -a /etc/. "$1/" || gwt_fail "cannot copy /etc to $1"
    rm -f "$1/hosts" "$1/resolv.conf" "$1/hostname"
}

# gwt_started_gwd NS CONFIG LOG: book-keeping for a gwd just started in the background.
gwt_started_gwd() {
    local ns=$1 cfg=$2 log=$3
    GWT_GWD_PID=$!
    GWT_PIDS+=("$GWT_GWD_PID")
    GWT_GWD_STARTED+=("$GWT_GWD_PID $ns $cfg")
    [[ " ${GWT_LOGS[*]} " == *" $log "* ]] || GWT_LOGS+=("$log")
    [[ " ${GWT_GWD_NAMESPACES[*]} " == *" $ns "* ]] || GWT_GWD_NAMESPACES+=("$ns")
    gwt_log "started gwd pid $GWT_GWD_PID in $ns with $(basename "$cfg")"
}

# gwt_run_dir NS: where gwd in NS makes its control socket. One folder per namespace, so that
# two gwd serving the same interface name in two namespaces do not meet.
gwt_run_dir() { echo "$GWT_TMP/run/$1"; }

# gwt_ctl NS ARGS...: gwctl against the gwd of NS (any user: prefix with setpriv yourself).
gwt_ctl() {
    local ns=$1
    shift
    GW_RUN_DIR=$(gwt_run_dir "$ns") "$GWT_GWCTL" --timeout "$(gwt_t 10)" "$@"
}

# gwt_public_copy FILE: prints the path of a copy of FILE that every user may run and read,
# in a folder of this run's (mode 0755 up from /tmp). The clone may be unreachable for them.
GWT_PUBLIC=
gwt_public_copy() {
    if [[ -z $GWT_PUBLIC ]]; then
        GWT_PUBLIC=$(mktemp -d "/tmp/gwt-$$.XXXXXX") || gwt_fail "mktemp failed"
        GWT_PUBLIC_DIRS+=("$GWT_PUBLIC")
        chmod 755 "$GWT_PUBLIC"
    fi
    local copy
    copy=$GWT_PUBLIC/$(basename "$1")
    [[ -e $copy ]] || install -m 0755 "$1" "$copy" || gwt_fail "cannot copy $1 to $GWT_PUBLIC"
    echo "$copy"
}

# gwt_wait_exit PID TIMEOUT: wait until PID has exited; sets GWT_RC (its exit code).
# Returns 1 if it is still running after TIMEOUT seconds.
GWT_RC=
gwt_wait_exit() {
    local pid=$1 deadline=$((SECONDS + $(gwt_t "$2")))
    while gwt_alive "$pid"; do
        ((SECONDS >= deadline)) && return 1
        sleep 0.1
    done
    wait "$pid" 2>/dev/null
    GWT_RC=$?
    return 0
}

# gwt_stop_gwd PID [TIMEOUT=10]: SIGTERM; fails unless gwd exits 0 within TIMEOUT.
gwt_stop_gwd() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || gwt_fail "gwd $pid is not running (cannot SIGTERM it)"
    gwt_wait_exit "$pid" "${2:-10}" || gwt_fail "gwd $pid still running ${2:-10} s after SIGTERM"
    [[ $GWT_RC == 0 ]] || gwt_fail "gwd $pid exited with $GWT_RC after SIGTERM (expected 0)"
    gwt_log "gwd $pid stopped by SIGTERM, exit 0"
}

# gwt_kill9_gwd PID: SIGKILL and reap.
gwt_kill9_gwd() {
    kill -KILL "$1" 2>/dev/null || gwt_fail "gwd $1 is not running (cannot SIGKILL it)"
    gwt_wait_exit "$1" 5 || gwt_fail "gwd $1 survived SIGKILL"
    gwt_log "gwd $1 killed with SIGKILL"
}

gwt_assert_running() {
    gwt_alive "$1" || {
        gwt_wait_exit "$1" 1
        gwt_fail "gwd $1 died (exit code $GWT_RC)"
    }
}

# ----------------------------------------------------------- assertions ---

# gwt_assert DESC CMD...: CMD must succeed now.
gwt_assert() {
    local desc=$1 out
    shift
    out=$("$@" 2>&1) || gwt_fail "$desc: '$*' failed: $out"
    gwt_log "ok: $desc"
}

# gwt_assert_not DESC CMD...: CMD must fail.
gwt_assert_not() {
    local desc=$1 out
    shift
    out=$("$@" 2>&1) && gwt_fail "$desc: '$*' succeeded but must not: $out"
    gwt_log "ok: $desc"
}

# gwt_assert_eventually TIMEOUT DESC CMD...: CMD must succeed within TIMEOUT seconds.
gwt_assert_eventually() {
    local t=$1 desc=$2 t0=$SECONDS out
    shift 2
    if ! wait_for "$t" "$@"; then
        out=$("$@" 2>&1)
        gwt_fail "$desc: '$*' did not succeed within $t s: $out"
    fi
    gwt_log "ok: $desc ($((SECONDS - t0)) s)"
}

# gwt_assert_never TIMEOUT DESC CMD...: CMD must fail on every try for TIMEOUT seconds.
gwt_assert_never() {
    local t=$1 desc=$2 deadline
    shift 2
    deadline=$((SECONDS + t))
    while ((SECONDS < deadline)); do
        "$@" >/dev/null 2>&1 && gwt_fail "$desc: '$*' succeeded"
        sleep 0.2
    done
    gwt_log "ok: $desc (for $t s)"
}

# gwt_log_has LOG TEXT: LOG contains TEXT (fixed string).
gwt_log_has() { grep -qF -- "$2" "$1"; }

# gwt_assert_log TIMEOUT LOG TEXT...: LOG holds a line containing every TEXT, within TIMEOUT s.
gwt_line_has_all() {
    local log=$1 line t ok
    shift
    while IFS= read -r line; do
        ok=1
        for t in "$@"; do [[ $line == *"$t"* ]] || { ok=0; break; }; done
        [[ $ok == 1 ]] && { printf '%s\n' "$line"; return 0; }
    done <"$log"
    return 1
}
gwt_assert_log() {
    local t=$1 log=$2
    shift 2
    wait_for "$t" gwt_line_has_all "$log" "$@" ||
        gwt_fail "no line in $(basename "$log") with all of: $(printf "'%s' " "$@")"
    gwt_log "ok: log line: $(gwt_line_has_all "$log" "$@" | head -n 1)"
}

# --------------------------------------------------------------- transfer ---

# gwt_transfer SRC_NS DST_NS DST_ADDR SIZE_MB TIMEOUT [PORT]: send SIZE_MB of random data over TCP
# (socat) from SRC_NS to DST_ADDR in DST_NS; fail unless size and sha256 match within TIMEOUT s.
gwt_transfer() {
    local src=$1 dst=$2 addr=$3 mb=$4 t=$(gwt_t "$5") port=${6:-5001}
    local f=$GWT_TMP/tx-$mb.bin out=$GWT_TMP/rx-$mb-$RANDOM.bin rpid rc t0 sum_tx sum_rx target=$3
    [[ $addr == *:* ]] && target="[$addr]"
    [[ -f $f ]] || head -c "$((mb * 1024 * 1024))" /dev/urandom >"$f" || gwt_fail "cannot make $f"
    sum_tx=$(sha256sum <"$f" | awk '{print $1}')
    ip netns exec "$dst" timeout -k 2 "$t" socat -u "TCP6-LISTEN:$port,ipv6only=0,reuseaddr" "CREATE:$out" \
        >"$GWT_TMP/socat-rx.log" 2>&1 &
    rpid=$!
    GWT_PIDS+=("$rpid")
    wait_for 5 bash -c "ip netns exec '$dst' ss -Hltn 'sport = :$port' | grep -q ." ||
        gwt_fail "socat receiver did not listen on port $port in $dst"
    gwt_log "sending $mb MiB to $target:$port ($src -> $dst)"
    t0=$(date +%s.%N)
    timeout -k 2 "$t" ip netns exec "$src" socat -u "OPEN:$f,rdonly" "TCP:$target:$port,connect-timeout=5" \
        >"$GWT_TMP/socat-tx.log" 2>&1
    rc=$?
    [[ $rc == 0 ]] || gwt_fail "socat sender exited $rc (124: timeout after $t s): $(head -c 400 "$GWT_TMP/socat-tx.log"); received $(stat -c %s "$out" 2>/dev/null || echo 0) bytes"
    gwt_wait_exit "$rpid" 10 || gwt_fail "socat receiver did not finish"
    [[ $GWT_RC == 0 ]] || gwt_fail "socat receiver exited $GWT_RC: $(head -c 400 "$GWT_TMP/socat-rx.log")"
    sum_rx=$(sha256sum <"$out" | awk '{print $1}')
    [[ $(stat -c %s "$out") == "$(stat -c %s "$f")" ]] ||
        gwt_fail "transfer size differs: sent $(stat -c %s "$f") bytes, received $(stat -c %s "$out")"
    [[ $sum_tx == "$sum_rx" ]] || gwt_fail "sha256 differs: sent $sum_tx, received $sum_rx"
    gwt_log "ok: $mb MiB over TCP to $target, sha256 $sum_rx matches, $(awk -v t0="$t0" -v t1="$(date +%s.%N)" -v m="$mb" \
        'BEGIN{d=t1-t0; printf "%.1f s, %.1f MiB/s", d, m/d}')"
    rm -f "$out"
}

# ------------------------------------------------------------- topologies ---

# Site to site (configs/site-to-site), IPv4 underlay:
#
#   [hostA] gwtlan ---- gwtlan [gwA] gwtul ======= gwtul [gwB] gwtlan ---- gwtlan [hostB]
#   10.1.0.2/24        10.1.0.1/24  192.0.2.1/24   192.0.2.2/24  10.2.0.1/24      10.2.0.2/24
#   fd01::2/64         fd01::1/64   (gw-a: 10.77.0.1, fd77::1   gw-b: 10.77.0.2, fd77::2)  fd02::2/64
#
# Sets GWT_NS_HA GWT_NS_GA GWT_NS_GB GWT_NS_HB, GWT_SITE_DIR (configs + keys), GWT_LOG_A/B.
GWT_NS_HA='' GWT_NS_GA='' GWT_NS_GB='' GWT_NS_HB='' GWT_SITE_DIR='' GWT_LOG_A='' GWT_LOG_B=''
GWT_PID_A='' GWT_PID_B=''
gwt_topo_site() {
    gwt_ns GWT_NS_HA hostA
    gwt_ns GWT_NS_GA gwA
    gwt_ns GWT_NS_GB gwB
    gwt_ns GWT_NS_HB hostB
    gwt_veth "$GWT_NS_HA" gwtlan "$GWT_NS_GA" gwtlan
    gwt_veth "$GWT_NS_GA" gwtul "$GWT_NS_GB" gwtul
    gwt_veth "$GWT_NS_GB" gwtlan "$GWT_NS_HB" gwtlan
    gwt_addr "$GWT_NS_HA" gwtlan 10.1.0.2/24 fd01::2/64
    gwt_addr "$GWT_NS_GA" gwtlan 10.1.0.1/24 fd01::1/64
    gwt_addr "$GWT_NS_GA" gwtul 192.0.2.1/24
    gwt_addr "$GWT_NS_GB" gwtul 192.0.2.2/24
    gwt_addr "$GWT_NS_GB" gwtlan 10.2.0.1/24 fd02::1/64
    gwt_addr "$GWT_NS_HB" gwtlan 10.2.0.2/24 fd02::2/64
    gwt_forwarding "$GWT_NS_GA"
    gwt_forwarding "$GWT_NS_GB"
    gwt_route "$GWT_NS_HA" 10.2.0.0/24 via 10.1.0.1
    gwt_route "$GWT_NS_HA" fd02::/64 via fd01::1
    gwt_route "$GWT_NS_HB" 10.1.0.0/24 via 10.2.0.1
    gwt_route "$GWT_NS_HB" fd01::/64 via fd02::1
    GWT_SITE_DIR=$GWT_TMP/site-to-site
    gwt_config site-to-site/site-a.json "$GWT_SITE_DIR"
    gwt_config site-to-site/site-b.json "$GWT_SITE_DIR"
    gwt_keys "$GWT_SITE_DIR" site-a site-b
    GWT_LOG_A=$GWT_TMP/gwd-site-a.log
    GWT_LOG_B=$GWT_TMP/gwd-site-b.log
    wait_for 5 gwt_ping "$GWT_NS_GA" 192.0.2.2 || gwt_fail "underlay 192.0.2.1 -> 192.0.2.2 does not work"
    gwt_log "site-to-site topology ready (namespaces ${GWT_PREFIX}{hostA,gwA,gwB,hostB})"
}

gwt_start_site_a() {
    gwt_start_gwd "$GWT_NS_GA" "$GWT_SITE_DIR/site-a.json" "$GWT_LOG_A"
    GWT_PID_A=$GWT_GWD_PID
}
gwt_start_site_b() {
    gwt_start_gwd "$GWT_NS_GB" "$GWT_SITE_DIR/site-b.json" "$GWT_LOG_B"
    GWT_PID_B=$GWT_GWD_PID
}
# gwt_start_site: both gateways; waits for gw-a/gw-b and the handshake log line.
gwt_start_site() {
    gwt_start_site_a
    gwt_start_site_b
    gwt_assert_eventually 10 "gw-a is up in gwA" ip -n "$GWT_NS_GA" link show gw-a up
    gwt_assert_eventually 10 "gw-b is up in gwB" ip -n "$GWT_NS_GB" link show gw-b up
    gwt_assert_running "$GWT_PID_A"
    gwt_assert_running "$GWT_PID_B"
    gwt_assert_log 15 "$GWT_LOG_A" "handshake complete with peer site-b"
    gwt_assert_log 15 "$GWT_LOG_B" "handshake complete with peer site-a"
}

# Remote worker (configs/remote-worker), IPv6 underlay through a router ("isp"):
#
#   [client] gwtul 2001:db8:2::2/64 -- 2001:db8:2::1 gwtcl [isp] gwtgw 2001:db8:1::ff -- 2001:db8:1::1/64 gwtul [gateway]
#   default via 2001:db8:2::1                          (forwarding)        default via 2001:db8:1::ff
#   gw-laptop 10.88.0.2/32 fd88::2/128 (full tunnel)                       gw-gw 10.88.0.1/24 fd88::1/64
#                                                                          gwtlan 10.99.0.1/24 fd99::1/64
#                                                                            |
#                                                                          [host] gwtlan 10.99.0.2/24 fd99::2/64
#
# The client reaches the gateway's underlay address only through its default route, so the
# full tunnel's `suppress_prefixlength 0` rule hides it: the underlay works only if gwd marks its
# own socket. With GWT_WITH_INTRUDER=1 also:
#   [intruder] gwtul 2001:db8:3::9/64 -- 2001:db8:3::1 gwtx [isp]
# Sets GWT_NS_CL GWT_NS_ISP GWT_NS_GW GWT_NS_HOST (GWT_NS_X), GWT_RW_DIR, GWT_LOG_GW, GWT_LOG_CL.
GWT_NS_CL='' GWT_NS_ISP='' GWT_NS_GW='' GWT_NS_HOST='' GWT_NS_X='' GWT_RW_DIR='' GWT_LOG_GW='' GWT_LOG_CL=''
GWT_PID_GW='' GWT_PID_CL=''
gwt_topo_remote() {
    gwt_ns GWT_NS_CL client
    gwt_ns GWT_NS_ISP isp
    gwt_ns GWT_NS_GW gateway
    gwt_ns GWT_NS_HOST host
    gwt_veth "$GWT_NS_CL" gwtul "$GWT_NS_ISP" gwtcl
    gwt_veth "$GWT_NS_ISP" gwtgw "$GWT_NS_GW" gwtul
    gwt_veth "$GWT_NS_GW" gwtlan "$GWT_NS_HOST" gwtlan
    gwt_addr "$GWT_NS_CL" gwtul 2001:db8:2::2/64
    gwt_addr "$GWT_NS_ISP" gwtcl 2001:db8:2::1/64
    gwt_addr "$GWT_NS_ISP" gwtgw 2001:db8:1::ff/64
    gwt_addr "$GWT_NS_GW" gwtul 2001:db8:1::1/64
    gwt_addr "$GWT_NS_GW" gwtlan 10.99.0.1/24 fd99::1/64
    gwt_addr "$GWT_NS_HOST" gwtlan 10.99.0.2/24 fd99::2/64
    gwt_forwarding "$GWT_NS_ISP"
    gwt_forwarding "$GWT_NS_GW"
    gwt_route "$GWT_NS_CL" default via 2001:db8:2::1
    gwt_route "$GWT_NS_GW" default via 2001:db8:1::ff
    gwt_route "$GWT_NS_HOST" default via 10.99.0.1
    gwt_route "$GWT_NS_HOST" default via fd99::1
    if [[ ${GWT_WITH_INTRUDER:-0} == 1 ]]; then
        gwt_ns GWT_NS_X intruder
        gwt_veth "$GWT_NS_X" gwtul "$GWT_NS_ISP" gwtx
        gwt_addr "$GWT_NS_X" gwtul 2001:db8:3::9/64
        gwt_addr "$GWT_NS_ISP" gwtx 2001:db8:3::1/64
        gwt_route "$GWT_NS_X" default via 2001:db8:3::1
    fi
    GWT_RW_DIR=$GWT_TMP/remote-worker
    gwt_config remote-worker/gateway.json "$GWT_RW_DIR"
    gwt_config remote-worker/client.json "$GWT_RW_DIR"
    gwt_keys "$GWT_RW_DIR" gateway laptop
    GWT_LOG_GW=$GWT_TMP/gwd-gateway.log
    GWT_LOG_CL=$GWT_TMP/gwd-client.log
    wait_for 5 gwt_ping "$GWT_NS_CL" 2001:db8:1::1 || gwt_fail "underlay 2001:db8:2::2 -> 2001:db8:1::1 does not work"
    gwt_log "remote-worker topology ready (namespaces ${GWT_PREFIX}{client,isp,gateway,host}) ${GWT_NS_X:+plus $GWT_NS_X}"
}

gwt_start_gateway() {
    gwt_start_gwd "$GWT_NS_GW" "$GWT_RW_DIR/gateway.json" "$GWT_LOG_GW"
    GWT_PID_GW=$GWT_GWD_PID
    gwt_assert_eventually 10 "gw-gw is up in gateway" ip -n "$GWT_NS_GW" link show gw-gw up
    gwt_assert_running "$GWT_PID_GW"
}
gwt_start_client() {
    gwt_start_gwd "$GWT_NS_CL" "$GWT_RW_DIR/client.json" "$GWT_LOG_CL"
    GWT_PID_CL=$GWT_GWD_PID
    gwt_assert_eventually 10 "gw-laptop is up in client" ip -n "$GWT_NS_CL" link show gw-laptop up
    gwt_assert_running "$GWT_PID_CL"
}

# gwt_rules NS: the IPv4 and IPv6 policy rules, one block.
gwt_rules() { ip -n "$1" -4 rule show && echo "--" && ip -n "$1" -6 rule show; }

# gwt_route_dev NS ADDR: the device `ip route get ADDR` chooses in NS.
gwt_route_dev() { ip -n "$1" route get "$2" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1; }
gwt_route_dev_is() { [[ $(gwt_route_dev "$1" "$2") == "$3" ]]; }

# Certificates (certificates.sh, admission.sh): a gateway with a bridge its clients join and a
# PKI folder with a CA (ca.key, ca.pub), the gateway's keys and, for each client, its keys,
# certificate and config:
#
#   [client N] gwtul 192.0.2.N/24 --- gwtbr 192.0.2.1/24 [gateway] (forwarding)
#
# Sets GWT_NS_G and GWT_PKI.
GWT_NS_G='' GWT_PKI='' GWT_CLIENT_NS=''
gwt_topo_pki() {
    gwt_ns GWT_NS_G gateway
    ip -n "$GWT_NS_G" link add gwtbr type bridge || gwt_fail "bridge"
    ip -n "$GWT_NS_G" link set gwtbr up
    gwt_addr "$GWT_NS_G" gwtbr 192.0.2.1/24
    gwt_forwarding "$GWT_NS_G"
    GWT_PKI=$GWT_TMP/pki
    mkdir -p "$GWT_PKI" && chmod 700 "$GWT_PKI"
    "$GWT_GWCTL" ca init "$GWT_PKI/ca" >/dev/null || gwt_fail "ca init"
    gwt_keys "$GWT_PKI" gateway
}

# gwt_pki_sign NAME KEY_NAME ADDRESS OUT CA [SIGN ARGS...]: a certificate for KEY_NAME's key,
# holding ADDRESS/24, signed by CA (CA.key in GWT_PKI).
gwt_pki_sign() {
    local name=$1 key=$2 addr=$3 out=$4 ca=$5
    shift 5
    "$GWT_GWCTL" cert sign --ca-key "$GWT_PKI/$ca.key" --name "$name" \
        --public-key-file "$GWT_PKI/$key.pub" --addresses "$addr/24" "$@" --out "$out" \
        >/dev/null || gwt_fail "cert sign $name"
}

# gwt_pki_client_config NAME ADDRESS CERT_FILE: NAME.json, the gateway as its one peer (with a
# keepalive, so that it calls at once).
gwt_pki_client_config() {
    cat >"$GWT_PKI/$1.json" <<EOF
{ "name": "gw-$1", "private_key_file": "$1.key", "addresses": ["$2/24"],
  "certificate_file": "$3",
  "peers": [ { "name": "gateway", "public_key_file": "gateway.pub", "endpoint": "192.0.2.1:51820",
               "allowed_ips": ["10.90.0.0/24"], "persistent_keepalive": 5 } ] }
EOF
}

# gwt_pki_client N NAME ADDRESS CA [SIGN ARGS...]: client NAME's namespace on the bridge
# (192.0.2.N), keys, certificate (NAME.crt) and config; sets NS_<NAME>.
gwt_pki_client() {
    local n=$1 name=$2 addr=$3 ca=$4 ns
    shift 4
    gwt_ns GWT_CLIENT_NS "$name"  # not into `ns`: gwt_ns has a local of that name
    ns=$GWT_CLIENT_NS
    ip link add "gwt$n" netns "$GWT_NS_G" type veth peer name gwtul netns "$ns" ||
        gwt_fail "veth $name"
    ip -n "$GWT_NS_G" link set "gwt$n" master gwtbr up
    ip -n "$ns" link set gwtul up
    gwt_addr "$ns" gwtul "192.0.2.$n/24"
    gwt_keys "$GWT_PKI" "$name"
    gwt_pki_sign "$name" "$name" "$addr" "$GWT_PKI/$name.crt" "$ca" "$@"
    gwt_pki_client_config "$name" "$addr" "$name.crt"
    printf -v "NS_$name" '%s' "$ns"
}

