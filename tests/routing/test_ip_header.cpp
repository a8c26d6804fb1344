// SPDX-License-Identifier: MIT
// packet_length: the length an inner packet claims, trusted only when the
// header is complete and the packet fits in the buffer.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "gw/routing/ip_header.hpp"

using gw::routing::packet_length;
using Buf = std::vector<std::uint8_t>;

namespace {

// An IPv4 packet of `total` bytes (header length `ihl` words) in a buffer of
// `buffer` bytes; the total-length field says `total`.
Buf ipv4(std::size_t total, std::size_t buffer, std::uint8_t ihl = 5) {
  Buf b(buffer, 0);
  if (buffer > 0) b[0] = static_cast<std::uint8_t>(0x40 | ihl);
  if (buffer > 3) {
    b[2] = static_cast<std::uint8_t>(total >> 8);
    b[3] = static_cast<std::uint8_t>(total & 0xff);
  }
  return b;
}

// An IPv6 packet whose payload-length field says `payload`, in `buffer` bytes.
Buf ipv6(std::size_t payload, std::size_t buffer) {
  Buf b(buffer, 0);
  if (buffer > 0) b[0] = 0x60;
  if (buffer > 5) {
    b[4] = static_cast<std::uint8_t>(payload >> 8);
    b[5] = static_cast<std::uint8_t>(payload & 0xff);
  }
  return b;
}

}  // namespace

TEST_CASE("packet_length reads IPv4 total length") {
  CHECK(packet_length(ipv4(20, 20)) == 20u);
  CHECK(packet_length(ipv4(84, 84)) == 84u);
  CHECK(packet_length(ipv4(1420, 1420)) == 1420u);
  CHECK(packet_length(ipv4(65535, 65535)) == 65535u);
  CHECK(packet_length(ipv4(60, 60, 15)) == 60u);  // the longest header (options)
}

TEST_CASE("packet_length reads IPv6 payload length plus the fixed header") {
  CHECK(packet_length(ipv6(0, 40)) == 40u);
  CHECK(packet_length(ipv6(64, 104)) == 104u);
  CHECK(packet_length(ipv6(1380, 1420)) == 1420u);
  CHECK(packet_length(ipv6(65535, 65575)) == 65575u);
}

TEST_CASE("packet_length ignores padding after the packet") {
  CHECK(packet_length(ipv4(21, 32)) == 21u);  // padded to 16 bytes by the tunnel
  CHECK(packet_length(ipv4(20, 1500)) == 20u);
  CHECK(packet_length(ipv6(1, 48)) == 41u);
  CHECK(packet_length(ipv6(0, 1500)) == 40u);
}

TEST_CASE("packet_length refuses truncated headers") {
  CHECK_FALSE(packet_length({}));
  for (std::size_t n = 1; n < 20; ++n) {
    CAPTURE(n);
    CHECK_FALSE(packet_length(ipv4(n, n)));
    CHECK_FALSE(packet_length(ipv4(20, n)));
  }
  for (std::size_t n = 1; n < 40; ++n) {
    CAPTURE(n);
    CHECK_FALSE(packet_length(ipv6(0, n)));
  }
}

TEST_CASE("packet_length refuses a length beyond the buffer") {
  CHECK_FALSE(packet_length(ipv4(21, 20)));
  CHECK_FALSE(packet_length(ipv4(1500, 1499)));
  CHECK_FALSE(packet_length(ipv4(65535, 100)));
  CHECK_FALSE(packet_length(ipv6(1, 40)));
  CHECK_FALSE(packet_length(ipv6(1380, 1419)));
  CHECK_FALSE(packet_length(ipv6(65535, 1500)));
}

TEST_CASE("packet_length refuses an IPv4 length shorter than its header") {
  CHECK_FALSE(packet_length(ipv4(0, 40)));
  CHECK_FALSE(packet_length(ipv4(19, 40)));
  CHECK_FALSE(packet_length(ipv4(23, 40, 6)));  // 24-byte header, 23-byte packet
  CHECK(packet_length(ipv4(24, 40, 6)) == 24u);
  CHECK_FALSE(packet_length(ipv4(59, 60, 15)));
}

TEST_CASE("packet_length refuses versions other than 4 and 6") {
  for (unsigned version = 0; version < 16; ++version) {
    if (version == 4 || version == 6) continue;
    CAPTURE(version);
    Buf b = ipv4(60, 60);
    b[0] = static_cast<std::uint8_t>(version << 4 | 5);
    CHECK_FALSE(packet_length(b));
    Buf c = ipv6(20, 60);
    c[0] = static_cast<std::uint8_t>(version << 4);
    CHECK_FALSE(packet_length(c));
  }
}

TEST_CASE("packet_length reads the version from the first nibble only") {
  // An IPv6 header checked as IPv4 (or the reverse) would read the wrong field.
  Buf b = ipv6(20, 60);
  b[2] = 0x00;
  b[3] = 0x14;  // would be a 20-byte IPv4 total length
  CHECK(packet_length(b) == 60u);
  Buf c = ipv4(20, 60);
  c[4] = 0x00;
  c[5] = 0x14;  // would be an IPv6 payload of 20
  CHECK(packet_length(c) == 20u);
}
