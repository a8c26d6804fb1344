// SPDX-License-Identifier: MIT
// TUN offloads in user space, as pure functions over bytes (no syscalls).
//
// With IFF_VNET_HDR the kernel hands gw TCP and UDP "super-packets" of up to
// 64 KiB with a virtio_net_hdr in front, and accepts them back the same way.
// One read then carries dozens of packets, and one write delivers dozens to
// the receiving TCP stack. gw encrypts packet by packet, so:
//   segment()   cuts a super-packet read from the TUN into MTU-sized IP
//               packets with complete IPv4 header and TCP/UDP checksums;
//   Coalescer   joins decrypted TCP segments of one flow that follow each
//               other back into one super-packet for a single TUN write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gw/bytes.hpp"

namespace gw::offload {

// struct virtio_net_hdr (linux/virtio_net.h), in host byte order as the TUN
// device uses it (without TUNSETVNETLE/BE). 10 bytes on the wire.
struct VnetHdr {
  static constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr std::uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
  static constexpr std::uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoUdp = 3, kGsoTcpV6 = 4,
                                kGsoUdpL4 = 5, kGsoEcn = 0x80;
  std::uint8_t flags = 0;
  std::uint8_t gso_type = kGsoNone;
  std::uint16_t hdr_len = 0;      // IP + transport header bytes
  std::uint16_t gso_size = 0;     // payload bytes per segment
  std::uint16_t csum_start = 0;   // where the checksummed part starts
  std::uint16_t csum_offset = 0;  // where, from csum_start, the checksum goes
};
inline constexpr std::size_t kVnetHdrLen = 10;

std::optional<VnetHdr> read_vnet_hdr(Bytes frame) noexcept;      // nullopt: shorter than 10 bytes
void write_vnet_hdr(const VnetHdr& hdr, MutBytes out) noexcept;  // out.size() >= 10

// The Internet checksum (RFC 1071) of `data` added to `initial` (ones'
// complement, not folded, not inverted).
std::uint32_t checksum_add(Bytes data, std::uint32_t initial = 0) noexcept;
std::uint16_t checksum_fold(std::uint32_t sum) noexcept;  // folded, not inverted

// Where segment() puts the packets it makes: next() lends a buffer of at
// least `size` bytes (the packet is written at its start), commit() keeps the
// first `size` bytes of it as one packet.
class SegmentOutput {
 public:
  virtual ~SegmentOutput() = default;
  virtual MutBytes next(std::size_t size) = 0;  // empty span: out of room
  virtual void commit(std::size_t size) = 0;
};

enum class SegmentError : std::uint8_t {
  none,
  malformed,    // headers that do not parse or disagree with the vnet header
  unsupported,  // a gso_type or protocol gw does not segment
  out_of_room,  // the output ran out of buffers (the packets made so far stay)
};
const char* to_string(SegmentError e) noexcept;

// Turns one frame read from the TUN (vnet header, then the packet) into
// packets of at most `max_packet` bytes each (the interface MTU):
//   - no GSO: the packet as is, its checksum completed when NEEDS_CSUM;
//   - TCP (v4, v6) and UDP_L4 GSO: one packet per gso_size payload bytes,
//     headers copied and fixed (IPv4 total length, id + i, header checksum;
//     IPv6 payload length; TCP sequence number, FIN and PSH only on the last,
//     CWR only on the first; UDP length) and a full TCP/UDP checksum on each.
// The checksum field and hdr_len of a GSO frame are not trusted (the headers
// decide). TCP is cut finer than gso_size when gso_size would not fit
// max_packet; a UDP datagram or a non-GSO packet that does not fit is
// malformed. IPv6 extension headers before TCP/UDP are unsupported.
// Touches `frame` only to read it.
SegmentError segment(Bytes frame, std::size_t max_packet, SegmentOutput& out);

// Receives decrypted IP packets bound for the TUN and writes them in few
// frames (each with a vnet header in front). TCP segments of one flow whose
// sequence numbers follow each other, with identical IP/TCP headers otherwise
// (flags ACK, PSH only on the last one, the same options), equal payload
// sizes (the last may be shorter) and up to 64 KiB in all, become one TCPv4 or
// TCPv6 GSO frame with NEEDS_CSUM. Everything else goes out as it came, with
// an empty vnet header. Packets of one flow keep their order; packets of
// different flows may be reordered among themselves. Like GRO, a segment
// joins only when its IPv4 header and TCP checksums verify, and (without DF)
// when its IPv4 id follows the previous one's.
// All memory is allocated by the constructor: nothing per packet.
class Coalescer {
 public:
  // Room for up to `max_frames` frames and `arena_bytes` bytes of packets.
  explicit Coalescer(std::size_t max_frames = 128, std::size_t arena_bytes = 1u << 20);
  ~Coalescer();
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  // Copies `packet` in. False when there is no room: flush(), then add again
  // (a packet bigger than arena_bytes - 10 never fits).
  bool add(Bytes packet) noexcept;
  bool empty() const noexcept;

  // Where flush() puts the frames.
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual void write(Bytes frame) = 0;  // vnet header + packet
  };
  // Hands every frame to `writer` in order, then empties.
  void flush(Writer& writer);

  struct Stats {
    std::uint64_t packets = 0;    // packets added
    std::uint64_t frames = 0;     // frames written
    std::uint64_t coalesced = 0;  // packets that joined an earlier one
  };
  const Stats& stats() const noexcept { return stats_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  Stats stats_;
};

}  // namespace gw::offload
