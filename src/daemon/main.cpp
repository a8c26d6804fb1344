// SPDX-License-Identifier: MIT
// gwd: the gw tunnel daemon. One process per interface, in the foreground:
//   gwd --config /etc/gw/gw0.json [--log-level info] [--no-offloads] [--threads N]
//       [--run-dir /run/gw]
// Exit codes: 0 after SIGTERM/SIGINT, 1 on a config or setup error, 2 on usage.
#include <utility>  // before Asio (through daemon.hpp's users)

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "daemon.hpp"
#include "gw/crypto/sodium.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gwd: the gw tunnel daemon (one interface per process)", "gwd"};
  std::string config_path;
  std::string level = "info";
  bool no_offloads = false;
  unsigned threads = 1;
  std::string run_dir = "/run/gw";
  // --config is checked after parsing, so that an unknown argument is named first.
  app.add_option("-c,--config", config_path, "the interface's JSON config file (required)");
  app.add_option("-l,--log-level", level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error"}));
  app.add_flag("--no-offloads", no_offloads,
               "plain TUN and UDP I/O: no virtio-net header, no GSO/GRO");
  app.add_option("--threads", threads,
                 "threads that encrypt and decrypt, the event loop's included (1: the event "
                 "loop alone)")
      ->check(CLI::Range(1u, 64u))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--run-dir", run_dir,
                 "where the control socket IFACE.sock is made (default /run/gw)");
  app.set_version_flag("--version", "gwd " GW_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gwd: " << e.what() << " (see gwd --help)\n";
    return 2;
  }
  if (config_path.empty()) {
    std::cerr << "gwd: --config is required (see gwd --help)\n";
    return 2;
  }
  gw::crypto::ensure_sodium();
  gw::daemon::Options options;
  options.config_path = config_path;
  options.level = *gw::daemon::parse_level(level);
  options.offloads = !no_offloads;
  options.threads = threads;
  options.run_dir = run_dir;
  return gw::daemon::run(options);
}
