// SPDX-License-Identifier: MIT
// Byte-level helpers shared by segment() and the Coalescer (internal).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gw/offload/offload.hpp"

namespace gw::offload::detail {

inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::size_t kIpv4Header = 20;
inline constexpr std::size_t kIpv6Header = 40;
inline constexpr std::size_t kTcpHeader = 20;
inline constexpr std::size_t kUdpHeader = 8;
inline constexpr std::size_t kTcpCsumOffset = 16;
inline constexpr std::size_t kUdpCsumOffset = 6;
inline constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                              kTcpAck = 0x10, kTcpUrg = 0x20, kTcpEce = 0x40, kTcpCwr = 0x80;

inline std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline void store16(std::uint8_t* p, std::size_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// The unfolded sum of the TCP/UDP pseudo-header of `packet` (IPv4 when
// `version` is 4, else IPv6; the addresses must be in bounds) for a transport
// segment of `l4_len` bytes.
inline std::uint32_t pseudo_header_sum(const std::uint8_t* packet, unsigned version,
                                       std::uint8_t proto, std::size_t l4_len) noexcept {
  const Bytes addrs = version == 4 ? Bytes(packet + 12, 8) : Bytes(packet + 8, 32);
  const std::uint32_t extra = static_cast<std::uint32_t>(proto) +
                              static_cast<std::uint32_t>(l4_len >> 16) +
                              static_cast<std::uint32_t>(l4_len & 0xffff);
  return checksum_add(addrs, extra);
}

// The complete (inverted) checksum of the IPv4 header at `packet`, whose
// checksum field must already hold zero.
inline std::uint16_t ipv4_header_checksum(const std::uint8_t* packet, std::size_t ihl) noexcept {
  return static_cast<std::uint16_t>(~checksum_fold(checksum_add(Bytes(packet, ihl))));
}

// Next-header values of IPv6 extension headers (RFC 8200 and the IANA list).
inline bool is_ipv6_extension(std::uint8_t next) noexcept {
  switch (next) {
    case 0:    // hop-by-hop options
    case 43:   // routing
    case 44:   // fragment
    case 50:   // ESP
    case 51:   // AH
    case 60:   // destination options
    case 135:  // mobility
    case 139:  // HIP
    case 140:  // shim6
    case 253:  // experiments
    case 254:
      return true;
    default:
      return false;
  }
}

}  // namespace gw::offload::detail
