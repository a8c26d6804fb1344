#!/usr/bin/env bash
# install_test.sh BUILDDIR PREFIX SBINDIR BINDIR DATADIR UNITDIR
# Runs `meson install --destdir TMP` of BUILDDIR (already built: --no-rebuild)
# and checks what lands in TMP: gwd, gwctl, the gwd@.service unit (starting
# the installed gwd), gwctl's bash completion, the example configurations and
# their docs; and that no private key or PSK (*.key, *.psk) and nothing under
# /etc is installed. TMP (a fresh temporary folder) is removed on exit, whatever happens.
set -euo pipefail
if [ $# -ne 6 ]; then
  echo "usage: $0 BUILDDIR PREFIX SBINDIR BINDIR DATADIR UNITDIR" >&2
  exit 2
fi
builddir=$1 prefix=$2
under_prefix() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$prefix/$1" ;; esac; }
sbindir=$(under_prefix "$3")
bindir=$(under_prefix "$4")
datadir=$(under_prefix "$5")
unitdir=$(under_prefix "$6")
docdir=$datadir/doc/gw

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tmp=$work/destdir  # the install root; $work/install.log beside it

if ! meson install --no-rebuild --quiet --destdir "$tmp" -C "$builddir" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "FAIL: meson install --destdir $tmp -C $builddir"
  exit 1
fi

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_file() {  # expect_file PATH-UNDER-DESTDIR [-x]
  local path=$tmp$1
  if [ ! -f "$path" ]; then
    fail "$1 not installed"
  elif [ "${2:-}" = -x ] && [ ! -x "$path" ]; then
    fail "$1 is not executable"
  else
    echo "ok: $1"
  fi
}

expect_file "$sbindir/gwd" -x
expect_file "$bindir/gwctl" -x
expect_file "$unitdir/gwd@.service"
expect_file "$datadir/bash-completion/completions/gwctl"
expect_file "$docdir/systemd.md"
expect_file "$docdir/examples/README.md"
for f in site-to-site/site-a.json site-to-site/site-b.json \
         remote-worker/gateway.json remote-worker/client.json; do
  expect_file "$docdir/examples/$f"
done

# The unit starts and reloads through the installed binaries.
unit=$tmp$unitdir/gwd@.service
if [ -f "$unit" ]; then
  for cmd in ExecStart ExecReload; do
    exe=$(sed -n "s/^$cmd=\([^ ]*\).*/\1/p" "$unit")
    if [ -z "$exe" ]; then
      fail "$unit has no $cmd="
    elif [ ! -x "$tmp$exe" ]; then
      fail "$cmd=$exe of the installed unit is not an installed executable"
    else
      echo "ok: $cmd=$exe is installed"
    fi
  done
fi

# The installed gwctl runs (no build-dir rpath or library needed).
if "$tmp$bindir/gwctl" genkey >/dev/null; then
  echo "ok: the installed gwctl runs"
else
  fail "the installed gwctl does not run"
fi

# No secrets and no /etc.
secrets=$(find "$tmp" \( -name '*.key' -o -name '*.psk' \) -print)
if [ -n "$secrets" ]; then
  fail "private keys or PSKs installed: $secrets"
else
  echo "ok: no *.key or *.psk installed"
fi
if [ -e "$tmp/etc" ] || [ -e "$tmp$prefix/etc" ]; then
  fail "something was installed under etc: $(find "$tmp/etc" "$tmp$prefix/etc" 2>/dev/null | head -5)"
else
  echo "ok: nothing under /etc"
fi

echo "installed files:"
(cd "$tmp" && find . -type f | sort | sed 's/^\./  /')
if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
