// SPDX-License-Identifier: MIT
// gwctl: gw's command-line tool. Its command groups, one file each:
//   keys.cpp          genkey, pubkey, genpsk, as `wg` has them
//   status.cpp        show [IFACE] [--json], version [IFACE]
//   peers.cpp         peer list, add, remove, set, as `wg set` users expect them
//   reload.cpp        reload IFACE
//   certificates.cpp  ca init, upgrade, revoke; cert sign, show, verify (as
//                     nebula-cert has them; cert_commands.hpp)
// The control commands talk to a running gwd over its control socket
// (docs/CONTROL.md, client.hpp). The socket is <run dir>/IFACE.sock; the run
// dir is /run/gw, or GW_RUN_DIR, or --run-dir. Each wait for gwd lasts at most
// 10 s, or GW_TIMEOUT, or --timeout SECONDS. Secret keys never travel on the
// command line: a PSK comes from a file or stdin ("-"). Every argument is
// checked before gwd is contacted.
// Exit codes: 0 success, 1 failure, 2 usage; every error is one line on
// stderr (exit.hpp; the rule is in docs/DECISIONS.md).
#include <iostream>
#include <string>
#include <string_view>

#include "command.hpp"
#include "exit.hpp"
#include "gw/config/key_file.hpp"
#include "gw/crypto/sodium.hpp"

#ifndef GW_VERSION
#define GW_VERSION "unknown"
#endif

namespace {

// A command line CLI11 refused: its message, with any key in it hidden.
int parse_error(const CLI::ParseError& e, int argc, char** argv) {
  std::string what = e.what();
  // CLI11 repeats a stray argument; a key typed where none belongs (a PSK
  // after an option gwctl does not have) must not reach a terminal or log.
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (!gw::config::parse_secret_key(arg)) continue;
    for (auto at = what.find(arg); at != std::string::npos; at = what.find(arg, at)) {
      what.replace(at, arg.size(), "(a key: not shown)");
    }
  }
  return gw::gwctl::usage(what + " (see gwctl --help)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gw::gwctl;
  gw::crypto::ensure_sodium();
  CLI::App app{"gwctl: manage gw keys, peers and interfaces", "gwctl"};
  app.require_subcommand(0, 1);  // none is reported below, after unknown arguments
  app.set_help_all_flag("--help-all", "show help for every command");
  app.set_version_flag("--version", "gwctl " GW_VERSION);
  std::string run_dir;
  app.add_option(
         "--run-dir", run_dir,
         "the folder of gwd's control sockets (default " + std::string(kDefaultRunDir) + ")")
      ->envname("GW_RUN_DIR");
  Connection to;
  app.add_option("--timeout", to.timeout_seconds,
                 "seconds to wait for gwd to accept, take and answer a request (default " +
                     std::to_string(kDefaultTimeoutSeconds) + ")")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, kMaxTimeoutSeconds))
      ->envname("GW_TIMEOUT");
  // Subcommands pass options they do not know to gwctl itself, so that
  // --run-dir may come after them too.
  app.fallthrough();

  Commands commands;
  add_key_commands(app, commands);
  add_show_command(app, to, commands);
  add_peer_commands(app, to, commands);
  add_reload_command(app, to, commands);
  add_version_command(app, to, commands);
  add_ca_commands(app, commands);
  add_cert_commands(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return parse_error(e, argc, argv);
  }
  if (app.get_subcommands().empty()) {
    return usage(
        "a subcommand is required: genkey, pubkey, genpsk, show, peer, reload, version, ca or "
        "cert (see gwctl --help)");
  }
  if (!run_dir.empty()) to.run_dir = run_dir;
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return kUsage;
}
