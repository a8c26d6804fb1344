#!/usr/bin/env bash
# bench/tunnel/run.sh [HARNESS_DIR] -- gw's tunnel next to a raw veth, wireguard-go and nebula.
# Copies bench/tunnel/gwd.sh into the harness's modes.d/ and runs, in the harness,
#   MODES="raw wireguard-go nebula gwd" ./run-all.sh $RUNS
# with GWD_BIN/GWCTL_BIN pointing at build-release (built first if missing). Run as root after
# bench/tunnel/install.sh. The harness is HARNESS_DIR, else $GW_BENCH_DIR, else ../shared/bench
# next to this repository; a read-only harness folder is left untouched and run from a
# temporary copy (removed at exit).
# Environment: RUNS=3, MODES, DURATION=10 (and every other variable run-all.sh and
#   tunnel-bench.sh read), GWD_BIN, GWCTL_BIN (default: build-release's).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
harness=${1:-${GW_BENCH_DIR:-$repo/../shared/bench}}
[[ -x $harness/run-all.sh && -d $harness/modes.d ]] ||
    { echo "run.sh: no benchmark harness (run-all.sh, modes.d/) in '$harness'" >&2; exit 1; }
harness=$(cd "$harness" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "run.sh: run as root (network namespaces)" >&2; exit 1; }

GWD_BIN=${GWD_BIN:-$repo/build-release/src/daemon/gwd}
GWCTL_BIN=${GWCTL_BIN:-$repo/build-release/src/gwctl/gwctl}
if [[ ! -x $GWD_BIN || ! -x $GWCTL_BIN ]]; then
    echo "== building gw (release) in $repo/build-release" >&2
    if [[ -f $repo/build-release/build.ninja ]]; then
        meson setup --reconfigure "$repo/build-release" "$repo" --buildtype=release >/dev/null
    else
        meson setup "$repo/build-release" "$repo" --buildtype=release >/dev/null
    fi
    ninja -C "$repo/build-release"
fi
[[ -x $GWD_BIN ]] || { echo "run.sh: gwd not found at $GWD_BIN" >&2; exit 1; }
export GWD_BIN GWCTL_BIN

for tool in wireguard-go wg nebula iperf3 jq; do
    command -v "$tool" >/dev/null || echo "run.sh: warning: $tool missing (bash bench/tunnel/install.sh)" >&2
done

# A read-only harness (mode 0555, as a shared copy is) stays untouched: run from a temporary copy.
# (run-all.sh also compiles crypto-limit into its own folder.)
work=$harness
if [[ $(stat -c %A "$harness") != ?rw* || $(stat -c %A "$harness/modes.d") != ?rw* ]]; then
    work=$(mktemp -d /tmp/gw-bench-harness.XXXXXX)
    trap 'rm -rf -- "$work"' EXIT
    cp -R "$harness"/. "$work"/
    chmod -R u+w "$work"
fi
cp "$repo/bench/tunnel/gwd.sh" "$work/modes.d/gwd.sh"
[[ $work == "$harness" ]] || echo "== read-only harness $harness: running a copy in $work" >&2
echo "== harness $work; gwd $GWD_BIN" >&2
cd "$work"
MODES=${MODES:-"raw wireguard-go nebula gwd"} ./run-all.sh "${RUNS:-3}"
