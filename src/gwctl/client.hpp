// SPDX-License-Identifier: MIT
// gwctl's side of gwd's control socket (docs/CONTROL.md): one request line
// out, one reply line back, over a plain blocking Unix stream socket. A
// command-line tool makes one exchange and exits, so it needs no event loop.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gw::gwctl {

inline constexpr const char* kDefaultRunDir = "/run/gw";
// A show of 10,000 peers is a few MB; far more than that is a broken gwd.
inline constexpr std::size_t kMaxReply = std::size_t{64} << 20;
// Each of connect, send and every read waits at most this long, unless
// `gwctl --timeout` says otherwise.
inline constexpr int kDefaultTimeoutSeconds = 10;
inline constexpr int kMaxTimeoutSeconds = 86400;

// Where gwctl finds gwd and how long it waits for it.
struct Connection {
  std::string run_dir = kDefaultRunDir;
  int timeout_seconds = kDefaultTimeoutSeconds;
};

// `<run_dir>/<iface>.sock`.
std::string socket_path(const std::string& run_dir, const std::string& iface);

// The interfaces with a socket in `run_dir` ("gw0" for gw0.sock), sorted by
// name; empty when the folder is missing or holds none.
std::vector<std::string> running_interfaces(const std::string& run_dir);

struct Reply {
  nlohmann::json json;  // the reply object, with "ok": true
  std::string error;    // one line, without the "gwctl: " prefix; empty on success

  explicit operator bool() const noexcept { return error.empty(); }
};

// Sends `request` to the gwd of `iface` and reads its reply. Fails with a
// message that names the interface and the socket when gwd cannot be reached,
// does not answer within `to.timeout_seconds` (connect, send and each read
// alike) or answers something that is not a reply, and with
// gwd's own message when the reply has "ok": false. The request's text, and
// the PSK text `request` carries (control::wipe_psks), are wiped from memory
// once sent.
Reply call(const Connection& to, const std::string& iface, nlohmann::json& request);

}  // namespace gw::gwctl
