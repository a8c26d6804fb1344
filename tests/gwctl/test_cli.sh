#!/usr/bin/env bash
# `[[ test ]] && pass || fail` is safe here: pass always succeeds.
# shellcheck disable=SC2015
# gwctl's control commands against a fake gwd: socat serves each socket and
# hands every connection to a bash responder that logs the request line it got
# and answers a canned reply. Checks what gwctl prints, what it sends, its
# exit codes and its one-line errors. Skipped (77) without socat.
#   test_cli.sh GWCTL
set -uo pipefail
gwctl=${1:?usage: test_cli.sh GWCTL}
if ! command -v socat >/dev/null; then
  echo "skip: socat is not installed"
  exit 77
fi

dir=$(mktemp -d)
run=$dir/run
mkdir -p "$run"
socat_pids=()
cleanup() {
  local pid
  for pid in "${socat_pids[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$dir"
}
trap cleanup EXIT
export GW_RUN_DIR=$run

# The responder of interface $1: logs the request, answers $dir/reply.$1.
cat >"$dir/responder" <<EOF
#!/usr/bin/env bash
IFS= read -r line || exit 0
printf '%s\n' "\$line" >>"$dir/requests.\$1"
[[ -f "$dir/delay.\$1" ]] && sleep "\$(cat "$dir/delay.\$1")"
cat "$dir/reply.\$1"
EOF
chmod +x "$dir/responder"

# serve IFACE: a fake gwd for IFACE in the run dir.
serve() {
  : >"$dir/requests.$1"
  socat UNIX-LISTEN:"$run/$1.sock",fork EXEC:"$dir/responder $1" &
  socat_pids+=($!)
  for _ in $(seq 100); do
    [[ -S $run/$1.sock ]] && return
    sleep 0.05
  done
  echo "FAIL: socat did not create $run/$1.sock"
  exit 1
}
reply() { printf '%s\n' "$2" >"$dir/reply.$1"; }
last_request() { tail -n 1 "$dir/requests.$1"; }
request_count() { wc -l <"$dir/requests.$1"; }

failed=0
pass() { echo "ok: $1"; }
fail() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}

# gw ARGS...: runs gwctl with stdin from $STDIN (default /dev/null); sets
# rc, out, err.
gw() {
  "$gwctl" "$@" <"${STDIN:-/dev/null}" >"$dir/out" 2>"$dir/err"
  rc=$?
  out=$(cat "$dir/out")
  err=$(cat "$dir/err")
}
# expect NAME RC [STDOUT]: checks the last run's exit code and, if given, stdout.
expect() {
  local name=$1 want_rc=$2
  if [[ $rc -ne $want_rc ]]; then
    fail "$name: exit $rc, expected $want_rc (stderr: $err)"
  elif [[ $# -ge 3 && $out != "$3" ]]; then
    fail "$name: stdout differs:"$'\n'"--- got"$'\n'"$out"$'\n'"--- expected"$'\n'"$3"
  else
    pass "$name"
  fi
}
# expect_err NAME LINE: stderr is exactly LINE.
expect_err() {
  if [[ $err == "$2" ]]; then pass "$1"; else fail "$1: stderr '$err', expected '$2'"; fi
}
# expect_usage NAME ARGS...: exit 2, one stderr line starting "gwctl: ", nothing sent.
expect_usage() {
  local name=$1
  shift
  local before
  before=$(request_count gw0)
  gw "$@"
  if [[ $rc -ne 2 ]]; then
    fail "$name: exit $rc, expected 2 (stderr: $err)"
  elif [[ $err != gwctl:\ * || $(wc -l <"$dir/err") -ne 1 ]]; then
    fail "$name: stderr is not one 'gwctl: ' line: '$err'"
  elif [[ $(request_count gw0) -ne $before ]]; then
    fail "$name: a request was sent"
  else
    pass "$name ($err)"
  fi
}

key_a=$("$gwctl" genkey | "$gwctl" pubkey)
key_b=$("$gwctl" genkey | "$gwctl" pubkey)
psk=$("$gwctl" genpsk)
time=1795000000

serve gw0
serve gw1

# --- show
reply gw0 '{"version":1,"ok":true,"interface":{"name":"gw0","public_key":"'"$key_a"'","listen_port":51820,"mtu":1420,"addresses":["10.77.0.1/24","fd77::1/64"],"suites":["ChaChaPoly_BLAKE2b","ChaChaPoly_SHA256"],"full_tunnel":false},"time":'$time',"peers":[{"name":"laptop","public_key":"KC","endpoint":null,"configured_endpoint":null,"allowed_ips":["10.77.0.3/32"],"persistent_keepalive":0,"psk":false,"session":false,"latest_handshake":0,"rx_bytes":0,"tx_bytes":0,"rx_packets":0,"tx_packets":0,"handshakes":0,"suite":null},{"name":"site-b","public_key":"'"$key_b"'","endpoint":"192.0.2.2:51820","configured_endpoint":"192.0.2.2:51820","allowed_ips":["10.2.0.0/24","fd02::/64"],"persistent_keepalive":25,"psk":true,"session":true,"latest_handshake":'$((time - 65))',"rx_bytes":1268777,"tx_bytes":3758096384,"rx_packets":8,"tx_packets":9,"handshakes":1,"suite":"ChaChaPoly_BLAKE2b"}],"counters":{"dropped":{"bad_mac1":0,"replay":2},"handshakes_failed":{"unknown_peer":1,"timeout":0},"cookie_replies_sent":0,"sessions_active":1},"future_member":"kept"}'
show_gw0="interface: gw0
  public key: $key_a
  listening port: 51820
  addresses: 10.77.0.1/24, fd77::1/64
  suites: ChaChaPoly_BLAKE2b, ChaChaPoly_SHA256

peer: site-b
  public key: $key_b
  preshared key: (hidden)
  endpoint: 192.0.2.2:51820
  allowed ips: 10.2.0.0/24, fd02::/64
  latest handshake: 1 minute, 5 seconds ago
  transfer: 1.21 MiB received, 3.50 GiB sent
  suite: ChaChaPoly_BLAKE2b
  persistent keepalive: every 25 seconds

peer: laptop
  public key: KC
  allowed ips: 10.77.0.3/32"
gw show gw0
expect "show gw0" 0 "$show_gw0"
[[ $(last_request gw0) == '{"command":"show","version":1}' ]] && pass "show request" ||
  fail "show request: $(last_request gw0)"

gw show gw0 --json
expect "show gw0 --json" 0
if [[ $out == '{'* && $out == *'"interface": {'* && $out == *'"peers": ['* &&
  $out == *'"counters": {'* && $out == *'"time": 1795000000'* &&
  $out == *'"future_member": "kept"'* && $out != *'"ok"'* && $out != *'"version"'* ]]; then
  pass "show --json is the reply without version and ok"
else
  fail "show --json: $out"
fi

reply gw1 '{"version":1,"ok":true,"interface":{"name":"gw1","public_key":"K1","listen_port":51821,"mtu":1420,"addresses":[],"suites":["ChaChaPoly_BLAKE2b"],"full_tunnel":false},"time":'$time',"peers":[],"counters":{"dropped":{},"handshakes_failed":{},"cookie_replies_sent":0,"sessions_active":0}}'
show_gw1="interface: gw1
  public key: K1
  listening port: 51821
  suites: ChaChaPoly_BLAKE2b"
: >"$run/not-a-socket.sock"
gw show
expect "show (every interface, sorted; files that are not sockets ignored)" 0 \
  "$show_gw0"$'\n\n'"$show_gw1"
gw show --json
expect "show --json (every interface)" 0
[[ $out == '['* && $out == *'"name": "gw0"'*'"name": "gw1"'* ]] && pass "show --json is an array" ||
  fail "show --json (every interface): $out"

gw --run-dir "$dir/empty" show
expect "show with no run dir prints nothing" 0 ""
gw show --json --run-dir "$dir/empty"
expect "show --json with nothing running prints []" 0 "[]"

# --- the clear error when there is no gwd
gw show gw9
expect "show of an interface without gwd" 1 ""
expect_err "no socket" "gwctl: cannot reach gwd for gw9 at $run/gw9.sock: No such file or directory (is gwd running?)"
GW_RUN_DIR=$dir/elsewhere gw peer list gw0
expect "GW_RUN_DIR is honoured" 1
[[ $err == *"$dir/elsewhere/gw0.sock"* ]] && pass "GW_RUN_DIR names the socket" || fail "GW_RUN_DIR: $err"

# --- error replies and broken replies
reply gw0 '{"version":1,"ok":false,"error":"not_found","message":"no peer named or keyed \"laptop\""}'
gw peer remove gw0 laptop
expect "error reply" 1 ""
expect_err "error reply message" 'gwctl: no peer named or keyed "laptop"'
[[ $(last_request gw0) == '{"command":"peer.remove","peer":"laptop","version":1}' ]] &&
  pass "peer remove request" || fail "peer remove request: $(last_request gw0)"

reply gw0 'this is not json'
gw show gw0
expect "a reply that is not JSON" 1 ""
[[ $err == "gwctl: gwd for gw0 ($run/gw0.sock) sent something that is not a control reply" ]] &&
  pass "not-JSON message" || fail "not-JSON message: $err"

reply gw0 '{"version":1,"ok":true,"interface":{}}'
gw show gw0
expect "a show reply that does not parse" 1 ""
[[ $err == "gwctl: gwd for gw0 sent a show reply gwctl cannot read: "* && $err != *$'\n'* ]] &&
  pass "unreadable show message" || fail "unreadable show message: $err"

# --- peer list
reply gw0 '{"version":1,"ok":true,"peers":[{"name":"site-b","public_key":"'"$key_b"'","endpoint":"192.0.2.2:51820","allowed_ips":["10.2.0.0/24","fd02::/64"],"persistent_keepalive":25,"psk":true},{"name":"laptop","public_key":"KC","endpoint":null,"allowed_ips":[],"persistent_keepalive":0,"psk":false}]}'
gw peer list gw0
expect "peer list" 0 "site-b	$key_b	192.0.2.2:51820	10.2.0.0/24,fd02::/64
laptop	KC	(none)	(none)"
gw peer list gw0 --json
expect "peer list --json" 0
[[ $out == '['* && $out == *'"name": "laptop"'* && $out != *'"ok"'* ]] && pass "peer list --json is the array" ||
  fail "peer list --json: $out"

# --- peer add: what is sent
reply gw0 '{"version":1,"ok":true,"peer":"b"}'
printf '%s\n' "$psk" >"$dir/psk-stdin"
STDIN=$dir/psk-stdin gw peer add gw0 b --public-key "$key_b" --endpoint 192.0.2.7:51820 \
  --allowed-ips "10.2.0.0/24, fd02::/64" --persistent-keepalive 25 --psk-file -
expect "peer add" 0 ""
want='{"command":"peer.add","peer":{"allowed_ips":["10.2.0.0/24","fd02::/64"],"endpoint":"192.0.2.7:51820","name":"b","persistent_keepalive":25,"psk":"'$psk'","public_key":"'$key_b'"},"version":1}'
[[ $(last_request gw0) == "$want" ]] && pass "peer add request (PSK from stdin, as base64)" ||
  fail "peer add request: $(last_request gw0)"$'\n'"expected: $want"
expect_usage "a PSK is never a command-line value" peer add gw0 b --public-key "$key_b" --psk "$psk"
[[ $err != *"$psk"* ]] && pass "the stray PSK is not echoed" || fail "the stray PSK is echoed: $err"

umask 077
printf '%s\n' "$key_a" >"$dir/a.pub"
printf '%s\n' "$psk" >"$dir/a.psk"
gw peer add gw0 a --public-key-file "$dir/a.pub" --psk-file "$dir/a.psk"
expect "peer add with key files" 0 ""
want='{"command":"peer.add","peer":{"name":"a","psk":"'$psk'","public_key":"'$key_a'"},"version":1}'
[[ $(last_request gw0) == "$want" ]] && pass "peer add request from files" ||
  fail "peer add request from files: $(last_request gw0)"
STDIN=$dir/a.pub gw peer add gw0 a --public-key-file - --allowed-ips ""
expect "peer add with the public key on stdin" 0 ""
want='{"command":"peer.add","peer":{"allowed_ips":[],"name":"a","public_key":"'$key_a'"},"version":1}'
[[ $(last_request gw0) == "$want" ]] && pass "peer add request from stdin" ||
  fail "peer add request from stdin: $(last_request gw0)"

chmod 644 "$dir/a.psk"
before=$(request_count gw0)
gw peer add gw0 a --public-key "$key_a" --psk-file "$dir/a.psk"
expect "a PSK file others can read is refused" 1 ""
[[ $err == "gwctl: peer add: "*"$dir/a.psk"* && $(request_count gw0) -eq $before ]] &&
  pass "PSK file error names the file, nothing sent" || fail "PSK file error: $err"
gw peer add gw0 a --public-key-file "$dir/missing.pub"
expect "a missing public key file" 1 ""
echo "not a key" >"$dir/bad-stdin"
STDIN=$dir/bad-stdin gw peer add gw0 a --public-key "$key_a" --psk-file -
expect "a bad PSK on stdin" 1 ""
expect_err "bad PSK on stdin message" "gwctl: peer add: expected a base64 pre-shared key of 32 bytes on stdin"

# --- peer set
reply gw0 '{"version":1,"ok":true,"peer":"b"}'
gw peer set gw0 b --no-endpoint --persistent-keepalive off --allowed-ips 10.9.0.0/16
expect "peer set" 0 ""
want='{"command":"peer.set","peer":"b","set":{"allowed_ips":["10.9.0.0/16"],"endpoint":null,"persistent_keepalive":0},"version":1}'
[[ $(last_request gw0) == "$want" ]] && pass "peer set request" || fail "peer set request: $(last_request gw0)"
chmod 600 "$dir/a.psk"
gw peer set gw0 "$key_b" --psk-file "$dir/a.psk" --endpoint "[2001:db8::1]:51820"
want='{"command":"peer.set","peer":"'$key_b'","set":{"endpoint":"[2001:db8::1]:51820","psk":"'$psk'"},"version":1}'
[[ $rc -eq 0 && $(last_request gw0) == "$want" ]] && pass "peer set by public key" ||
  fail "peer set by public key: rc $rc $(last_request gw0)"
gw peer set gw0 b --no-psk
[[ $rc -eq 0 && $(last_request gw0) == '{"command":"peer.set","peer":"b","set":{"psk":null},"version":1}' ]] &&
  pass "peer set --no-psk" || fail "peer set --no-psk: rc $rc $(last_request gw0)"

# --- reload
reply gw0 '{"version":1,"ok":true,"added":["a","b"],"removed":["c"],"changed":[],"restart_required":[]}'
gw reload gw0
expect "reload" 0 "added: a, b
removed: c"
[[ $(last_request gw0) == '{"command":"reload","version":1}' ]] && pass "reload request" ||
  fail "reload request: $(last_request gw0)"
reply gw0 '{"version":1,"ok":true,"added":[],"removed":[],"changed":[],"restart_required":["listen_port","mtu"]}'
gw reload gw0
expect "reload that needs a restart" 1 "no changes"
expect_err "reload restart message" "gwctl: reload: applied; these need a restart of gwd: listen_port, mtu"

# --- version
reply gw0 '{"version":1,"ok":true,"protocol":1,"gwd":"0.1.0"}'
gw version gw0
[[ $rc -eq 0 && $out == "gwctl "*$'\n'"gwd 0.1.0 (gw0, control protocol 1)" ]] && pass "version gw0" ||
  fail "version gw0: rc $rc: $out"
gw version
[[ $rc -eq 0 && $out == "gwctl "* && $out != *$'\n'* ]] && pass "version" || fail "version: $out"

# --- a show of 10,000 peers (a few MB) arrives whole
{
  printf '{"version":1,"ok":true,"interface":{"name":"gw0","public_key":"K","listen_port":1,"mtu":1420,"addresses":[],"suites":[],"full_tunnel":false},"time":%s,"peers":[' $time
  for i in $(seq 10000); do
    ((i > 1)) && printf ','
    printf '{"name":"peer-%05d","public_key":"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=","endpoint":"198.51.100.1:51820","configured_endpoint":null,"allowed_ips":["10.%d.%d.0/24","fd00:%x::/64"],"persistent_keepalive":25,"psk":true,"session":true,"latest_handshake":%d,"rx_bytes":123456789,"tx_bytes":987654321,"rx_packets":1000,"tx_packets":2000,"handshakes":3,"suite":"ChaChaPoly_BLAKE2b"}' \
      "$i" $((i / 256)) $((i % 256)) "$i" $((time - i))
  done
  printf '],"counters":{"dropped":{},"handshakes_failed":{},"cookie_replies_sent":0,"sessions_active":10000}}\n'
} >"$dir/reply.gw0"
gw show gw0
peers=$(grep -c '^peer: ' "$dir/out")
first=$(grep -m1 '^peer: ' "$dir/out")
[[ $rc -eq 0 && $peers -eq 10000 && $first == "peer: peer-00001" ]] &&
  pass "show of 10,000 peers ($(wc -c <"$dir/reply.gw0") bytes)" ||
  fail "show of 10,000 peers: rc $rc, $peers peers, first '$first', $err"

# --- a gwd that takes its time: --timeout (and GW_TIMEOUT) bound every wait
serve slow
reply slow '{"version":1,"ok":true,"gwd":"9.9","protocol":1}'
echo 2 >"$dir/delay.slow"
gw --timeout 1 version slow
expect "--timeout 1 against a gwd answering after 2 s" 1
expect_err "--timeout names the wait" "gwctl: gwd for slow ($run/slow.sock) did not answer within 1 s (gwctl --timeout waits longer)"
GW_TIMEOUT=1 gw version slow
expect "GW_TIMEOUT=1 likewise" 1
gw version slow --timeout 30
expect "--timeout 30 waits for the answer" 0 "gwctl $("$gwctl" --version | cut -d' ' -f2)
gwd 9.9 (slow, control protocol 1)"
rm -f "$dir/delay.slow"

# --- usage errors: exit 2, one line, nothing sent
expect_usage "--timeout 0" --timeout 0 show gw0
expect_usage "--timeout of text" show gw0 --timeout soon
expect_usage "--timeout over a day" --timeout 86401 show gw0
expect_usage "no subcommand"
expect_usage "unknown subcommand" frobnicate
expect_usage "peer without a subcommand" peer
expect_usage "unknown option" show gw0 --bogus
expect_usage "missing IFACE" peer list
expect_usage "missing IFACE (reload)" reload
expect_usage "bad interface name" show ../etc
expect_usage "missing NAME" peer add gw0
expect_usage "missing public key" peer add gw0 b
expect_usage "bad public key" peer add gw0 b --public-key abc
expect_usage "bad peer name" peer add gw0 'b c' --public-key "$key_b"
expect_usage "both key options" peer add gw0 b --public-key "$key_b" --public-key-file "$dir/a.pub"
expect_usage "bad keepalive" peer add gw0 b --public-key "$key_b" --persistent-keepalive 70000
expect_usage "bad keepalive (text)" peer set gw0 b --persistent-keepalive soon
expect_usage "bad endpoint" peer add gw0 b --public-key "$key_b" --endpoint 192.0.2.1
expect_usage "bad allowed ips" peer set gw0 b --allowed-ips 10.0.0.0/24,nonsense
expect_usage "peer set without a change" peer set gw0 b
expect_usage "--endpoint with --no-endpoint" peer set gw0 b --endpoint 192.0.2.1:1 --no-endpoint
expect_usage "--psk-file with --no-psk" peer set gw0 b --psk-file "$dir/a.psk" --no-psk
expect_usage "bad peer reference" peer remove gw0 'no/such=peer'
expect_usage "extra argument" reload gw0 gw1
expect_usage "both files on stdin" peer add gw0 b --public-key-file - --psk-file -

echo "gwctl_cli_test: $failed failed"
[[ $failed -eq 0 ]]
