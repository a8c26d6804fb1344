#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# examples/noise-echo over TCP on 127.0.0.1: the echo works for every XX
# suite, XXpsk3, NN, IK and the one-way X; both sides print the same
# handshake hash and each other's static key; a wrong peer key, PSK or
# prologue fails both sides; a silent peer times out; usage errors exit 2.
#
# usage: echo_test.sh CLIENT SERVER
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 CLIENT SERVER" >&2
  exit 2
fi
client=$1
server=$2

tmp=$(mktemp -d)
# Hang guards (never what a check measures) stretch with the build's time factor.
f=${GW_TEST_TIME_FACTOR:-1}
guard=$((20 * f))
wait_s=$((5 * f))
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# A private key or PSK file: base64 of 32 random bytes, mode 0600.
secret_file() {
  python3 -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())' >"$1"
  chmod 600 "$1"
}

# The value of the first "NAME: value" line of a file.
field() { sed -n "s/^$2: //p" "$1" | head -n 1; }

# The key a side printed at start, as its peer prints it: "none" without one.
local_key() {
  local key
  key=$(field "$1" "local static key")
  echo "${key:-none}"
}

# start_server NAME ARGS...: runs the server on a port the OS picks, with
# output in $tmp/NAME.sout and .serr; sets spid and port. Fails if no
# "listening on" line shows up within 10 s (stretched by the time factor).
start_server() {
  local name=$1
  shift
  : >"$tmp/$name.sout"  # exists before the loop below reads it
  timeout "$guard" "$server" --port 0 --timeout "$wait_s" "$@" >"$tmp/$name.sout" 2>"$tmp/$name.serr" &
  spid=$!
  pids+=("$spid")
  port=
  for _ in $(seq $((100 * f))); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.sout")
    [[ -n $port ]] && return 0
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  bad "$name: the server did not start: $(cat "$tmp/$name.serr")"
  return 1
}

# run_pair NAME "SERVER ARGS" "CLIENT ARGS": one connection, the client's
# stdin from $tmp/messages; sets crc and src, the exit codes.
run_pair() {
  local name=$1
  crc=-1
  src=-1
  # shellcheck disable=SC2086  # the argument lists are split on purpose
  start_server "$name" $2 || return 1
  # shellcheck disable=SC2086
  timeout "$guard" "$client" --port "$port" --timeout "$wait_s" $3 <"$tmp/messages" \
    >"$tmp/$name.cout" 2>"$tmp/$name.cerr"
  crc=$?
  wait "$spid"
  src=$?
}

# check_echo NAME HASH_HEX_LENGTH: both sides succeeded, every message came
# back, and both sides agree on the handshake hash and each other's keys.
check_echo() {
  local name=$1 hash_len=$2 c=$tmp/$1.cout s=$tmp/$1.sout
  if [[ $crc -ne 0 || $src -ne 0 ]]; then
    bad "$name: client exit $crc, server exit $src: $(cat "$tmp/$name.cerr" "$tmp/$name.serr")"
    return
  fi
  local echoed sent hash
  echoed=$(grep -c '^echo: ' "$c")
  sent=$(grep -c '' "$tmp/messages")
  hash=$(field "$c" "handshake hash")
  if [[ $echoed -ne $sent ]] || [[ $(grep -c '^echoed ' "$s") -ne $sent ]]; then
    bad "$name: $echoed of $sent messages echoed"
  elif ! cmp -s <(sed -n 's/^echo: //p' "$c") "$tmp/messages"; then
    bad "$name: the echoed text differs from the messages"
  elif [[ ${#hash} -ne $hash_len || $hash != "$(field "$s" "handshake hash")" ]]; then
    bad "$name: handshake hashes '$hash' and '$(field "$s" "handshake hash")'"
  elif [[ $(field "$c" "remote static key") != "$(local_key "$s")" ||
    $(field "$s" "remote static key") != "$(local_key "$c")" ]]; then
    bad "$name: the static keys each side proved differ from the keys the other printed"
  else
    ok "$name: $sent messages echoed, same handshake hash, keys match"
  fi
}

# check_failed NAME PATTERN: both sides failed with status 1, the client
# echoed nothing, and PATTERN occurs in what the two sides printed on stderr.
check_failed() {
  local name=$1 pattern=$2
  if [[ $crc -ne 1 || $src -ne 1 ]]; then
    bad "$name: client exit $crc, server exit $src (wanted 1 and 1)"
  elif grep -q '^echo: ' "$tmp/$name.cout"; then
    bad "$name: a message was echoed"
  elif ! grep -q "$pattern" "$tmp/$name.cerr" "$tmp/$name.serr"; then
    bad "$name: no '$pattern' in: $(cat "$tmp/$name.cerr" "$tmp/$name.serr")"
  else
    ok "$name: both sides failed ($(head -n 1 "$tmp/$name.cerr"))"
  fi
}

# Messages: words, an empty one, and one of 60,000 bytes.
{
  printf 'hello\n\nworld, with spaces\n'
  python3 -c 'print("x" * 60000)'
} >"$tmp/messages"
for k in ckey skey other psk1 psk2; do
  secret_file "$tmp/$k"
done
keys="--static-key $tmp/skey"
ckeys="--static-key $tmp/ckey"

# Every XX suite. The first runs on defaults: no protocol named, fresh keys.
run_pair xx-default "" ""
check_echo xx-default 128
aes=0
grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo && aes=1
for cipher in ChaChaPoly AESGCM; do
  for hash in BLAKE2b SHA256 SHA512; do
    p=Noise_XX_25519_${cipher}_${hash}
    if [[ $cipher == AESGCM && $aes -eq 0 ]]; then
      echo "ok: $p skipped: the CPU lacks AES-NI or PCLMULQDQ"
      continue
    fi
    run_pair "$p" "--protocol $p $keys" "--protocol $p $ckeys"
    [[ $hash == SHA256 ]] && len=64 || len=128
    check_echo "$p" "$len"
  done
done

p=Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b
run_pair xxpsk3 "--protocol $p $keys --psk $tmp/psk1" "--protocol $p $ckeys --psk $tmp/psk1"
check_echo xxpsk3 128

# NN authenticates nobody: no keys on either side, "remote static key: none".
p=Noise_NN_25519_ChaChaPoly_SHA256
run_pair nn "--protocol $p --prologue 0a0B" "--protocol $p --prologue 0A0b"
check_echo nn 64
if [[ $(field "$tmp/nn.cout" "remote static key") == none &&
  $(field "$tmp/nn.sout" "remote static key") == none ]]; then
  ok "nn: neither side claims to know the other's key"
else
  bad "nn: a remote static key printed for NN"
fi

# IK: the client must be given the server's key in advance.
p=Noise_IK_25519_ChaChaPoly_BLAKE2b
# shellcheck disable=SC2086
start_server ik-key --protocol "$p" $keys && kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
server_key=$(field "$tmp/ik-key.sout" "local static key (base64)")
run_pair ik "--protocol $p $keys" "--protocol $p $ckeys --remote-key $server_key"
check_echo ik 128
timeout "$guard" "$client" --protocol "$p" --port 1 </dev/null >/dev/null 2>"$tmp/ik-nokey.cerr"
rc=$?
if [[ $rc -eq 2 && $(wc -l <"$tmp/ik-nokey.cerr") -eq 1 ]]; then
  ok "ik without --remote-key: exit 2 ($(cat "$tmp/ik-nokey.cerr"))"
else
  bad "ik without --remote-key: exit $rc: $(cat "$tmp/ik-nokey.cerr")"
fi

# X is one-way: the server opens the messages and cannot answer.
p=Noise_X_25519_ChaChaPoly_SHA512
run_pair x "--protocol $p $keys" "--protocol $p $ckeys --remote-key $server_key"
sent=$(grep -c '' "$tmp/messages")
if [[ $crc -eq 0 && $src -eq 0 && $(grep -c '^sent: ' "$tmp/x.cout") -eq $sent &&
  $(grep -c '^received: ' "$tmp/x.sout") -eq $sent &&
  $(field "$tmp/x.sout" "remote static key") == "$(field "$tmp/x.cout" "local static key")" ]]; then
  ok "one-way x: $sent messages received"
else
  bad "one-way x: client exit $crc, server exit $src: $(cat "$tmp/x.cerr" "$tmp/x.serr")"
fi

# The client admits another key only: it refuses the server's.
other_key=$(python3 -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())')
run_pair wrong-key "$keys" "$ckeys --remote-key $other_key"
check_failed wrong-key peer_refused

p=Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b
run_pair wrong-psk "--protocol $p $keys --psk $tmp/psk1" "--protocol $p $ckeys --psk $tmp/psk2"
check_failed wrong-psk authentication_failed

run_pair wrong-prologue "--prologue 01" "--prologue 02"
check_failed wrong-prologue authentication_failed

# A server that accepts and never answers: the client gives up.
python3 -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
time.sleep(20)' >"$tmp/stall.port" &
stall=$!
pids+=("$stall")
for _ in $(seq 100); do
  [[ -s $tmp/stall.port ]] && break
  sleep 0.1
done
timeout "$guard" "$client" --port "$(cat "$tmp/stall.port")" --timeout 2 --message hi \
  >/dev/null 2>"$tmp/stall.cerr"
rc=$?
kill "$stall" 2>/dev/null
if [[ $rc -eq 1 ]] && grep -q 'timed out' "$tmp/stall.cerr"; then
  ok "silent server: client exit 1 ($(cat "$tmp/stall.cerr"))"
else
  bad "silent server: client exit $rc: $(cat "$tmp/stall.cerr")"
fi

# A client that connects and sends nothing: the server gives up.
if start_server silent-client --timeout 2; then
  python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(20)' "$port" &
  silent=$!
  pids+=("$silent")
  wait "$spid"
  rc=$?
  kill "$silent" 2>/dev/null
  if [[ $rc -eq 1 ]] && grep -q 'timed out' "$tmp/silent-client.serr"; then
    ok "silent client: server exit 1 ($(cat "$tmp/silent-client.serr"))"
  else
    bad "silent client: server exit $rc: $(cat "$tmp/silent-client.serr")"
  fi
fi

# Usage errors: exit 2 and one line on stderr, before any connection.
usage_error() {
  local name=$1
  shift
  timeout "$guard" "$client" --port 1 "$@" </dev/null >/dev/null 2>"$tmp/usage.err"
  local rc=$?
  if [[ $rc -eq 2 && $(wc -l <"$tmp/usage.err") -eq 1 ]]; then
    ok "$name: exit 2 ($(cat "$tmp/usage.err"))"
  else
    bad "$name: exit $rc: $(cat "$tmp/usage.err")"
  fi
}
usage_error "unknown protocol" --protocol Noise_ZZ_25519_ChaChaPoly_BLAKE2b
usage_error "unsupported curve" --protocol Noise_XX_448_ChaChaPoly_BLAKE2b
usage_error "bad key text" --remote-key not-a-key
usage_error "bad prologue" --prologue 0g
usage_error "unknown option" --frobnicate
timeout "$guard" "$server" --port 0 --protocol Noise_ZZ_25519_ChaChaPoly_BLAKE2b \
  >/dev/null 2>"$tmp/usage.err"
rc=$?
if [[ $rc -eq 2 ]]; then
  ok "server, unknown protocol: exit 2 ($(cat "$tmp/usage.err"))"
else
  bad "server, unknown protocol: exit $rc: $(cat "$tmp/usage.err")"
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all noise-echo checks passed"
