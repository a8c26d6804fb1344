// SPDX-License-Identifier: MIT
// Endpoints as logs and `gwctl show` print them: IPv6 in RFC 5952 form.
#include <doctest/doctest.h>

#include <array>

#include "gw/session/endpoint.hpp"

using gw::session::Endpoint;

TEST_CASE("endpoint text: IPv4, and IPv6 in RFC 5952 form within brackets") {
  CHECK(Endpoint::ipv4({192, 0, 2, 7}, 51820).to_string() == "192.0.2.7:51820");
  const std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  CHECK(Endpoint::ipv6(a, 40299).to_string() == "[2001:db8:3::9]:40299");
  // The longest run of zero groups is the one shortened; a single zero group stays.
  const std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  CHECK(Endpoint::ipv6(b, 1).to_string() == "[2001:db8:0:1::1]:1");
  const std::array<std::uint8_t, 16> any{};
  CHECK(Endpoint::ipv6(any, 443).to_string() == "[::]:443");
  CHECK(Endpoint{}.to_string() == "(none)");
}
