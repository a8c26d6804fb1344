// SPDX-License-Identifier: MIT
// gwd's core: one interface, its TUN device, its UDP socket and its session
// engine, on one Boost.Asio event loop.
//
// Setup order, so that a failure leaves nothing behind: the config and keys
// are read and checked first (nothing touched yet), then the UDP socket is
// bound (a busy port is the usual failure), then the TUN is created and
// configured over rtnetlink. Everything added is recorded and removed again
// on the way out, on SIGTERM and SIGINT as on a failed start.
#pragma once

#include <string>

#include "log.hpp"

namespace gw::daemon {

struct Options {
  std::string config_path;
  Level level = Level::info;
  bool offloads = true;  // TUN virtio-net header with TSO/USO, UDP GSO/GRO
  // Threads for encryption and decryption, the event loop's included. 1: all
  // on the event loop, packet by packet.
  unsigned threads = 1;
  // The control socket is <run_dir>/<interface>.sock (docs/CONTROL.md).
  std::string run_dir = "/run/gw";
};

// Runs the interface until SIGTERM or SIGINT. Returns the process exit code:
// 0 after a clean stop, 1 when the config or the setup failed (everything
// set up so far is removed first).
int run(const Options& options);

}  // namespace gw::daemon
