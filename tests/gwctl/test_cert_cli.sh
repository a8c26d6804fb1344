#!/usr/bin/env bash
# `[[ test ]] && pass || fail` is safe here: pass always succeeds.
# shellcheck disable=SC2015
# gwctl's certificate commands end to end, in a temporary folder: ca init
# (modes, refusal to overwrite, --force), cert sign / show / verify, every
# reason verify refuses for, ca revoke, usage errors, a CA key file others can
# read, and that no private key ever reaches stdout or stderr. No daemon.
#   test_cert_cli.sh GWCTL
set -uo pipefail
gwctl=${1:?usage: test_cert_cli.sh GWCTL}
# The test runs in its own folder: a relative path must keep working there.
[[ $gwctl == */* ]] && gwctl=$(realpath "$gwctl")

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
umask 022

failed=0
pass() { echo "ok: $1"; }
fail() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}

# gw ARGS...: runs gwctl with stdin from $STDIN (default /dev/null); sets rc,
# out, err, and keeps everything it printed in $dir/printed.
gw() {
  "$gwctl" "$@" <"${STDIN:-/dev/null}" >"$dir/out" 2>"$dir/err"
  rc=$?
  out=$(cat "$dir/out")
  err=$(cat "$dir/err")
  cat "$dir/out" "$dir/err" >>"$dir/printed"
}
# expect NAME RC [STDOUT]: the last run's exit code and, if given, its stdout.
# A failure must be one stderr line starting "gwctl: ".
expect() {
  local name=$1 want_rc=$2
  if [[ $rc -ne $want_rc ]]; then
    fail "$name: exit $rc, expected $want_rc (stderr: $err)"
  elif [[ $# -ge 3 && $out != "$3" ]]; then
    fail "$name: stdout differs:"$'\n'"--- got"$'\n'"$out"$'\n'"--- expected"$'\n'"$3"
  elif [[ $rc -ne 0 && ($err != gwctl:\ * || $(wc -l <"$dir/err") -ne 1) ]]; then
    fail "$name: stderr is not one 'gwctl: ' line: '$err'"
  else
    pass "$name${err:+ ($err)}"
  fi
}
# expect_err NAME PATTERN: stderr matches the glob PATTERN.
expect_err() {
  # shellcheck disable=SC2053
  [[ $err == $2 ]] && pass "$1" || fail "$1: stderr '$err' does not match '$2'"
}
# expect_msg NAME TEXT: stderr is exactly TEXT (no pattern).
expect_msg() {
  [[ $err == "$2" ]] && pass "$1" || fail "$1: stderr '$err', expected '$2'"
}
mode_of() { stat -c %a "$1"; }

# --- ca init: PREFIX.key 0600 and PREFIX.pub 0644 whatever the umask.
(umask 000 && "$gwctl" ca init ca >"$dir/out" 2>"$dir/err")
rc=$?
out=$(cat "$dir/out")
err=$(cat "$dir/err")
cat "$dir/out" "$dir/err" >>"$dir/printed"
expect "ca init" 0
[[ $out =~ ^[0-9a-f]{64}$ ]] && pass "ca init prints a fingerprint" || fail "ca init stdout: '$out'"
ca_fp=$out
[[ $(mode_of ca.key) == 600 ]] && pass "ca.key is 0600 under umask 000" ||
  fail "ca.key mode $(mode_of ca.key)"
[[ $(mode_of ca.pub) == 644 ]] && pass "ca.pub is 0644" || fail "ca.pub mode $(mode_of ca.pub)"
# The CA's files name their kind (docs/CERTIFICATES.md, section 4): three lines each.
b64='[A-Za-z0-9+/]{43}='
[[ $(wc -l <ca.key) -eq 3 && $(sed -n 1p ca.key) == '-----BEGIN GW CA PRIVATE KEY-----' &&
  $(sed -n 2p ca.key) =~ ^$b64$ && $(sed -n 3p ca.key) == '-----END GW CA PRIVATE KEY-----' ]] &&
  pass "ca.key is the CA private key armour" || fail "ca.key: $(wc -c <ca.key) bytes"
[[ $(wc -l <ca.pub) -eq 3 && $(sed -n 1p ca.pub) == '-----BEGIN GW CA PUBLIC KEY-----' &&
  $(sed -n 2p ca.pub) =~ ^$b64$ && $(sed -n 3p ca.pub) == '-----END GW CA PUBLIC KEY-----' ]] &&
  pass "ca.pub is the CA public key armour" || fail "ca.pub: $(cat ca.pub)"
ca_seed=$(cat ca.key)
ca_pub=$(cat ca.pub)

gw ca init ca
expect "ca init refuses to overwrite" 1
expect_err "ca init names the file" "gwctl: ca init: ca.key: exists*--force*"
[[ $(cat ca.key) == "$ca_seed" && $(cat ca.pub) == "$ca_pub" ]] &&
  pass "refused ca init left both files" || fail "refused ca init changed a file"
rm ca.key
cp ca.pub only.pub
gw ca init only
expect "ca init refuses when only PREFIX.pub exists" 1
[[ ! -e only.key ]] && pass "and creates no PREFIX.key" || fail "only.key was created"
# Restore the first CA's key (0600 again).
(umask 077 && printf '%s\n' "$ca_seed" >ca.key)

gw ca init
expect "ca init without PREFIX" 2
gw ca init other --force
expect "ca init --force on new files" 0
old_other=$(cat other.key)
(umask 077 && "$gwctl" ca init other --force >"$dir/out" 2>>"$dir/printed")
[[ $? -eq 0 && $(cat other.key) != "$old_other" ]] && pass "ca init --force replaces the key" ||
  fail "ca init --force did not replace other.key"
cat "$dir/out" >>"$dir/printed"
[[ $(mode_of other.key) == 600 && $(mode_of other.pub) == 644 ]] &&
  pass "ca init --force: 0600 and 0644 under umask 077" ||
  fail "ca init --force modes $(mode_of other.key) $(mode_of other.pub)"
other_seed=$(sed -n 2p other.key)

# --- A holder's key pair (genkey prints a private key by design: not logged).
(umask 077 && "$gwctl" genkey >holder.key && "$gwctl" genkey >stranger.key)
holder_priv=$(cat holder.key)
stranger_priv=$(cat stranger.key)
holder=$("$gwctl" pubkey <holder.key)
stranger=$("$gwctl" pubkey <stranger.key)
printf '%s\n' "$holder" >holder.pub

# --- cert sign -> show -> verify.
gw cert sign --ca-key ca.key --name laptop --public-key "$holder" \
  --addresses 10.88.0.2/24,fd88::2/64 --subnets 10.2.0.0/24 --groups ops,dev \
  --not-before 1000000000 --duration 1h
expect "cert sign" 0
printf '%s\n' "$out" >laptop.crt
[[ $(head -n 1 laptop.crt) == '-----BEGIN GW CERTIFICATE-----' &&
  $(tail -n 1 laptop.crt) == '-----END GW CERTIFICATE-----' ]] &&
  pass "cert sign prints the armour" || fail "cert sign stdout: $out"

gw cert show laptop.crt
expect "cert show" 0
fp=$(sed -n 's/^  fingerprint: //p' "$dir/out")
show_laptop="certificate: laptop
  public key: $holder
  addresses: 10.88.0.2/24, fd88::2/64
  subnets: 10.2.0.0/24
  groups: dev, ops
  not before: 2001-09-09T01:46:40Z (1000000000)
  not after: 2001-09-09T02:46:40Z (1000003600)
  issuer: $ca_fp
  fingerprint: $fp
  validity: expired"
[[ $fp =~ ^[0-9a-f]{64}$ && $out == "$show_laptop" ]] && pass "cert show text" ||
  fail "cert show text:"$'\n'"$out"
STDIN=laptop.crt gw cert show - --json
expect "cert show - --json" 0
[[ $out == '{'* && $out == *"\"fingerprint\": \"$fp\""* && $out == *"\"issuer\": \"$ca_fp\""* &&
  $out == *'"validity": "expired"'* && $out == *'"not_before": 1000000000'* &&
  $out == *'"not_after_utc": "2001-09-09T02:46:40Z"'* && $out == *'"name": "laptop"'* ]] &&
  pass "cert show --json members" || fail "cert show --json:"$'\n'"$out"

gw cert verify laptop.crt --ca ca.pub --at 1000000000
expect "cert verify at not_before" 0 "valid"
gw cert verify --ca other.pub --ca ca.pub laptop.crt --at 1000003599
expect "cert verify with two CAs, the CA first" 0 "valid"
STDIN=laptop.crt gw cert verify - --ca ca.pub --at 1000001000 --public-key "$holder"
expect "cert verify - (stdin) with the holder's key" 0 "valid"
STDIN=holder.pub gw cert verify laptop.crt --ca ca.pub --at 1000001000 --public-key-file -
expect "cert verify --public-key-file -" 0 "valid"

# Signed now for a year by default: valid by the local clock.
gw cert sign --ca-key ca.key --name now --public-key-file holder.pub --out now.crt
expect "cert sign --out" 0 ""
[[ $(mode_of now.crt) == 644 ]] && pass "--out writes mode 0644" || fail "now.crt mode $(mode_of now.crt)"
gw cert verify now.crt --ca ca.pub
expect "cert verify by the local clock" 0 "valid"
gw cert show now.crt
[[ $out == *"  validity: valid" ]] && pass "cert show: valid now" || fail "cert show now.crt: $out"
nb=$(sed -n 's/^  not before: .*(\([0-9]*\))$/\1/p' "$dir/out")
na=$(sed -n 's/^  not after: .*(\([0-9]*\))$/\1/p' "$dir/out")
[[ -n $nb && $((na - nb)) -eq $((365 * 86400)) ]] && pass "default duration 365d" ||
  fail "default duration: $nb .. $na"

# --- Every refusal.
gw cert verify laptop.crt --ca other.pub --at 1000000000
expect "cert verify with the wrong CA" 1
expect_err "wrong CA: unknown_ca" "gwctl: laptop.crt: *[(]unknown_ca[)]"
gw cert verify laptop.crt --ca ca.pub --at 1000003600
expect "cert verify at not_after" 1
expect_err "expired" "gwctl: laptop.crt: *[(]expired[)]"
gw cert verify laptop.crt --ca ca.pub --at 999999999
expect "cert verify before not_before" 1
expect_err "not yet valid" "gwctl: laptop.crt: *[(]not_yet_valid[)]"
gw cert verify laptop.crt --ca ca.pub --at 1000000000 --public-key "$stranger"
expect "cert verify with another key" 1
expect_err "key mismatch" "gwctl: laptop.crt: *[(]key_mismatch[)]"

# A tampered body: one base64 character of the second line flipped.
awk 'NR == 2 { c = substr($0, 10, 1); $0 = substr($0, 1, 9) (c == "A" ? "B" : "A") substr($0, 11) } { print }' \
  laptop.crt >tampered.crt
cmp -s laptop.crt tampered.crt && fail "tampered.crt is not tampered"
gw cert verify tampered.crt --ca ca.pub --at 1000000000
expect "cert verify refuses a tampered certificate" 1
expect_err "tampered: names the file" "gwctl: tampered.crt: *"
[[ $out != *valid* ]] && pass "tampered: not reported valid" || fail "tampered: stdout '$out'"

# The signature (the last bytes of the body) tampered with.
awk -v last="$(($(wc -l <laptop.crt) - 1))" \
  'NR == last { c = substr($0, 1, 1); $0 = (c == "A" ? "B" : "A") substr($0, 2) } { print }' \
  laptop.crt >forged.crt
gw cert verify forged.crt --ca ca.pub --at 1000000000
expect "cert verify refuses a forged signature" 1
expect_err "forged: bad_signature" "gwctl: forged.crt: *[(]bad_signature[)]"

# --- ca revoke.
gw ca revoke --list revoked.txt laptop.crt
expect "ca revoke CERT_FILE (new list)" 0 "$fp"
[[ $(cat revoked.txt) == "$fp" && $(mode_of revoked.txt) == 644 ]] &&
  pass "the list holds the fingerprint, mode 0644" ||
  fail "revoked.txt: $(cat revoked.txt) mode $(mode_of revoked.txt)"
gw cert verify laptop.crt --ca ca.pub --at 1000000000 --revoked revoked.txt
expect "cert verify --revoked" 1
expect_err "revoked" "gwctl: laptop.crt: *[(]revoked[)]"
gw ca revoke --list revoked.txt --fingerprint "${fp^^}"
expect "ca revoke again" 0 "$fp already revoked"
[[ $(wc -l <revoked.txt) -eq 1 ]] && pass "no line added twice" || fail "revoked.txt: $(cat revoked.txt)"
gw cert verify now.crt --ca ca.pub --revoked revoked.txt
expect "another certificate is not revoked" 0 "valid"
printf '# revoked by hand\n' >listed.txt
STDIN=now.crt gw ca revoke --list listed.txt -
now_fp=$out
expect "ca revoke - (stdin)" 0
[[ $(head -n 1 listed.txt) == '# revoked by hand' && $(tail -n 1 listed.txt) == "$now_fp" ]] &&
  pass "ca revoke keeps the list's comments" || fail "listed.txt: $(cat listed.txt)"
printf 'not a fingerprint\n' >bad-list.txt
gw cert verify now.crt --ca ca.pub --revoked bad-list.txt
expect "cert verify with an unreadable list" 1
gw ca revoke --list bad-list.txt now.crt
expect "ca revoke into an unreadable list" 1
[[ $(cat bad-list.txt) == 'not a fingerprint' ]] && pass "and leaves it alone" || fail "bad-list.txt changed"

# --- Usage errors: exit 2, one line.
gw cert sign --name x --public-key "$holder"
expect "sign without --ca-key" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --duration 10y
expect "sign with a bad duration" 2
expect_err "bad duration named" "*--duration*10y*"
gw cert sign --ca-key ca.key --name x --public-key "$holder" --duration 0s
expect "sign with a zero duration" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --subnets 10.2.0.1/24
expect "sign with host bits in --subnets" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --subnets 10.2.0.0/33
expect "sign with a bad prefix in --subnets" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --addresses 10.88.0.2
expect "sign with an address without length" 2
gw cert sign --ca-key ca.key --name 'a b' --public-key "$holder"
expect "sign with a bad name" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --groups 'ok,no/pe'
expect "sign with a bad group" 2
gw cert sign --ca-key ca.key --name x
expect "sign without a public key" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --public-key-file holder.pub
expect "sign with both public key options" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --bogus
expect "sign with an unknown option" 2
gw cert sign --ca-key ca.key --name x --public-key "$holder" --out ./ca.key
expect "sign --out over the CA key" 2
[[ $(cat ca.key) == "$ca_seed" ]] && pass "the CA key is left alone" || fail "ca.key was overwritten"
gw cert verify laptop.crt
expect "verify without --ca" 2
gw cert verify laptop.crt --ca ca.pub --at yesterday
expect "verify with a bad --at" 2
gw ca revoke --list revoked.txt
expect "revoke without a certificate" 2
gw ca revoke --list revoked.txt --fingerprint abc
expect "revoke with a bad fingerprint" 2
gw cert
expect "cert without a subcommand" 2
gw ca
expect "ca without a subcommand" 2

# --- Failures: exit 1, naming the file.
chmod 644 ca.key
gw cert sign --ca-key ca.key --name x --public-key "$holder"
expect "sign with a CA key of mode 0644" 1
expect_err "mode 0644 refused, file named" "gwctl: cert sign: ca.key: CA private key file: refused: mode 0644*"
[[ -z $out ]] && pass "no certificate printed" || fail "stdout: $out"
chmod 600 ca.key
gw cert sign --ca-key missing.key --name x --public-key "$holder"
expect "sign with a missing CA key" 1
expect_err "missing CA key named" "gwctl: cert sign: missing.key: *"
gw cert show missing.crt
expect "show a missing file" 1
gw cert show ca.pub
expect "show a file that is no certificate" 1
gw cert verify laptop.crt --ca missing.pub
expect "verify with a missing CA file" 1

# --- Key kinds: a CA key file is no peer key and a peer key no CA key; each refused by name,
# exit 1, nothing written.
key_line="this is a gw/WireGuard key line (an X25519 key or a PSK)"
upgrade="if it is a CA key an older gwctl ca init wrote, convert it: gwctl ca upgrade"
cp ca.pub pub-copy.key && chmod 600 pub-copy.key
sed -n 2p ca.key >old.key && chmod 600 old.key # ca.key as ca init wrote it before
sed -n 2p ca.pub >old.pub
# wrong_ca_key NAME FILE MESSAGE: cert sign --ca-key FILE is refused with MESSAGE.
wrong_ca_key() {
  rm -f refused.crt
  gw cert sign --ca-key "$2" --name x --public-key-file holder.pub --out refused.crt
  expect "cert sign --ca-key $1" 1
  expect_msg "--ca-key $1: named" "gwctl: cert sign: $2: $3"
  [[ ! -e refused.crt && -z $out ]] && pass "--ca-key $1: nothing written" ||
    fail "--ca-key $1: a certificate was written"
}
wrong_ca_key "a peer's private key" holder.key "$key_line, not a CA private key; $upgrade holder"
wrong_ca_key "ca.pub" ca.pub "this is a CA public key file, not a CA private key (--ca-key wants PREFIX.key)"
wrong_ca_key "a 0600 copy of ca.pub" pub-copy.key \
  "this is a CA public key file, not a CA private key (--ca-key wants PREFIX.key)"
wrong_ca_key "a certificate" laptop.crt "this is a gw certificate, not a CA private key"
wrong_ca_key "an old plain CA key" old.key "$key_line, not a CA private key; $upgrade old"

# wrong_holder_key NAME FILE MESSAGE: --public-key-file FILE (cert sign, cert verify) refused.
wrong_holder_key() {
  rm -f refused.crt
  gw cert sign --ca-key ca.key --name x --public-key-file "$2" --out refused.crt
  expect "cert sign --public-key-file $1" 1
  expect_msg "cert sign --public-key-file $1: named" "gwctl: cert sign: $2: $3"
  [[ ! -e refused.crt ]] && pass "--public-key-file $1: nothing written" ||
    fail "--public-key-file $1: a certificate was written"
  gw cert verify now.crt --ca ca.pub --public-key-file "$2"
  expect "cert verify --public-key-file $1" 1
  expect_msg "cert verify --public-key-file $1: named" "gwctl: cert verify: $2: $3"
}
wrong_holder_key ca.pub ca.pub "this is a CA public key file, not a gw/WireGuard public key (X25519)"
wrong_holder_key ca.key ca.key "this is a CA private key file, not a gw/WireGuard public key (X25519)"
STDIN=ca.pub gw cert sign --ca-key ca.key --name x --public-key-file -
expect "cert sign --public-key-file - with ca.pub" 1
expect_msg "stdin named" \
  "gwctl: cert sign: stdin: this is a CA public key file, not a gw/WireGuard public key (X25519)"

# wrong_ca NAME FILE MESSAGE: cert verify --ca FILE is refused with MESSAGE.
wrong_ca() {
  gw cert verify now.crt --ca "$2"
  expect "cert verify --ca $1" 1
  expect_msg "--ca $1: named" "gwctl: cert verify: --ca $2: $3"
}
wrong_ca "a peer's public key" holder.pub "$key_line, not a CA public key; $upgrade holder"
wrong_ca ca.key ca.key "this is a CA private key file, not a CA public key (--ca wants PREFIX.pub)"
wrong_ca "a certificate" laptop.crt "this is a gw certificate, not a CA public key"
wrong_ca "an old plain CA public key" old.pub "$key_line, not a CA public key; $upgrade old"

# ca revoke and cert show: a CA key file is neither a certificate nor a list.
cp revoked.txt revoked.before
gw ca revoke --list revoked.txt ca.pub
expect "ca revoke CERT_FILE ca.pub" 1
expect_msg "ca revoke ca.pub: named" "gwctl: ca.pub: this is a CA public key file, not a gw certificate"
gw ca revoke --list ca.pub now.crt
expect "ca revoke --list ca.pub" 1
expect_msg "ca revoke --list ca.pub: named" \
  "gwctl: ca revoke: ca.pub: this is a CA public key file, not a revocation list"
cmp -s revoked.txt revoked.before && [[ $(cat ca.pub) == "$ca_pub" ]] &&
  pass "ca revoke refusals wrote nothing" || fail "ca revoke changed a file"
gw cert show ca.key
expect "cert show ca.key" 1
expect_msg "cert show ca.key: named" "gwctl: ca.key: this is a CA private key file, not a gw certificate"

# gwctl's peer key commands: pubkey, peer add --public-key-file and --psk-file, peer set.
mkdir -p run
STDIN=ca.key gw pubkey
expect "pubkey < ca.key" 1
expect_msg "pubkey < ca.key: named" \
  "gwctl: pubkey: stdin: this is a CA private key file, not a gw/WireGuard private key (X25519)"
[[ -z $out ]] && pass "pubkey printed no key" || fail "pubkey printed '$out'"
STDIN=ca.pub gw pubkey
expect "pubkey < ca.pub" 1
expect_msg "pubkey < ca.pub: named" \
  "gwctl: pubkey: stdin: this is a CA public key file, not a gw/WireGuard private key (X25519)"
gw --run-dir run peer add gw0 b --public-key-file ca.pub
expect "peer add --public-key-file ca.pub" 1
expect_msg "peer add --public-key-file ca.pub: named" \
  "gwctl: peer add: ca.pub: this is a CA public key file, not a gw/WireGuard public key (X25519)"
STDIN=ca.pub gw --run-dir run peer add gw0 b --public-key-file -
expect "peer add --public-key-file - < ca.pub" 1
expect_msg "peer add --public-key-file -: named" \
  "gwctl: peer add: stdin: this is a CA public key file, not a gw/WireGuard public key (X25519)"
gw --run-dir run peer add gw0 b --public-key "$holder" --psk-file ca.key
expect "peer add --psk-file ca.key" 1
expect_msg "peer add --psk-file ca.key: named" \
  "gwctl: peer add: ca.key: this is a CA private key file, not a pre-shared key"
STDIN=ca.key gw --run-dir run peer set gw0 b --psk-file -
expect "peer set --psk-file - < ca.key" 1
expect_msg "peer set --psk-file -: named" \
  "gwctl: peer set: stdin: this is a CA private key file, not a pre-shared key"

# --- ca upgrade PREFIX: an old pair (one base64 line each) is checked to be one CA and converted
# in place, modes kept; a gateway's lone PREFIX.pub is converted too; anything else is refused.
sed -n 2p ca.key >up.key && chmod 600 up.key
sed -n 2p ca.pub >up.pub && chmod 640 up.pub
gw ca upgrade up
expect "ca upgrade an old pair" 0 "$ca_fp"
cmp -s up.key ca.key && cmp -s up.pub ca.pub && pass "ca upgrade wrote the armours" ||
  fail "ca upgrade: up.key/up.pub differ from ca.key/ca.pub"
[[ $(mode_of up.key) == 600 && $(mode_of up.pub) == 640 ]] && pass "ca upgrade kept the modes" ||
  fail "ca upgrade modes $(mode_of up.key) $(mode_of up.pub)"
gw cert sign --ca-key up.key --name x --public-key-file holder.pub
expect "cert sign with the upgraded key" 0
gw ca upgrade up
expect "ca upgrade again: nothing to do" 0 "$ca_fp"
cmp -s up.key ca.key && cmp -s up.pub ca.pub && pass "and nothing changed" || fail "ca upgrade again changed a file"
sed -n 2p ca.key >half.key && chmod 600 half.key && cp ca.pub half.pub
gw ca upgrade half
expect "ca upgrade a half-converted pair" 0 "$ca_fp"
cmp -s half.key ca.key && pass "its key converted" || fail "half.key: $(cat half.key)"
sed -n 2p ca.pub >gateway-copy.pub
gw ca upgrade gateway-copy
expect "ca upgrade a lone PREFIX.pub (a gateway's copy)" 0 "$ca_fp"
cmp -s gateway-copy.pub ca.pub && pass "the copy converted" || fail "gateway-copy.pub: $(cat gateway-copy.pub)"
holder_files=$(cat holder.key holder.pub)
gw ca upgrade holder
expect "ca upgrade a peer's key pair" 1
expect_msg "not a CA: named" "gwctl: ca upgrade: holder.key and holder.pub are not one CA's keys (holder.pub is not the Ed25519 public key of holder.key); nothing changed"
[[ $(cat holder.key holder.pub) == "$holder_files" ]] && pass "the peer's files are left alone" ||
  fail "ca upgrade changed holder.key or holder.pub"
sed -n 2p other.key >mixed.key && chmod 600 mixed.key && sed -n 2p ca.pub >mixed.pub
gw ca upgrade mixed
expect "ca upgrade two CAs' halves" 1
[[ $(cat mixed.pub) == "$(sed -n 2p ca.pub)" ]] && pass "and writes nothing" || fail "mixed.pub changed"
gw ca upgrade nothing
expect "ca upgrade without PREFIX.pub" 1
expect_err "missing PREFIX.pub named" "gwctl: ca upgrade: nothing.pub: *"
cp ca.pub swapped.key && chmod 600 swapped.key && cp ca.pub swapped.pub
gw ca upgrade swapped
expect "ca upgrade with a public key in PREFIX.key" 1
expect_msg "swapped: named" "gwctl: ca upgrade: swapped.key: this is a CA public key file, not a CA private key"
gw ca upgrade
expect "ca upgrade without PREFIX" 2

# --- No private key was printed, by any command above.
leaked=0
for secret in "$(sed -n 2p ca.key)" "$other_seed" "$holder_priv" "$stranger_priv"; do
  grep -qF -- "$secret" "$dir/printed" && leaked=$((leaked + 1))
done
[[ $leaked -eq 0 && -s $dir/printed ]] && pass "no private key on stdout or stderr" ||
  fail "$leaked private keys were printed"

echo "cert_cli_test: $failed failed"
[[ $failed -eq 0 ]]
