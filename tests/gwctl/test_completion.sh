#!/usr/bin/env bash
# completions/gwctl.bash: sources it and checks COMPREPLY for typed command
# lines. Interfaces come from a fake run dir; peer names from a fake gwd
# (socat answering peer.list) when socat is installed, else that part is skipped.
#   test_completion.sh COMPLETION_FILE GWCTL
set -uo pipefail
completion=${1:?usage: test_completion.sh COMPLETION_FILE GWCTL}
gwctl=${2:?usage: test_completion.sh COMPLETION_FILE GWCTL}

dir=$(mktemp -d)
socat_pid=
cleanup() {
  [[ -n $socat_pid ]] && kill "$socat_pid" 2>/dev/null && wait "$socat_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# shellcheck source=/dev/null
source "$completion"

failed=0
# check EXPECTED WORD...: the completion of the last WORD (the one being typed).
check() {
  local expected=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _gwctl
  local got="${COMPREPLY[*]}"
  if [[ $got == "$expected" ]]; then
    echo "ok: '$*' -> '$got'"
  else
    echo "FAIL: '$*': expected '$expected', got '$got'"
    failed=$((failed + 1))
  fi
}

mkdir -p "$dir/run" "$dir/other" "$dir/keys"
: >"$dir/run/gw0.sock"
: >"$dir/run/gw1.sock"
: >"$dir/run/notes.txt"
: >"$dir/other/wan.sock"
: >"$dir/keys/b.psk"
export GW_RUN_DIR=$dir/run

check 'genkey pubkey genpsk show peer reload version ca cert' gwctl ''
check 'show' gwctl sh
check 'pubkey peer' gwctl p
check '--help --help-all --version --run-dir --timeout' gwctl --
check 'list add remove set' gwctl peer ''
check 'remove' gwctl peer re
check 'gw0 gw1' gwctl show ''
check 'gw1' gwctl reload gw1
check 'gw0 gw1' gwctl version ''
check 'gw0 gw1' gwctl peer list ''
check '--certified' gwctl peer list gw0 --c
check 'gw0 gw1' gwctl peer add ''
check '' gwctl show gw0 ''
check '' gwctl peer add gw0 ''
check '--json --help --run-dir --timeout' gwctl show --
check '--no-endpoint --no-psk' gwctl peer set gw0 b --no-
check '--public-key --public-key-file' gwctl peer add gw0 b --public-k
check '--persistent-keepalive' gwctl peer add gw0 b --endpoint 192.0.2.1:51820 --pers
check '' gwctl peer add gw0 b --endpoint ''
check "$dir/keys/b.psk" gwctl peer add gw0 b --psk-file "$dir/keys/b"
# Certificates: subcommands, options, and files where files go.
: >"$dir/keys/ca.key"
: >"$dir/keys/laptop.crt"
check 'ca cert' gwctl c
check 'init revoke upgrade' gwctl ca ''
check 'sign show verify' gwctl cert ''
check 'verify' gwctl cert v
check '--force --help --run-dir --timeout' gwctl ca init --
check '--help --run-dir --timeout' gwctl ca upgrade --
check "$dir/keys/ca.key" gwctl ca upgrade "$dir/keys/ca."
check '--ca-key' gwctl cert sign --ca-
check '--not-before' gwctl cert sign --ca-key ca.key --name x --not
check '--revoked --run-dir' gwctl cert verify laptop.crt --ca ca.pub --r
check "$dir/keys/ca.key" gwctl cert sign --ca-key "$dir/keys/ca."
check "$dir/keys/laptop.crt" gwctl cert show "$dir/keys/la"
check "$dir/keys/laptop.crt" gwctl cert verify --ca "$dir/keys/ca.key" "$dir/keys/l"
check "$dir/keys/laptop.crt" gwctl ca revoke --list "$dir/keys/ca.key" "$dir/keys/l"
check '' gwctl cert sign --ca-key ca.key --duration ''
check '' gwctl cert show "$dir/keys/laptop.crt" ''
check '' gwctl peer add gw0 b --psk-file x ''
# --run-dir on the line wins over GW_RUN_DIR, in both spellings.
check 'wan' gwctl --run-dir "$dir/other" show ''
check 'wan' gwctl --run-dir="$dir/other" peer list ''
check 'wan' gwctl show --run-dir "$dir/other" ''
check "$dir/other" gwctl --run-dir "$dir/oth"
# No run dir: no interfaces, no error.
GW_RUN_DIR=$dir/missing check '' gwctl show ''

if command -v socat >/dev/null; then
  # A fake gwd on gw0.sock that answers every request with a peer list.
  rm -f "$dir/run/gw0.sock"
  cat >"$dir/responder" <<'EOF'
#!/usr/bin/env bash
IFS= read -r _ || exit 0
printf '%s\n' '{"version":1,"ok":true,"peers":[{"name":"site-b","public_key":"KB","endpoint":null,"allowed_ips":[],"persistent_keepalive":0,"psk":false},{"name":"laptop","public_key":"KC","endpoint":null,"allowed_ips":[],"persistent_keepalive":0,"psk":false}]}'
EOF
  chmod +x "$dir/responder"
  socat UNIX-LISTEN:"$dir/run/gw0.sock",fork EXEC:"$dir/responder" &
  socat_pid=$!
  for _ in $(seq 100); do
    [[ -S $dir/run/gw0.sock ]] && break
    sleep 0.05
  done
  check 'site-b laptop' "$gwctl" peer remove gw0 ''
  check 'laptop' "$gwctl" peer set gw0 l
  check '' "$gwctl" peer set gw1 ''  # gw1.sock is no gwd: no names, no noise
else
  echo "skip: peer name completion (socat is not installed)"
fi

echo "completion_test: $failed failed"
[[ $failed -eq 0 ]]
