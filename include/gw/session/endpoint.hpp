// SPDX-License-Identifier: MIT
// A UDP endpoint (address and port) as the pure layers see it: plain bytes,
// no sockaddr. The daemon converts to and from the socket API.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "gw/bytes.hpp"
#include "gw/session/rate_limiter.hpp"

namespace gw::session {

struct Endpoint {
  enum class Family : std::uint8_t { none = 0, ipv4 = 4, ipv6 = 6 };

  Family family = Family::none;
  std::array<std::uint8_t, 16> address{};  // IPv4 in the first 4 bytes
  std::uint16_t port = 0;

  static Endpoint ipv4(std::array<std::uint8_t, 4> a, std::uint16_t port);
  static Endpoint ipv6(const std::array<std::uint8_t, 16>& a, std::uint16_t port);

  bool valid() const noexcept { return family != Family::none; }
  // The address bytes: 4 for IPv4, 16 for IPv6.
  Bytes address_bytes() const noexcept {
    return {address.data(), family == Family::ipv4 ? std::size_t{4} : std::size_t{16}};
  }
  // What the cookie MAC covers: the address bytes, then the port little-endian.
  std::size_t cookie_input(std::array<std::uint8_t, 18>& out) const noexcept;
  SourceKey source_key() const noexcept;
  std::string to_string() const;  // "192.0.2.1:51820", "[2001:db8::1]:51820"

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace gw::session
