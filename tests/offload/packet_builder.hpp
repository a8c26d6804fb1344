// SPDX-License-Identifier: MIT
// Test helpers for the offload tests: a small IPv4/IPv6 TCP/UDP packet
// builder, naive (word by word) checksum references and output collectors.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "gw/bytes.hpp"
#include "gw/offload/offload.hpp"

namespace gw::offload::test {

using Buf = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                              kUrg = 0x20, kEce = 0x40, kCwr = 0x80;
inline constexpr std::uint8_t kTcp = 6, kUdp = 17;

inline std::uint16_t get16(const Buf& b, std::size_t at) {
  return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}
inline std::uint32_t get32(const Buf& b, std::size_t at) {
  return std::uint32_t{get16(b, at)} << 16 | get16(b, at + 2);
}
inline void put16(Buf& b, std::size_t at, std::size_t v) {
  b.at(at) = static_cast<std::uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<std::uint8_t>(v);
}
inline void put32(Buf& b, std::size_t at, std::uint32_t v) {
  put16(b, at, v >> 16);
  put16(b, at + 2, v & 0xffff);
}

// RFC 1071 done the slow way: one big-endian 16-bit word at a time.
inline std::uint64_t naive_sum(Bytes data, std::uint64_t sum = 0) {
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const std::uint64_t hi = data[i];
    const std::uint64_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += hi << 8 | lo;
  }
  return sum;
}
inline std::uint16_t naive_fold(std::uint64_t sum) {
  while (sum > 0xffff)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

inline std::size_t ip_header_len(const Buf& p) {
  return (p.at(0) >> 4) == 4 ? static_cast<std::size_t>(p.at(0) & 0x0f) * 4 : 40;
}
inline std::uint8_t ip_proto(const Buf& p) {
  return (p.at(0) >> 4) == 4 ? p.at(9) : p.at(6);
}

inline std::uint64_t naive_pseudo(const Buf& p, std::uint8_t proto, std::size_t l4_len) {
  const bool v4 = (p.at(0) >> 4) == 4;
  const Bytes addrs = v4 ? Bytes(p.data() + 12, 8) : Bytes(p.data() + 8, 32);
  return naive_sum(addrs, std::uint64_t{proto} + (l4_len >> 16) + (l4_len & 0xffff));
}

// True when the IPv4 header checksum verifies (always true for IPv6).
inline bool ipv4_checksum_ok(const Buf& p) {
  if ((p.at(0) >> 4) != 4) return true;
  return naive_fold(naive_sum(Bytes(p.data(), ip_header_len(p)))) == 0xffff;
}

// True when the TCP or UDP checksum of a complete packet verifies.
inline bool l4_checksum_ok(const Buf& p) {
  const std::size_t ihl = ip_header_len(p);
  const std::size_t l4_len = p.size() - ihl;
  const std::uint64_t sum =
      naive_sum(Bytes(p.data() + ihl, l4_len), naive_pseudo(p, ip_proto(p), l4_len));
  if (ip_proto(p) == kUdp && get16(p, ihl + 6) == 0) return false;  // we always want one
  return naive_fold(sum) == 0xffff;
}

struct Spec {
  unsigned version = 4;
  std::uint8_t proto = kTcp;
  std::array<std::uint8_t, 16> src{10, 0, 0, 1};
  std::array<std::uint8_t, 16> dst{10, 0, 0, 2};
  std::uint16_t sport = 40000, dport = 443;
  std::uint32_t seq = 1000, ack = 77777;
  std::uint8_t flags = kAck;
  std::uint16_t window = 502, urgent = 0;
  std::uint32_t tsval = 123456, tsecr = 654321;
  bool timestamps = true;
  std::uint8_t tos = 0, ttl = 64, hop_limit = 64;
  std::uint16_t id = 100;
  bool df = true;
  std::uint16_t frag = 0;  // IPv4 MF + offset bits
  std::uint32_t flow_label = 0x12345;
  Buf ip_options;  // IPv4 options, a multiple of 4 bytes
  Buf payload;
};

inline Spec v6_spec() {
  Spec s;
  s.version = 6;
  s.src = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  s.dst = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  return s;
}

inline Buf pattern(std::size_t n, std::uint8_t seed = 1) {
  Buf b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::uint8_t>(i * 7 + seed + (i >> 8));
  return b;
}

// A complete packet with valid checksums.
inline Buf build(const Spec& s) {
  Buf l4;
  if (s.proto == kTcp) {
    const std::size_t opt = s.timestamps ? 12 : 0;
    l4.assign(20 + opt, 0);
    put16(l4, 0, s.sport);
    put16(l4, 2, s.dport);
    put32(l4, 4, s.seq);
    put32(l4, 8, s.ack);
    l4[12] = static_cast<std::uint8_t>((20 + opt) / 4 << 4);
    l4[13] = s.flags;
    put16(l4, 14, s.window);
    put16(l4, 18, s.urgent);
    if (s.timestamps) {
      l4[20] = 1;
      l4[21] = 1;
      l4[22] = 8;
      l4[23] = 10;
      put32(l4, 24, s.tsval);
      put32(l4, 28, s.tsecr);
    }
  } else if (s.proto == kUdp) {
    l4.assign(8, 0);
    put16(l4, 0, s.sport);
    put16(l4, 2, s.dport);
    put16(l4, 4, 8 + s.payload.size());
  }
  l4.insert(l4.end(), s.payload.begin(), s.payload.end());

  Buf p;
  if (s.version == 4) {
    const std::size_t ihl = 20 + s.ip_options.size();
    p.assign(ihl, 0);
    p[0] = static_cast<std::uint8_t>(0x40 | ihl / 4);
    p[1] = s.tos;
    put16(p, 2, ihl + l4.size());
    put16(p, 4, s.id);
    put16(p, 6, (s.df ? 0x4000u : 0u) | s.frag);
    p[8] = s.ttl;
    p[9] = s.proto;
    std::copy(s.src.begin(), s.src.begin() + 4, p.begin() + 12);
    std::copy(s.dst.begin(), s.dst.begin() + 4, p.begin() + 16);
    std::copy(s.ip_options.begin(), s.ip_options.end(), p.begin() + 20);
    put16(p, 10, static_cast<std::uint16_t>(~naive_fold(naive_sum(Bytes(p.data(), ihl)))));
  } else {
    p.assign(40, 0);
    put32(p, 0, 0x60000000u | std::uint32_t{s.tos} << 20 | (s.flow_label & 0xfffff));
    put16(p, 4, l4.size());
    p[6] = s.proto;
    p[7] = s.hop_limit;
    std::copy(s.src.begin(), s.src.end(), p.begin() + 8);
    std::copy(s.dst.begin(), s.dst.end(), p.begin() + 24);
  }
  const std::size_t ihl = p.size();
  p.insert(p.end(), l4.begin(), l4.end());
  if (s.proto == kTcp || s.proto == kUdp) {
    const std::size_t field = ihl + (s.proto == kTcp ? 16 : 6);
    const std::uint64_t sum =
        naive_sum(Bytes(p.data() + ihl, l4.size()), naive_pseudo(p, s.proto, l4.size()));
    std::uint16_t csum = static_cast<std::uint16_t>(~naive_fold(sum));
    if (csum == 0 && s.proto == kUdp) csum = 0xffff;
    put16(p, field, csum);
  }
  return p;
}

inline std::size_t l4_header_len(const Buf& p) {
  const std::size_t ihl = ip_header_len(p);
  return ip_proto(p) == kTcp ? static_cast<std::size_t>(p.at(ihl + 12) >> 4) * 4 : 8;
}
inline Buf payload_of(const Buf& p) {
  const std::size_t head = ip_header_len(p) + l4_header_len(p);
  return Buf(p.begin() + static_cast<std::ptrdiff_t>(head), p.end());
}
inline std::uint32_t seq_of(const Buf& p) {
  return get32(p, ip_header_len(p) + 4);
}
inline std::uint8_t flags_of(const Buf& p) {
  return p.at(ip_header_len(p) + 13);
}

inline Buf with_vnet(const VnetHdr& h, const Buf& packet) {
  Buf f(kVnetHdrLen + packet.size());
  write_vnet_hdr(h, f);
  std::copy(packet.begin(), packet.end(), f.begin() + kVnetHdrLen);
  return f;
}

// A GSO frame as the kernel hands it over: NEEDS_CSUM and, in the checksum
// field, the pseudo-header sum of the whole (which segment() must ignore).
inline Buf gso_frame(Buf packet, std::uint8_t gso_type, std::uint16_t gso_size) {
  const std::size_t ihl = ip_header_len(packet);
  const std::uint8_t proto = ip_proto(packet);
  const std::size_t field = ihl + (proto == kTcp ? 16 : 6);
  put16(packet, field, naive_fold(naive_pseudo(packet, proto, packet.size() - ihl)));
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.gso_type = gso_type;
  h.hdr_len = static_cast<std::uint16_t>(ihl + l4_header_len(packet));
  h.gso_size = gso_size;
  h.csum_start = static_cast<std::uint16_t>(ihl);
  h.csum_offset = static_cast<std::uint16_t>(proto == kTcp ? 16 : 6);
  return with_vnet(h, packet);
}

// Collects segment()'s packets; gives no buffer after `limit` packets.
class Collect final : public SegmentOutput {
 public:
  explicit Collect(std::size_t limit = std::numeric_limits<std::size_t>::max()) : limit_(limit) {}
  MutBytes next(std::size_t size) override {
    if (packets.size() >= limit_) return {};
    buf_.assign(size + 16, 0xa5);  // a little slack, filled with junk
    return buf_;
  }
  void commit(std::size_t size) override {
    packets.emplace_back(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(size));
  }
  std::vector<Buf> packets;

 private:
  std::size_t limit_;
  Buf buf_;
};

class Frames final : public Coalescer::Writer {
 public:
  void write(Bytes frame) override { frames.emplace_back(frame.begin(), frame.end()); }
  std::vector<Buf> frames;
};

inline Bytes packet_of(const Buf& frame) {
  return Bytes(frame).subspan(kVnetHdrLen);
}

}  // namespace gw::offload::test
