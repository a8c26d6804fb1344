// SPDX-License-Identifier: MIT
// gwctl: gw's command-line tool. Key commands, as `wg` has them:
//   gwctl genkey            a new private key (base64) on stdout
//   gwctl pubkey            the public key of the private key on stdin
//   gwctl genpsk            a new pre-shared key on stdout
// Keys never travel on the command line. Exit codes: 0 success, 1 failure,
// 2 usage; every error is one line on stderr.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include <sodium.h>

#include "gw/config/key_file.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/crypto/x25519.hpp"

namespace {

constexpr int kFailure = 1;
constexpr int kUsage = 2;

void warn_if_readable_output() {
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    std::cerr << "gwctl: warning: writing a secret key to a file that group or others can read "
                 "(use umask 077)\n";
  }
}

int genkey() {
  warn_if_readable_output();
  const gw::crypto::KeyPair kp = gw::crypto::KeyPair::generate(gw::crypto::system_rng());
  std::cout << gw::config::to_base64(kp.private_key.bytes()) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

int genpsk() {
  warn_if_readable_output();
  gw::crypto::Secret<gw::config::kKeyLen> psk;
  gw::crypto::system_rng().fill(psk.bytes());
  std::cout << gw::config::to_base64(psk.bytes()) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

int pubkey() {
  // One key line: at most a few bytes more than 44 characters.
  std::array<char, 128> buf{};
  std::size_t used = 0;
  while (used < buf.size()) {
    const ssize_t n = ::read(STDIN_FILENO, buf.data() + used, buf.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  std::string_view text(buf.data(), used);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  auto key = used < buf.size() ? gw::config::parse_secret_key(text) : std::nullopt;
  sodium_memzero(buf.data(), buf.size());
  if (!key) {
    std::cerr << "gwctl: pubkey: expected a base64 private key of 32 bytes on stdin\n";
    return kFailure;
  }
  std::cout << gw::config::to_base64(gw::crypto::public_key_of(*key)) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

}  // namespace

int main(int argc, char** argv) {
  gw::crypto::ensure_sodium();
  CLI::App app{"gwctl: manage gw keys, peers and interfaces", "gwctl"};
  app.require_subcommand(0, 1);  // none is reported below, after unknown arguments
  app.set_help_all_flag("--help-all", "show help for every command");
  auto* genkey_cmd = app.add_subcommand("genkey", "print a new private key (base64)");
  auto* pubkey_cmd =
      app.add_subcommand("pubkey", "print the public key of the private key on stdin");
  auto* genpsk_cmd = app.add_subcommand("genpsk", "print a new pre-shared key (base64)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gwctl: " << e.what() << " (see gwctl --help)\n";
    return kUsage;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << "gwctl: a subcommand is required: genkey, pubkey or genpsk (see gwctl --help)\n";
    return kUsage;
  }
  if (genkey_cmd->parsed()) return genkey();
  if (pubkey_cmd->parsed()) return pubkey();
  if (genpsk_cmd->parsed()) return genpsk();
  return kUsage;
}
