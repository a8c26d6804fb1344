// SPDX-License-Identifier: MIT
// How gwctl's command groups plug into main: each group adds its subcommands
// to the CLI11 app, and for each top-level one what runs when it is the one
// given. main registers the groups in the order `gwctl --help` lists them,
// parses, and runs the one given.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "client.hpp"

namespace gw::gwctl {

// A top-level subcommand and what runs it; `run` returns gwctl's exit code.
struct Command {
  const CLI::App* app = nullptr;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

// An option's value when it was given.
std::optional<std::string> given(const CLI::Option* option, const std::string& value);

// The groups. The control commands reach gwd through `to`, which they read
// when they run (main completes it after parsing).
void add_key_commands(CLI::App& app, Commands& out);  // keys.cpp: genkey, pubkey, genpsk
void add_show_command(CLI::App& app, const Connection& to, Commands& out);     // status.cpp
void add_peer_commands(CLI::App& app, const Connection& to, Commands& out);    // peers.cpp
void add_reload_command(CLI::App& app, const Connection& to, Commands& out);   // reload.cpp
void add_version_command(CLI::App& app, const Connection& to, Commands& out);  // status.cpp
void add_ca_commands(CLI::App& app, Commands& out);    // certificates.cpp: ca init, upgrade, revoke
void add_cert_commands(CLI::App& app, Commands& out);  // certificates.cpp: cert sign, show, verify

}  // namespace gw::gwctl
