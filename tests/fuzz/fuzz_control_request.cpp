// SPDX-License-Identifier: MIT
// libFuzzer target: requests on gwd's control socket (docs/CONTROL.md). Any
// line either parses into a request or is refused with a documented error
// code and a one-line message; every reply is one line of JSON that says so.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "gw/control/request.hpp"

namespace {
constexpr std::array<std::string_view, 6> kParseErrors{
    "bad_json", "too_large", "unsupported_version", "unknown_command", "bad_request", "conflict"};

void check_reply(const std::string& reply, bool ok) {
  if (reply.empty() || reply.back() != '\n') std::abort();
  if (std::count(reply.begin(), reply.end(), '\n') != 1) std::abort();
  const auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("ok", !ok) != ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = gw::control::parse_request(line);
  if (const auto* e = std::get_if<gw::control::Error>(&r)) {
    if (std::find(kParseErrors.begin(), kParseErrors.end(), e->code) == kParseErrors.end()) {
      std::abort();
    }
    if (e->message.empty() || e->message.find('\n') != std::string::npos) std::abort();
    check_reply(gw::control::error_reply(*e), false);
    return 0;
  }
  const auto& req = std::get<gw::control::Request>(r);
  using gw::control::Command;
  if (req.command == Command::peer_add && req.new_peer.name.empty()) std::abort();
  if ((req.command == Command::peer_remove || req.command == Command::peer_set) &&
      req.peer.empty()) {
    std::abort();
  }
  if (req.command == Command::peer_set && req.changes.empty()) std::abort();
  if (req.command == Command::peer_add && (req.new_peer.psk_file || req.new_peer.public_key_file)) {
    std::abort();  // file names never come from a client
  }
  check_reply(gw::control::ok_reply({{"peer", req.peer}}), true);
  return 0;
}
