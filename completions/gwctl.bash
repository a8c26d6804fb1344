# bash completion for gwctl                                    -*- shell-script -*-
# SPDX-License-Identifier: MIT
#
# Completes subcommands, each one's options, interface names (the *.sock in
# gwd's run dir: --run-dir, else $GW_RUN_DIR, else /run/gw) and, for
# `peer remove` and `peer set`, peer names from `gwctl peer list IFACE`;
# file names for the certificate commands' files (`ca`, `cert`).
# Standalone: it needs no bash-completion helpers.

_gwctl_interfaces() {
  local dir=$1 f
  for f in "$dir"/*.sock; do
    [[ -e $f ]] || continue
    f=${f##*/}
    printf '%s\n' "${f%.sock}"
  done
}

_gwctl() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()

  # Options that take a value: the word after them is that value.
  local valued='--run-dir --timeout --public-key --public-key-file --endpoint --allowed-ips --persistent-keepalive --psk-file'
  valued+=' --ca-key --name --addresses --subnets --groups --duration --not-before --out --ca --revoked --at --list --fingerprint'

  # The words before the cursor: positionals in order, and --run-dir.
  local run_dir=${GW_RUN_DIR:-/run/gw}
  local -a pos=()
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --run-dir=*) run_dir=${w#--run-dir=} ;;
      --*=*) ;;
      -*)
        if [[ " $valued " == *" $w "* ]]; then
          ((i++))
          [[ $w == --run-dir && $i -lt $COMP_CWORD ]] && run_dir=${COMP_WORDS[i]}
        fi
        ;;
      *) pos+=("$w") ;;
    esac
  done

  # The value of an option.
  case $prev in
    --run-dir)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      return
      ;;
    --public-key-file | --psk-file | --ca-key | --out | --ca | --revoked | --list)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return
      ;;
    --public-key | --endpoint | --allowed-ips | --persistent-keepalive | --name | --addresses | \
      --subnets | --groups | --duration | --not-before | --at | --fingerprint)
      return
      ;;
  esac

  local cmd=${pos[0]-} sub=
  local words='' opts=''
  # What the next positional is: a subcommand, an interface, a peer, a path
  # or nothing.
  local want=
  case $cmd in
    '')
      want=words
      words='genkey pubkey genpsk show peer reload version ca cert'
      opts='--help --help-all --version'
      ;;
    genkey | pubkey | genpsk)
      opts='--help'
      ;;
    show)
      opts='--json --help'
      ((${#pos[@]} == 1)) && want=iface
      ;;
    reload | version)
      opts='--help'
      ((${#pos[@]} == 1)) && want=iface
      ;;
    peer)
      sub=${pos[1]-}
      case $sub in
        '')
          want=words
          words='list add remove set'
          opts='--help'
          ;;
        list)
          opts='--json --certified --help'
          ((${#pos[@]} == 2)) && want=iface
          ;;
        add)
          opts='--public-key --public-key-file --endpoint --allowed-ips --persistent-keepalive --psk-file --help'
          ((${#pos[@]} == 2)) && want=iface
          ;;
        remove)
          opts='--help'
          ((${#pos[@]} == 2)) && want=iface
          ((${#pos[@]} == 3)) && want=peer
          ;;
        set)
          opts='--endpoint --no-endpoint --allowed-ips --persistent-keepalive --psk-file --no-psk --help'
          ((${#pos[@]} == 2)) && want=iface
          ((${#pos[@]} == 3)) && want=peer
          ;;
      esac
      ;;
    ca)
      sub=${pos[1]-}
      case $sub in
        '')
          want=words
          words='init revoke upgrade'
          opts='--help'
          ;;
        init)
          opts='--force --help'
          ((${#pos[@]} == 2)) && want=path
          ;;
        upgrade)
          opts='--help'
          ((${#pos[@]} == 2)) && want=path
          ;;
        revoke)
          opts='--list --fingerprint --help'
          ((${#pos[@]} == 2)) && want=path
          ;;
      esac
      ;;
    cert)
      sub=${pos[1]-}
      case $sub in
        '')
          want=words
          words='sign show verify'
          opts='--help'
          ;;
        sign)
          opts='--ca-key --name --public-key --public-key-file --addresses --subnets --groups --duration --not-before --out --help'
          ;;
        show)
          opts='--json --help'
          ((${#pos[@]} == 2)) && want=path
          ;;
        verify)
          opts='--ca --revoked --public-key --public-key-file --at --help'
          ((${#pos[@]} == 2)) && want=path
          ;;
      esac
      ;;
  esac

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts --run-dir --timeout" -- "$cur")
    return
  fi
  case $want in
    words)
      mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
      ;;
    path)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      ;;
    iface)
      mapfile -t COMPREPLY < <(compgen -W "$(_gwctl_interfaces "$run_dir")" -- "$cur")
      ;;
    peer)
      # The gwctl being completed: a path as typed, else the one on PATH.
      local gwctl=gwctl
      [[ ${COMP_WORDS[0]} == */* ]] && gwctl=${COMP_WORDS[0]}
      local names
      names=$("$gwctl" --run-dir "$run_dir" peer list "${pos[2]}" 2>/dev/null | cut -f1)
      mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
      ;;
  esac
}

complete -F _gwctl gwctl
