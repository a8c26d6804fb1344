// SPDX-License-Identifier: MIT
#include "gw/session/endpoint.hpp"

#include <algorithm>
#include <cstdio>

#include "gw/routing/allowed_ips.hpp"

namespace gw::session {

Endpoint Endpoint::ipv4(std::array<std::uint8_t, 4> a, std::uint16_t port) {
  Endpoint e;
  e.family = Family::ipv4;
  std::copy(a.begin(), a.end(), e.address.begin());
  e.port = port;
  return e;
}

Endpoint Endpoint::ipv6(const std::array<std::uint8_t, 16>& a, std::uint16_t port) {
  Endpoint e;
  e.family = Family::ipv6;
  e.address = a;
  e.port = port;
  return e;
}

std::size_t Endpoint::cookie_input(std::array<std::uint8_t, 18>& out) const noexcept {
  const Bytes a = address_bytes();
  std::copy(a.begin(), a.end(), out.begin());
  out[a.size()] = static_cast<std::uint8_t>(port);
  out[a.size() + 1] = static_cast<std::uint8_t>(port >> 8);
  return a.size() + 2;
}

SourceKey Endpoint::source_key() const noexcept {
  if (family == Family::ipv4) {
    return SourceKey::ipv4(std::span<const std::uint8_t, 4>(address.data(), 4));
  }
  return SourceKey::ipv6(std::span<const std::uint8_t, 16>(address.data(), 16));
}

std::string Endpoint::to_string() const {
  char buf[64];
  if (family == Family::ipv4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", address[0], address[1], address[2], address[3],
                  port);
    return buf;
  }
  if (family == Family::none) return "(none)";
  // RFC 5952: lowercase, no leading zeros, the longest run of zero groups as "::".
  std::string text = routing::Prefix{routing::Family::v6, address, 128}.to_string();
  text.resize(text.size() - 4);  // "/128"
  std::snprintf(buf, sizeof buf, "]:%u", port);
  return "[" + text + buf;
}

}  // namespace gw::session
