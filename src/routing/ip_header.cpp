// SPDX-License-Identifier: MIT
#include "gw/routing/ip_header.hpp"

namespace gw::routing {

namespace {
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;

std::size_t be16(Bytes b, std::size_t at) noexcept {
  return static_cast<std::size_t>(b[at]) << 8 | b[at + 1];
}
}  // namespace

std::optional<std::size_t> packet_length(Bytes packet) noexcept {
  if (packet.empty()) return std::nullopt;
  const unsigned version = packet[0] >> 4;
  std::size_t length = 0;
  if (version == 4 && packet.size() >= kIpv4MinHeader) {
    length = be16(packet, 2);
    if (length < kIpv4MinHeader || length < std::size_t{packet[0] & 0x0fu} * 4) {
      return std::nullopt;
    }
  } else if (version == 6 && packet.size() >= kIpv6Header) {
    length = kIpv6Header + be16(packet, 4);
  } else {
    return std::nullopt;
  }
  if (length > packet.size()) return std::nullopt;
  return length;
}

}  // namespace gw::routing
