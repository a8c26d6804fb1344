#!/usr/bin/env bash
# Runs every test of gw, from a fresh machine on:
#   1. installs what is needed (scripts/install-deps.sh);
#   2. the unit tests and Noise vectors under AddressSanitizer and
#      UndefinedBehaviorSanitizer (g++), failing on any report;
#   3. a short libFuzzer run of every fuzz target (clang);
#   4. the full suite in a warnings-as-errors build.
# It ends with meson's summary of the full suite and the line
# "N passed, M failed" that counts all three runs.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1

status=0
broken=0  # builds that failed: each counts as one failed test
logs=()

setup() {  # setup DIR [meson options...]
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

run_suite() {  # [targets=NINJA-TARGETS] run_suite TITLE DIR [meson test options...]
  local title=$1 dir=$2
  shift 2
  echo "=== $title"
  # shellcheck disable=SC2086  # $targets is a list of words
  if ! ninja -C "$dir" ${targets:-} >"$dir/build-output.txt" 2>&1; then
    cat "$dir/build-output.txt"
    echo "=== $title: BUILD FAILED"
    status=1
    broken=$((broken + 1))
    return
  fi
  meson test -C "$dir" --print-errorlogs "$@" || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

if setup build-san -Dwerror=true --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=all; then
  run_suite "sanitizers (ASan + UBSan): unit tests, Noise vectors, platform and gwd in namespaces" build-san \
    --suite unit --suite vectors --suite platform --suite integration
else
  echo "=== sanitizer build: meson setup failed"; status=1; broken=$((broken + 1))
fi

if command -v clang++ >/dev/null; then
  if CXX=clang++ setup build-fuzz -Dfuzz=true -Dfuzz_seconds="${GW_FUZZ_SECONDS:-10}"; then
    # Only the fuzz targets: gwd, gwctl and the test programs are not run
    # here, and building them with clang's instrumentation costs minutes.
    targets=fuzz-targets run_suite "fuzz targets (libFuzzer, ${GW_FUZZ_SECONDS:-10} s each)" \
      build-fuzz --no-rebuild --suite fuzz
  else
    echo "=== fuzz build: meson setup failed"; status=1; broken=$((broken + 1))
  fi
else
  echo "=== clang++ not found: fuzz targets not run"
fi

if setup build-test -Dwerror=true; then
  run_suite "full suite (warnings as errors)" build-test --no-suite fuzz
else
  echo "=== test build: meson setup failed"; status=1; broken=$((broken + 1))
fi

# One line counting every test of every run above.
python3 - "$broken" "${logs[@]}" <<'PY' || status=1
import json, sys
passed = skipped = 0
failed = int(sys.argv[1])
for path in sys.argv[2:]:
    with open(path) as f:
        for line in f:
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or passed == 0 else 0)
PY
exit $status
