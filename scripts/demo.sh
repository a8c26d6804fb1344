#!/usr/bin/env bash
# The main job: installs what is needed, builds gw (release), replays the
# Noise test vectors through gw's Noise core and runs the Noise and session
# engine benchmarks (arguments go to both: --quick for a short run).
# (It grows into the two-namespace tunnel demo once the daemon exists.)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
vectors=${GW_VECTORS_DIR:-../shared/vectors}

if [ -f build-release/build.ninja ]; then
  meson setup --reconfigure build-release --buildtype=release >/dev/null
else
  meson setup build-release --buildtype=release >/dev/null
fi
ninja -C build-release

echo
echo "== Noise test vectors ($vectors)"
./build-release/tests/vectors/noise-vectors "$vectors/cacophony.txt" "$vectors/snow.txt"

echo
echo "== Noise benchmark (Noise_XX_25519_ChaChaPoly_BLAKE2b; medians)"
./build-release/bench/noise-bench "$@"

echo
echo "== Session engine benchmark (two engines in one process; medians)"
./build-release/bench/engine-bench "$@"
