// SPDX-License-Identifier: MIT
#include "arguments.hpp"

#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"

namespace gw::gwctl {

namespace {

bool is_name_char(char c, std::string_view extra) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string_view::npos;
}

}  // namespace

bool valid_interface_name(std::string_view s) {
  if (s.empty() || s.size() > config::kMaxInterfaceName || s == "." || s == "..") return false;
  for (const char c : s) {
    if (!is_name_char(c, "_.-")) return false;
  }
  return true;
}

bool valid_peer_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s) {
    if (!is_name_char(c, "_.@+-")) return false;
  }
  return true;
}

std::optional<std::string> check_interface(const std::string& cmd, const std::string& iface) {
  if (iface.empty()) return cmd + ": IFACE is required (see gwctl " + cmd + " --help)";
  if (!valid_interface_name(iface)) {
    return cmd + ": \"" + iface + "\" is not an interface name (1 to 15 letters, digits or _ . -)";
  }
  return std::nullopt;
}

std::optional<std::string> check_optional_interface(const std::string& cmd,
                                                    const std::string& iface) {
  return iface.empty() ? std::nullopt : check_interface(cmd, iface);
}

std::optional<std::string> check_peer_ref(const std::string& cmd, const std::string& peer) {
  if (peer.empty()) return cmd + ": PEER is required (see gwctl " + cmd + " --help)";
  if (!valid_peer_name(peer) && !config::parse_public_key(peer)) {
    return cmd + ": \"" + peer + "\" is neither a peer name nor a base64 public key";
  }
  return std::nullopt;
}

std::optional<std::uint16_t> parse_keepalive(std::string_view text) {
  if (text == "off") return 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<std::vector<std::string>> parse_allowed_ips(std::string_view text, std::string& bad) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&]() {
    if (item.empty()) return true;
    if (!config::valid_prefix(item)) {
      bad = item;
      return false;
    }
    out.push_back(item);
    item.clear();
    return true;
  };
  for (const char c : text) {
    if (c == ',') {
      if (!flush()) return std::nullopt;
    } else if (c != ' ') {
      item += c;
    }
  }
  if (!flush()) return std::nullopt;
  return out;
}

}  // namespace gw::gwctl
