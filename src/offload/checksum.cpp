// SPDX-License-Identifier: MIT
// The virtio_net_hdr codec and the Internet checksum (RFC 1071).
#include <bit>
#include <cstring>

#include "gw/offload/offload.hpp"

namespace gw::offload {

namespace {

std::uint16_t load_host16(const std::uint8_t* p) noexcept {
  std::uint16_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store_host16(std::uint8_t* p, std::uint16_t v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

// Folds a 64-bit ones' complement accumulator to 16 bits (2^16 = 1 modulo
// 0xffff, so every carry goes back in at the bottom).
std::uint16_t fold64(std::uint64_t acc) noexcept {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

}  // namespace

std::optional<VnetHdr> read_vnet_hdr(Bytes frame) noexcept {
  if (frame.size() < kVnetHdrLen) return std::nullopt;
  const std::uint8_t* p = frame.data();
  VnetHdr h;
  h.flags = p[0];
  h.gso_type = p[1];
  h.hdr_len = load_host16(p + 2);
  h.gso_size = load_host16(p + 4);
  h.csum_start = load_host16(p + 6);
  h.csum_offset = load_host16(p + 8);
  return h;
}

void write_vnet_hdr(const VnetHdr& hdr, MutBytes out) noexcept {
  std::uint8_t* p = out.data();
  p[0] = hdr.flags;
  p[1] = hdr.gso_type;
  store_host16(p + 2, hdr.hdr_len);
  store_host16(p + 4, hdr.gso_size);
  store_host16(p + 6, hdr.csum_start);
  store_host16(p + 8, hdr.csum_offset);
}

std::uint32_t checksum_add(Bytes data, std::uint32_t initial) noexcept {
  // Sums native 64-bit words with end-around carry: by RFC 1071's byte order
  // independence, the folded sum of little-endian words is the byte-swapped
  // sum of the big-endian 16-bit words.
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  std::uint64_t a = 0, b = 0;
  while (n >= 16) {
    std::uint64_t w0 = 0, w1 = 0;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    a += w0;
    a += a < w0 ? 1u : 0u;
    b += w1;
    b += b < w1 ? 1u : 0u;
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    a += w;
    a += a < w ? 1u : 0u;
    p += 8;
    n -= 8;
  }
  a += b;
  a += a < b ? 1u : 0u;
  std::uint16_t words = fold64(a);
  if constexpr (std::endian::native == std::endian::little) {
    words = static_cast<std::uint16_t>(words << 8 | words >> 8);
  }
  std::uint64_t total = std::uint64_t{initial} + words;
  for (; n >= 2; p += 2, n -= 2)
    total += static_cast<std::uint64_t>(p[0]) << 8 | p[1];
  if (n == 1) total += static_cast<std::uint64_t>(p[0]) << 8;
  total = (total & 0xffffffffu) + (total >> 32);
  total = (total & 0xffffffffu) + (total >> 32);
  return static_cast<std::uint32_t>(total);
}

std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

const char* to_string(SegmentError e) noexcept {
  switch (e) {
    case SegmentError::none:
      return "none";
    case SegmentError::malformed:
      return "malformed";
    case SegmentError::unsupported:
      return "unsupported";
    case SegmentError::out_of_room:
      return "out_of_room";
  }
  return "unknown";
}

}  // namespace gw::offload
