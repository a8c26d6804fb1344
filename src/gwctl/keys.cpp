// SPDX-License-Identifier: MIT
// gwctl's key commands, as `wg` has them: genkey, pubkey, genpsk.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "command.hpp"
#include "exit.hpp"
#include "gw/config/key_file.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/x25519.hpp"
#include "key_input.hpp"

namespace gw::gwctl {

namespace {

void warn_if_readable_output() {
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    std::cerr << "gwctl: warning: writing a secret key to a file that group or others can read "
                 "(use umask 077)\n";
  }
}

int genkey() {
  warn_if_readable_output();
  const crypto::KeyPair kp = crypto::KeyPair::generate(crypto::system_rng());
  std::cout << config::to_base64(kp.private_key.bytes()) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

int genpsk() {
  warn_if_readable_output();
  SecretKey psk;
  crypto::system_rng().fill(psk.bytes());
  std::cout << config::to_base64(psk.bytes()) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

int pubkey() {
  std::string error;
  const auto key = read_stdin_secret(config::KeyUse::private_key, "private key", error);
  if (!key) return fail("pubkey: " + error);
  return print(config::to_base64(crypto::public_key_of(*key)) + "\n") ? 0 : kFailure;
}

}  // namespace

void add_key_commands(CLI::App& app, Commands& out) {
  out.push_back({app.add_subcommand("genkey", "print a new private key (base64)"), genkey});
  out.push_back(
      {app.add_subcommand("pubkey", "print the public key of the private key on stdin"), pubkey});
  out.push_back({app.add_subcommand("genpsk", "print a new pre-shared key (base64)"), genpsk});
}

}  // namespace gw::gwctl
