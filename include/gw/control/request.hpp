// SPDX-License-Identifier: MIT
// Requests on gwd's control socket (docs/CONTROL.md): one JSON object a line,
// parsed and checked here, before anything in the daemon sees them.
//
// parse_request() checks the shape of a request and every value in it with the
// config file's own rules (a peer object is checked as a config's peer is);
// the daemon then checks the change against the whole config (unique names,
// keys and networks) and applies it. Every failure is an Error with the code
// and one-line message the reply carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "gw/config/config.hpp"
#include "gw/crypto/secret.hpp"

namespace gw::control {

inline constexpr int kProtocolVersion = 1;
// The longest request line, its newline included.
inline constexpr std::size_t kMaxRequestLine = 65536;
// Objects and arrays nest at most this deep in a request (the deepest that
// gwctl sends: 3).
inline constexpr std::size_t kMaxDepth = 8;

enum class Command : std::uint8_t {
  version,
  show,
  peer_list,
  peer_add,
  peer_remove,
  peer_set,
  reload
};
const char* to_string(Command c) noexcept;

// peer.set: each member set is a change; the others stay as they are.
struct PeerChanges {
  std::optional<std::optional<config::HostPort>> endpoint;  // inner nullopt: forget it
  std::optional<std::vector<std::string>> allowed_ips;      // replaces the list
  std::optional<std::uint16_t> persistent_keepalive;
  std::optional<crypto::LockedKey> psk;  // inner empty: remove

  bool empty() const noexcept { return !endpoint && !allowed_ips && !persistent_keepalive && !psk; }
};

struct Request {
  Command command = Command::version;
  std::string peer;        // peer.remove, peer.set: a name or a base64 public key
  config::Peer new_peer;   // peer.add: checked as a config's peer; no file names
  crypto::LockedKey psk;   // peer.add (empty: none)
  PeerChanges changes;     // peer.set
  bool certified = false;  // peer.list: the peers admitted by certificate instead
};

struct Error {
  std::string code;     // docs/CONTROL.md's table: "bad_json", "not_found", ...
  std::string message;  // one line
};

// One request line, without its newline. A PSK goes straight into the locked
// key pool: the parser's copies of its text (the JSON value, the lexer's
// buffers) are wiped before they are freed. The caller wipes `line`.
std::variant<Request, Error> parse_request(std::string_view line);

// Reply lines, each ended by '\n'.
std::string error_reply(const Error& error);
// {"version":1,"ok":true} and `members` merged in.
std::string ok_reply(nlohmann::json members = nlohmann::json::object());

}  // namespace gw::control
