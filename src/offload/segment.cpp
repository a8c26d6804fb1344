// SPDX-License-Identifier: MIT
// segment(): a frame read from the TUN (vnet header + packet, possibly a
// TCP/UDP GSO super-packet) into MTU-sized packets with complete checksums.
#include <algorithm>
#include <cstring>

#include "gw/offload/offload.hpp"
#include "packet.hpp"

namespace gw::offload {

using namespace detail;

namespace {

// The IP header of a packet whose length fields agree with its size exactly.
struct IpHeader {
  unsigned version = 0;
  std::size_t length = 0;  // IPv4 IHL * 4, or 40
  std::uint8_t proto = 0;  // IPv4 protocol or IPv6 next header
};

SegmentError parse_ip(Bytes pkt, IpHeader& ip) noexcept {
  const std::uint8_t* p = pkt.data();
  ip.version = p[0] >> 4u;
  if (ip.version == 4) {
    if (pkt.size() < kIpv4Header) return SegmentError::malformed;
    ip.length = std::size_t{p[0] & 0x0fu} * 4;
    if (ip.length < kIpv4Header || ip.length > pkt.size()) return SegmentError::malformed;
    if (load16(p + 2) != pkt.size()) return SegmentError::malformed;
    if ((load16(p + 6) & 0x3fffu) != 0) return SegmentError::malformed;  // MF or an offset
    ip.proto = p[9];
    return SegmentError::none;
  }
  if (ip.version == 6) {
    if (pkt.size() < kIpv6Header) return SegmentError::malformed;
    if (kIpv6Header + load16(p + 4) != pkt.size()) return SegmentError::malformed;
    ip.length = kIpv6Header;
    ip.proto = p[6];
    return SegmentError::none;
  }
  return SegmentError::malformed;
}

// The length of the TCP or UDP header at `at`, or 0 when it does not fit.
std::size_t l4_header_length(Bytes pkt, std::size_t at, std::uint8_t proto) noexcept {
  if (proto == kProtoUdp) return pkt.size() - at >= kUdpHeader ? kUdpHeader : 0;
  if (pkt.size() - at < kTcpHeader) return 0;
  const std::size_t len = static_cast<std::size_t>(pkt[at + 12] >> 4) * 4;
  return len >= kTcpHeader && len <= pkt.size() - at ? len : 0;
}

// Writes the full TCP or UDP checksum of the packet `p` (`size` bytes, IP
// header of `ip_len` bytes).
void complete_l4_checksum(std::uint8_t* p, std::size_t size, unsigned version, std::size_t ip_len,
                          std::uint8_t proto) noexcept {
  std::uint8_t* l4 = p + ip_len;
  const std::size_t l4_len = size - ip_len;
  std::uint8_t* field = l4 + (proto == kProtoTcp ? kTcpCsumOffset : kUdpCsumOffset);
  field[0] = 0;
  field[1] = 0;
  const std::uint32_t sum =
      checksum_add(Bytes(l4, l4_len), pseudo_header_sum(p, version, proto, l4_len));
  std::uint16_t csum = static_cast<std::uint16_t>(~checksum_fold(sum));
  if (csum == 0 && proto == kProtoUdp) csum = 0xffff;  // 0 would mean "no checksum"
  store16(field, csum);
}

SegmentError emit_copy(Bytes pkt, SegmentOutput& out, MutBytes& buf) {
  buf = out.next(pkt.size());
  if (buf.size() < pkt.size()) return SegmentError::out_of_room;
  std::memcpy(buf.data(), pkt.data(), pkt.size());
  return SegmentError::none;
}

// A frame without GSO: the packet as is, its checksum completed if asked.
SegmentError single(Bytes pkt, const VnetHdr& hdr, std::size_t max_packet, SegmentOutput& out) {
  if (pkt.size() > max_packet) return SegmentError::malformed;
  const bool needs_csum = (hdr.flags & VnetHdr::kNeedsCsum) != 0;
  const std::size_t start = hdr.csum_start;
  const std::size_t field = start + hdr.csum_offset;
  if (needs_csum && (field > pkt.size() || pkt.size() - field < 2)) {
    return SegmentError::malformed;
  }
  MutBytes buf;
  if (const SegmentError e = emit_copy(pkt, out, buf); e != SegmentError::none) return e;
  if (needs_csum) {
    std::uint8_t* p = buf.data();
    IpHeader ip;
    const bool l4 = parse_ip(pkt, ip) == SegmentError::none && start == ip.length &&
                    ((ip.proto == kProtoTcp && hdr.csum_offset == kTcpCsumOffset) ||
                     (ip.proto == kProtoUdp && hdr.csum_offset == kUdpCsumOffset)) &&
                    l4_header_length(pkt, ip.length, ip.proto) != 0;
    if (l4) {
      complete_l4_checksum(p, pkt.size(), ip.version, ip.length, ip.proto);
    } else {
      // The virtio rule: the field holds the pseudo-header sum (or whatever
      // the sender wants included); sum from csum_start to the end.
      const std::uint32_t sum = checksum_add(Bytes(p + start, pkt.size() - start));
      std::uint16_t csum = static_cast<std::uint16_t>(~checksum_fold(sum));
      if (csum == 0) csum = 0xffff;
      store16(p + field, csum);
    }
  }
  out.commit(pkt.size());
  return SegmentError::none;
}

}  // namespace

SegmentError segment(Bytes frame, std::size_t max_packet, SegmentOutput& out) {
  const std::optional<VnetHdr> hdr = read_vnet_hdr(frame);
  if (!hdr) return SegmentError::malformed;
  const Bytes pkt = frame.subspan(kVnetHdrLen);
  if (pkt.empty()) return SegmentError::malformed;

  const std::uint8_t gso = hdr->gso_type & static_cast<std::uint8_t>(~VnetHdr::kGsoEcn);
  if (gso == VnetHdr::kGsoNone) return single(pkt, *hdr, max_packet, out);
  if (gso != VnetHdr::kGsoTcpV4 && gso != VnetHdr::kGsoTcpV6 && gso != VnetHdr::kGsoUdpL4) {
    return SegmentError::unsupported;
  }
  if (hdr->gso_size == 0) return SegmentError::malformed;

  IpHeader ip;
  if (const SegmentError e = parse_ip(pkt, ip); e != SegmentError::none) return e;
  if ((gso == VnetHdr::kGsoTcpV4 && ip.version != 4) ||
      (gso == VnetHdr::kGsoTcpV6 && ip.version != 6)) {
    return SegmentError::malformed;
  }
  const bool tcp = gso != VnetHdr::kGsoUdpL4;
  const std::uint8_t proto = tcp ? kProtoTcp : kProtoUdp;
  if (ip.proto != proto) {
    return ip.version == 6 && is_ipv6_extension(ip.proto) ? SegmentError::unsupported
                                                          : SegmentError::malformed;
  }
  const std::size_t l4_len = l4_header_length(pkt, ip.length, proto);
  if (l4_len == 0) return SegmentError::malformed;
  if ((hdr->flags & VnetHdr::kNeedsCsum) != 0 &&
      (hdr->csum_start != ip.length ||
       hdr->csum_offset != (tcp ? kTcpCsumOffset : kUdpCsumOffset))) {
    return SegmentError::malformed;
  }
  // hdr_len is only a hint (some kernels get it wrong): the headers decide.
  const std::size_t head = ip.length + l4_len;
  const std::size_t payload = pkt.size() - head;
  if (head >= max_packet) return SegmentError::malformed;
  std::size_t step = hdr->gso_size;
  if (tcp) {
    step = std::min(step, max_packet - head);  // a byte stream may be cut finer
  } else if (head + std::min(step, payload) > max_packet) {
    return SegmentError::malformed;  // datagram boundaries are fixed
  }
  const std::size_t count = payload == 0 ? 1 : (payload + step - 1) / step;

  const std::uint8_t* src = pkt.data();
  const std::uint16_t id = ip.version == 4 ? load16(src + 4) : 0;
  const std::uint32_t seq = tcp ? load32(src + ip.length + 4) : 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t offset = i * step;
    const std::size_t chunk = std::min(step, payload - offset);
    const std::size_t size = head + chunk;
    const MutBytes buf = out.next(size);
    if (buf.size() < size) return SegmentError::out_of_room;
    std::uint8_t* p = buf.data();
    std::memcpy(p, src, head);
    std::memcpy(p + head, src + head + offset, chunk);

    if (ip.version == 4) {
      store16(p + 2, size);
      store16(p + 4, static_cast<std::uint16_t>(id + i));
      p[10] = 0;
      p[11] = 0;
      store16(p + 10, ipv4_header_checksum(p, ip.length));
    } else {
      store16(p + 4, size - kIpv6Header);
    }
    std::uint8_t* l4 = p + ip.length;
    if (tcp) {
      store32(l4 + 4, seq + static_cast<std::uint32_t>(offset));
      std::uint8_t flags = l4[13];
      if (i + 1 != count) flags &= static_cast<std::uint8_t>(~(kTcpFin | kTcpPsh));
      if (i != 0) flags &= static_cast<std::uint8_t>(~kTcpCwr);
      l4[13] = flags;
    } else {
      store16(l4 + 4, size - ip.length);
    }
    complete_l4_checksum(p, size, ip.version, ip.length, proto);
    out.commit(size);
  }
  return SegmentError::none;
}

}  // namespace gw::offload
