#!/usr/bin/env bash
# unit_test.sh UNIT GWD GWCTL INSTALLED_GWD INSTALLED_GWCTL
# Checks the configured gwd@.service (UNIT, from the build dir):
#   - `systemd-analyze verify` prints nothing and exits 0;
#   - `systemd-analyze security --offline` rates its exposure 2.0 or lower.
# verify wants ExecStart=/ExecReload= binaries that exist, and a template unit
# needs an instance: the test verifies a copy, gwd@gwtest.service, whose two
# commands point at the built GWD and GWCTL instead of the installed paths;
# every other line is the unit's own. Exits 77 (skipped) without systemd-analyze.
# Needs no systemd as PID 1.
set -euo pipefail
if [ $# -ne 5 ]; then
  echo "usage: $0 UNIT GWD GWCTL INSTALLED_GWD INSTALLED_GWCTL" >&2
  exit 2
fi
unit=$1 gwd=$2 gwctl=$3 installed_gwd=$4 installed_gwctl=$5
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not found"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/gwd@gwtest.service

# The unit must start the installed binaries, and nothing else.
grep -qxF "ExecStart=$installed_gwd --config /etc/gw/%i.json" "$unit" ||
  { echo "FAIL: $unit: no 'ExecStart=$installed_gwd --config /etc/gw/%i.json'"; exit 1; }
grep -qxF "ExecReload=$installed_gwctl reload %i" "$unit" ||
  { echo "FAIL: $unit: no 'ExecReload=$installed_gwctl reload %i'"; exit 1; }
if grep -n '@[a-z_]*@' "$unit"; then
  echo "FAIL: $unit: a placeholder was not configured"
  exit 1
fi

awk -v s="ExecStart=$installed_gwd " -v r="ExecStart=$gwd " \
    -v rs="ExecReload=$installed_gwctl " -v rr="ExecReload=$gwctl " '
  index($0, s) == 1 { $0 = r substr($0, length(s) + 1) }
  index($0, rs) == 1 { $0 = rr substr($0, length(rs) + 1) }
  { print }' "$unit" >"$copy"

status=0

echo "== systemd-analyze verify $copy"
if verify_out=$(systemd-analyze verify --man=no --recursive-errors=no "$copy" 2>&1); then
  verify_rc=0
else
  verify_rc=$?
fi
if [ "$verify_rc" -ne 0 ] || [ -n "$verify_out" ]; then
  echo "FAIL: systemd-analyze verify exited $verify_rc and printed:"
  printf '%s\n' "$verify_out"
  status=1
else
  echo "ok: no output, exit 0"
fi

echo "== systemd-analyze security --offline=true $copy"
security_out=$(systemd-analyze security --offline=true --no-pager "$copy" 2>&1) || true
exposure=$(printf '%s\n' "$security_out" |
  sed -n 's/.*Overall exposure level for gwd@gwtest\.service: \([0-9][0-9]*\.[0-9]\).*/\1/p')
if [ -z "$exposure" ]; then
  echo "FAIL: no exposure figure in systemd-analyze security's output:"
  printf '%s\n' "$security_out"
  exit 1
fi
# What is still exposed, for the log.
printf '%s\n' "$security_out" | grep '✗' || true
echo "exposure: $exposure (at most $max_exposure)"
if awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e + 0 > m + 0) }'; then
  echo "FAIL: exposure $exposure is above $max_exposure"
  status=1
fi
exit $status
