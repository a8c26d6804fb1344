#!/usr/bin/env bash
# install_test.sh BUILDDIR PROGRAM_CPP
# Runs `meson install --destdir TMP` of BUILDDIR (already built: --no-rebuild)
# and checks libgw as a user of the installed files sees it:
#  - include/gw/gw.hpp and no other header; libgw.so, libgw.so.0,
#    libgw.so.VERSION (soname libgw.so.0), libgw.a and pkgconfig/gw.pc;
#  - pkg-config finds gw in TMP with the project's version; PROGRAM_CPP (the
#    example of docs/LIBRARY.md) builds through pkg-config against the shared
#    library (NEEDED libgw.so.0) and against the static one (no NEEDED libgw),
#    and both programs run to exit 0, in negotiated and in fixed mode, with
#    the same handshake hash on both sides; docs/LIBRARY.md shows it unchanged;
#  - libgw.so exports the API of gw.hpp and nothing else, all under version GW_0.
# TMP (a fresh temporary folder) is removed on exit, whatever happens.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILDDIR PROGRAM_CPP" >&2
  exit 2
fi
builddir=$1 program=$2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tmp=$work/destdir  # the install root; logs and programs beside it

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# Where meson installs: libdir is relative to the prefix unless absolute
# (Debian's default is multiarch, lib/x86_64-linux-gnu).
option() { meson introspect --buildoptions "$builddir" | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
under_prefix() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$prefix/$1" ;; esac; }
prefix=$(option prefix)
libdir=$(under_prefix "$(option libdir)")
includedir=$(under_prefix "$(option includedir)")
version=$(meson introspect --projectinfo "$builddir" | jq -r .version)
if [ -z "$prefix" ] || [ -z "$version" ] || [ "$version" = null ]; then
  echo "FAIL: cannot read the prefix and version of $builddir (meson introspect)"
  exit 1
fi

if ! meson install --no-rebuild --quiet --destdir "$tmp" -C "$builddir" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "FAIL: meson install --destdir $tmp -C $builddir"
  exit 1
fi

# --- installed files ----------------------------------------------------------
expect_file() {  # expect_file PATH-UNDER-DESTDIR
  if [ -f "$tmp$1" ]; then ok "$1"; else fail "$1 not installed"; fi
}
expect_file "$includedir/gw/gw.hpp"
expect_file "$libdir/libgw.so.$version"
expect_file "$libdir/libgw.so.0"
expect_file "$libdir/libgw.so"
expect_file "$libdir/libgw.a"
expect_file "$libdir/pkgconfig/gw.pc"

# Internal headers (include/gw/<layer>/) stay private.
headers=$(find "$tmp" -type f \( -name '*.hpp' -o -name '*.h' \) ! -path "$tmp$includedir/gw/gw.hpp" -print)
if [ -n "$headers" ]; then
  fail "headers other than gw/gw.hpp installed: ${headers//$tmp/}"
else
  ok "gw/gw.hpp is the only header installed"
fi

so=$tmp$libdir/libgw.so.0
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = libgw.so.0 ]; then
  ok "soname libgw.so.0"
else
  fail "the soname of libgw.so.0 is '$soname', expected libgw.so.0"
fi

# --- pkg-config ---------------------------------------------------------------
# gw.pc from TMP first, then the system's .pc files (for libsodium, its
# Requires.private); the sysroot makes pkgconf prefix -I and -L with TMP.
system_pc_path=$(pkg-config --variable pc_path pkg-config)
export PKG_CONFIG_LIBDIR=$tmp$libdir/pkgconfig:$system_pc_path
export PKG_CONFIG_SYSROOT_DIR=$tmp
pc_version=$(pkg-config --modversion gw 2>&1 || true)
if [ "$pc_version" = "$version" ]; then
  ok "pkg-config --modversion gw: $pc_version"
else
  fail "pkg-config --modversion gw: '$pc_version', expected $version"
fi

read -r -a cflags <<<"$(pkg-config --cflags gw)"
read -r -a libs <<<"$(pkg-config --libs gw)"
# The static library: what --static names, with libgw.a in place of -lgw.
read -r -a static_libs <<<"$(pkg-config --static --libs gw | sed 's/-lgw\b/-l:libgw.a/')"

# run_program NAME: runs $work/NAME in negotiated mode and in a fixed mode.
run_program() {
  local exe=$work/$1 mode out hashes
  for mode in "" Noise_XX_25519_ChaChaPoly_SHA256; do
    out=$work/$1${mode:+-fixed}.out
    if ! LD_LIBRARY_PATH=$tmp$libdir timeout 30 "$exe" ${mode:+"$mode"} >"$out" 2>&1; then
      sed 's/^/  | /' "$out"
      fail "$1 ${mode:-(negotiated)} did not exit 0"
      continue
    fi
    hashes=$(sed -n 's/^\(initiator\|responder\): handshake hash //p' "$out" | sort -u)
    if [ "$(grep -c 'handshake hash' "$out")" -ne 2 ] || [ "$(printf '%s\n' "$hashes" | wc -l)" -ne 1 ]; then
      sed 's/^/  | /' "$out"
      fail "$1 ${mode:-(negotiated)}: the two sides do not print one and the same handshake hash"
    elif [ -n "$mode" ] && ! grep -q "^initiator: protocol $mode\$" "$out"; then
      sed 's/^/  | /' "$out"
      fail "$1 $mode: the channel does not report the protocol it was given"
    else
      ok "$1 ${mode:-(negotiated)} exits 0: $(sed -n 's/^initiator: protocol //p' "$out"), hash $hashes"
    fi
  done
}

if g++ -std=c++20 -Wall -Wextra "${cflags[@]}" "$program" -o "$work/program-shared" "${libs[@]}" \
  >"$work/build-shared.log" 2>&1; then
  ok "the example builds with pkg-config --cflags --libs gw"
  if readelf -d "$work/program-shared" | grep -q 'NEEDED.*\[libgw\.so\.0\]'; then
    ok "program-shared needs libgw.so.0"
  else
    fail "program-shared does not link libgw.so.0: $(readelf -d "$work/program-shared" | grep NEEDED | tr -s ' ')"
  fi
  run_program program-shared
else
  cat "$work/build-shared.log"
  fail "g++ ${cflags[*]} $program ${libs[*]}"
fi

if g++ -std=c++20 -Wall -Wextra "${cflags[@]}" "$program" -o "$work/program-static" "${static_libs[@]}" \
  >"$work/build-static.log" 2>&1; then
  ok "the example builds with pkg-config --static --libs gw (libgw.a)"
  if readelf -d "$work/program-static" | grep -q 'NEEDED.*libgw'; then
    fail "program-static still needs a shared libgw"
  else
    ok "program-static needs no shared libgw"
  fi
  run_program program-static
else
  cat "$work/build-static.log"
  fail "g++ ${cflags[*]} $program ${static_libs[*]}"
fi

# docs/LIBRARY.md shows the example whole: the ```cpp block after its marker
# comment must be PROGRAM_CPP, line for line.
doc=$(dirname "$program")/../../docs/LIBRARY.md
if [ ! -f "$doc" ]; then
  fail "docs/LIBRARY.md not found beside $program"
elif awk '/^<!-- tests\/lib\/install_test.sh checks/ { m = 1; next }
          m == 1 && /^```cpp$/ { m = 2; next }
          m == 2 && /^```$/ { exit }
          m == 2 { print }' "$doc" | diff -u - "$program" >"$work/doc.diff"; then
  ok "docs/LIBRARY.md shows $(basename "$program") as it is"
else
  sed 's/^/  | /' "$work/doc.diff" | head -40
  fail "the example in docs/LIBRARY.md differs from $program (diff: - doc, + file)"
fi

# --- exported symbols ---------------------------------------------------------
# Every defined dynamic symbol of libgw.so belongs to the API of gw.hpp.
allowed=('gw::library_version' 'gw::to_string(gw::Errc)' 'gw::to_base64' 'gw::to_hex' 'gw::parse_key'
  'gw::parse_hex' 'gw::load_public_key' 'gw::Identity::' 'gw::Psk::' 'gw::Trust::' 'gw::Handshake::'
  'gw::Channel::')
internal=('gw::noise::' 'gw::crypto::' 'gw::identity::' 'gw::session::' 'gw::wire::' '::Impl')
if [ -f "$so" ]; then
  # "ADDRESS TYPE NAME@@VERSION", demangled; the version node GW_0 itself is an A symbol.
  nm -D --defined-only "$so" | c++filt | sed -E 's/^[0-9a-fA-F]* +[A-Za-z] +//' | grep -vx 'GW_0' \
    >"$work/symbols" || true
  count=0 offenders=() unversioned=()
  while IFS= read -r line; do
    count=$((count + 1))
    name=${line%@@*}
    if [ "$name" = "$line" ] || [ "${line##*@@}" != GW_0 ]; then unversioned+=("$line"); fi
    good=0
    for p in "${allowed[@]}"; do
      if [ "${name#"$p"}" != "$name" ]; then good=1; fi
    done
    for p in "${internal[@]}"; do
      case $name in *"$p"*) good=0 ;; esac
    done
    # The standard library's code: a name (before its parameters) in std::.
    case ${name%%(*} in *std::*) good=0 ;; esac
    [ "$good" = 1 ] || offenders+=("$name")
  done <"$work/symbols"
  if [ "$count" -eq 0 ]; then
    fail "libgw.so.0 exports no symbols"
  elif [ "${#offenders[@]}" -ne 0 ]; then
    fail "libgw.so.0 exports ${#offenders[@]} of its $count symbols outside gw.hpp's API:"
    printf '  %s\n' "${offenders[@]}"
  else
    ok "libgw.so.0 exports $count symbols, all gw.hpp's API"
  fi
  if [ "${#unversioned[@]}" -ne 0 ]; then
    fail "${#unversioned[@]} exported symbols lack version GW_0:"
    printf '  %s\n' "${unversioned[@]}"
  elif [ "$count" -ne 0 ]; then
    ok "every exported symbol has version GW_0"
  fi
fi

echo "installed files:"
(cd "$tmp" && find . \( -type f -o -type l \) | sort | sed 's/^\./  /')
if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
