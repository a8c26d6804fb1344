#!/usr/bin/env bash
# run_fuzz.sh TARGET SEED_DIR WORK_DIR SECONDS: a bounded libFuzzer run. New
# inputs go to WORK_DIR (in the build tree), never into the committed seeds.
set -euo pipefail
target=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work"
exec "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work" "$seeds"
