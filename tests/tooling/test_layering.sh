#!/usr/bin/env bash
# check_layering.sh catches what it is for: on a scratch copy of the tree it
# passes, then fails (naming the file, the line and the rule) once a file
# gets an include of a layer it may not use, a socket header in a pure layer,
# or a clock; the real tree is never touched.
set -euo pipefail
root=${1:?usage: test_layering.sh SOURCE_ROOT}
check="$root/tests/tooling/check_layering.sh"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fresh() {  # a scratch copy of src/ and include/
  rm -rf "$scratch/tree"
  mkdir -p "$scratch/tree"
  cp -R "$root/src" "$root/include" "$scratch/tree/"
}
expect_fail() {  # expect_fail DESCRIPTION PATTERN
  local out
  if out=$(bash "$check" "$scratch/tree" 2>&1); then
    echo "FAIL: $1: check_layering passed"
    exit 1
  fi
  if ! grep -qE "$2" <<<"$out"; then
    echo "FAIL: $1: expected /$2/ in:"
    echo "$out"
    exit 1
  fi
  echo "ok: $1"
}

fresh
bash "$check" "$scratch/tree" >/dev/null || { echo "FAIL: the unchanged copy does not pass"; exit 1; }
echo "ok: the unchanged tree passes"

fresh
echo '#include "gw/platform/udp.hpp"' >>"$scratch/tree/src/session/engine.cpp"
expect_fail "session including platform" 'src/session/engine\.cpp:[0-9]+:.*session may not use platform'

fresh
echo '#include "gw/control/request.hpp"' >>"$scratch/tree/include/gw/noise/protocol.hpp"
expect_fail "a noise header including control" 'include/gw/noise/protocol\.hpp:[0-9]+:.*noise may not use control'

fresh
echo '  #  include "gw/daemon/anything.hpp"' >>"$scratch/tree/src/config/config.cpp"
expect_fail "an indented include of daemon from config" 'config may not use daemon'

fresh
echo '#include <sys/socket.h>' >>"$scratch/tree/src/routing/allowed_ips.cpp"
expect_fail "a socket header in routing" 'src/routing/allowed_ips\.cpp:[0-9]+:.*pure layer'

fresh
echo 'auto t = std::chrono::steady_clock::now();' >>"$scratch/tree/src/session/timers.cpp"
expect_fail "a clock in session" 'src/session/timers\.cpp:[0-9]+:.*pure layer'

fresh
echo '#include "../platform/netlink_parse.hpp"' >>"$scratch/tree/src/session/engine.cpp"
expect_fail "a relative include out of session" 'src/session/engine\.cpp:[0-9]+:.*relative path'

fresh
echo '#include "gw/session/engine.hpp"' >>"$scratch/tree/src/daemon/main.cpp"
bash "$check" "$scratch/tree" >/dev/null || { echo "FAIL: daemon may use session"; exit 1; }
echo "ok: an allowed include passes"
echo "test_layering: all cases behave"
