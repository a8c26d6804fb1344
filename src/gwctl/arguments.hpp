// SPDX-License-Identifier: MIT
// Checks of the control commands' arguments, with the config file's rules
// (src/config), so that a typo is a usage error here rather than a refusal
// from gwd. A check returns its usage error's line, or nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::gwctl {

bool valid_interface_name(std::string_view s);
bool valid_peer_name(std::string_view s);

// IFACE of `cmd` ("peer list"): required, and an interface name.
std::optional<std::string> check_interface(const std::string& cmd, const std::string& iface);
// IFACE when it may be left out (show, version).
std::optional<std::string> check_optional_interface(const std::string& cmd,
                                                    const std::string& iface);
// PEER: a peer's name or a base64 public key.
std::optional<std::string> check_peer_ref(const std::string& cmd, const std::string& peer);

// "25", or "off" as `wg set` takes it.
std::optional<std::uint16_t> parse_keepalive(std::string_view text);

// "10.0.0.0/24, fd00::/64": comma-separated, spaces ignored; "" is the empty
// list. nullopt, with `bad` the item, when an item is not a prefix.
std::optional<std::vector<std::string>> parse_allowed_ips(std::string_view text, std::string& bad);

}  // namespace gw::gwctl
