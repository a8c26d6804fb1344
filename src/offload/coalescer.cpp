// SPDX-License-Identifier: MIT
// Coalescer: TCP segments bound for the TUN joined into GSO frames (GRO in
// user space). Every buffer is allocated by the constructor.
#include <algorithm>
#include <cstring>
#include <limits>

#include "gw/offload/offload.hpp"
#include "packet.hpp"

namespace gw::offload {

using namespace detail;

namespace {

constexpr std::size_t kMaxSegments = 64;
constexpr std::size_t kMaxPacket = 65535;
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// A TCP flow in one direction: IP version, addresses, ports.
struct FlowKey {
  std::uint8_t version = 0;
  std::uint8_t addrs[32] = {};
  std::uint8_t ports[4] = {};
  bool operator==(const FlowKey&) const = default;
};

// What add() learns about a packet.
struct Info {
  enum class Kind : std::uint8_t {
    other,        // not TCP (or not IP): never merges, closes nothing
    tcp_unknown,  // IP that may carry TCP of some flow: closes its addresses' items
    tcp,          // a TCP segment with a known flow
  };
  Kind kind = Kind::other;
  bool candidate = false;  // may start or join an item
  FlowKey key;
  std::size_t ip_len = 0, tcp_len = 0, payload = 0;
  std::uint32_t seq = 0;
  std::uint16_t id = 0;
  bool psh = false;
};

bool same_addresses(const FlowKey& a, const FlowKey& b) noexcept {
  return a.version == b.version && std::memcmp(a.addrs, b.addrs, sizeof a.addrs) == 0;
}

Info inspect(Bytes pkt) noexcept {
  Info info;
  if (pkt.empty()) return info;
  const std::uint8_t* p = pkt.data();
  const unsigned version = p[0] >> 4u;
  std::uint8_t proto = 0;
  bool exact = false;  // length fields agree with the size, not a fragment, no options
  if (version == 4) {
    if (pkt.size() < kIpv4Header) return info;
    info.ip_len = std::size_t{p[0] & 0x0fu} * 4;
    proto = p[9];
    if (proto != kProtoTcp) return info;
    info.key.version = 4;
    std::memcpy(info.key.addrs, p + 12, 8);
    const std::uint16_t frag = load16(p + 6);
    if (info.ip_len < kIpv4Header || info.ip_len > pkt.size() || (frag & 0x1fffu) != 0) {
      info.kind = Info::Kind::tcp_unknown;  // TCP, but not a first fragment we can read
      return info;
    }
    exact = info.ip_len == kIpv4Header && load16(p + 2) == pkt.size() && (frag & 0xbfffu) == 0 &&
            checksum_fold(checksum_add(Bytes(p, kIpv4Header))) == 0xffff;
    info.id = load16(p + 4);
  } else if (version == 6) {
    if (pkt.size() < kIpv6Header) return info;
    info.ip_len = kIpv6Header;
    proto = p[6];
    info.key.version = 6;
    std::memcpy(info.key.addrs, p + 8, 32);
    if (proto != kProtoTcp) {
      if (is_ipv6_extension(proto)) info.kind = Info::Kind::tcp_unknown;
      return info;
    }
    exact = kIpv6Header + load16(p + 4) == pkt.size();
  } else {
    return info;
  }
  info.kind = Info::Kind::tcp_unknown;
  if (pkt.size() - info.ip_len < kTcpHeader) return info;
  const std::uint8_t* t = p + info.ip_len;
  info.kind = Info::Kind::tcp;
  std::memcpy(info.key.ports, t, 4);
  info.tcp_len = static_cast<std::size_t>(t[12] >> 4) * 4;
  if (!exact || info.tcp_len < kTcpHeader || info.tcp_len > pkt.size() - info.ip_len) {
    return info;
  }
  info.payload = pkt.size() - info.ip_len - info.tcp_len;
  const std::uint8_t flags = t[13];
  info.psh = (flags & kTcpPsh) != 0;
  if ((flags & static_cast<std::uint8_t>(~kTcpPsh)) != kTcpAck || info.payload == 0 ||
      pkt.size() > kMaxPacket) {
    return info;
  }
  // As GRO does: a segment that does not verify goes up alone, for the
  // kernel to drop, rather than hidden inside a frame it will trust.
  const std::size_t l4_len = pkt.size() - info.ip_len;
  const std::uint32_t sum =
      checksum_add(Bytes(t, l4_len), pseudo_header_sum(p, version, kProtoTcp, l4_len));
  if (checksum_fold(sum) != 0xffff) return info;
  info.seq = load32(t + 4);
  info.candidate = true;
  return info;
}

}  // namespace

struct Coalescer::Impl {
  // One frame to write: a packet as it came, or TCP segments joined.
  struct Item {
    std::uint32_t start = 0;       // arena offset of the vnet header slot
    std::uint32_t region_end = 0;  // end of the bytes stored right after it
    std::uint32_t first_piece = kNone, last_piece = kNone;  // payloads stored elsewhere
    std::uint32_t total = 0;                                // packet bytes in all
    std::uint32_t next_seq = 0;
    std::uint16_t ip_len = 0, tcp_len = 0, gso_size = 0, segments = 1, next_id = 0;
    bool contiguous = true;
    bool psh = false;
    FlowKey key;
  };
  struct Piece {
    std::uint32_t offset = 0, length = 0, next = kNone;
  };
  enum class Added : std::uint8_t { no_room, alone, merged };

  Impl(std::size_t max_frames, std::size_t arena_bytes)
      : frames_cap(std::max<std::size_t>(max_frames, 1)),
        arena(std::min<std::size_t>(arena_bytes, kNone)),
        scratch(kVnetHdrLen + kMaxPacket) {
    items.reserve(frames_cap);
    open.reserve(frames_cap);
    pieces.reserve(frames_cap * kMaxSegments);
  }

  std::uint8_t* at(std::uint32_t offset) noexcept { return arena.data() + offset; }

  void close(std::size_t open_index) noexcept {
    open[open_index] = open.back();
    open.pop_back();
  }

  bool can_join(const Item& item, Bytes pkt, const Info& info) noexcept {
    const std::uint8_t* head = at(item.start) + kVnetHdrLen;
    const std::uint8_t* p = pkt.data();
    if (info.tcp_len != item.tcp_len || info.seq != item.next_seq || info.payload > item.gso_size ||
        item.total + info.payload > kMaxPacket) {
      return false;
    }
    if (info.key.version == 4) {
      // TOS, flags (DF), TTL; the id must count up unless DF makes it moot.
      if (p[1] != head[1] || p[6] != head[6] || p[8] != head[8]) return false;
      if ((p[6] & 0x40u) == 0 && info.id != item.next_id) return false;
    } else if (std::memcmp(p, head, 4) != 0 || p[7] != head[7]) {
      return false;  // traffic class, flow label, hop limit
    }
    const std::uint8_t* t = p + info.ip_len;
    const std::uint8_t* ht = head + item.ip_len;
    // ack, data offset, window, urgent pointer, options.
    return std::memcmp(t + 8, ht + 8, 5) == 0 && std::memcmp(t + 14, ht + 14, 2) == 0 &&
           std::memcmp(t + 18, ht + 18, item.tcp_len - 18) == 0;
  }

  Added add(Bytes pkt) noexcept {
    const Info info = inspect(pkt);
    std::size_t found = open.size();  // index in `open` of the flow's item
    if (info.kind == Info::Kind::tcp) {
      for (std::size_t i = 0; i < open.size(); ++i) {
        if (items[open[i]].key == info.key) {
          found = i;
          break;
        }
      }
    }
    if (found != open.size() && info.candidate && can_join(items[open[found]], pkt, info)) {
      Item& item = items[open[found]];
      const std::uint8_t* payload = pkt.data() + info.ip_len + info.tcp_len;
      if (arena.size() - used < info.payload) return Added::no_room;
      if (item.contiguous && item.region_end == used) {
        item.region_end += static_cast<std::uint32_t>(info.payload);
      } else {
        item.contiguous = false;
        const auto index = static_cast<std::uint32_t>(pieces.size());
        pieces.push_back(
            {static_cast<std::uint32_t>(used), static_cast<std::uint32_t>(info.payload), kNone});
        if (item.last_piece == kNone) {
          item.first_piece = index;
        } else {
          pieces[item.last_piece].next = index;
        }
        item.last_piece = index;
      }
      std::memcpy(at(static_cast<std::uint32_t>(used)), payload, info.payload);
      used += info.payload;
      item.total += static_cast<std::uint32_t>(info.payload);
      item.next_seq += static_cast<std::uint32_t>(info.payload);
      ++item.next_id;
      ++item.segments;
      item.psh = info.psh;
      if (info.psh || info.payload < item.gso_size || item.segments == kMaxSegments ||
          item.total + item.gso_size > kMaxPacket) {
        close(found);
      }
      return Added::merged;
    }

    // A new item, alone or the first of a run.
    if (items.size() == frames_cap || arena.size() - used < kVnetHdrLen + pkt.size()) {
      return Added::no_room;
    }
    // Whatever of this flow is open must not overtake this packet.
    if (found != open.size()) {
      close(found);
    } else if (info.kind == Info::Kind::tcp_unknown) {
      for (std::size_t i = open.size(); i-- > 0;) {
        if (same_addresses(items[open[i]].key, info.key)) close(i);
      }
    }
    Item item;
    item.start = static_cast<std::uint32_t>(used);
    item.total = static_cast<std::uint32_t>(pkt.size());
    item.region_end = static_cast<std::uint32_t>(used + kVnetHdrLen + pkt.size());
    if (!pkt.empty()) std::memcpy(at(item.start) + kVnetHdrLen, pkt.data(), pkt.size());
    used += kVnetHdrLen + pkt.size();
    if (info.candidate) {
      item.key = info.key;
      item.ip_len = static_cast<std::uint16_t>(info.ip_len);
      item.tcp_len = static_cast<std::uint16_t>(info.tcp_len);
      item.gso_size = static_cast<std::uint16_t>(info.payload);
      item.next_seq = info.seq + static_cast<std::uint32_t>(info.payload);
      item.next_id = static_cast<std::uint16_t>(info.id + 1);
      item.psh = info.psh;
    }
    items.push_back(item);
    if (info.candidate && !info.psh && pkt.size() + info.payload <= kMaxPacket) {
      open.push_back(static_cast<std::uint32_t>(items.size() - 1));
    }
    return Added::alone;
  }

  // The frame of a joined item, its headers fixed for the whole.
  Bytes build(Item& item) noexcept {
    std::uint8_t* frame = at(item.start);
    if (!item.contiguous) {
      frame = scratch.data();
      std::size_t n = item.region_end - item.start;
      std::memcpy(frame, at(item.start), n);
      for (std::uint32_t i = item.first_piece; i != kNone; i = pieces[i].next) {
        std::memcpy(frame + n, at(pieces[i].offset), pieces[i].length);
        n += pieces[i].length;
      }
    }
    VnetHdr hdr;
    hdr.flags = VnetHdr::kNeedsCsum;
    hdr.gso_type = item.key.version == 4 ? VnetHdr::kGsoTcpV4 : VnetHdr::kGsoTcpV6;
    hdr.hdr_len = static_cast<std::uint16_t>(item.ip_len + item.tcp_len);
    hdr.gso_size = item.gso_size;
    hdr.csum_start = item.ip_len;
    hdr.csum_offset = static_cast<std::uint16_t>(kTcpCsumOffset);
    write_vnet_hdr(hdr, MutBytes(frame, kVnetHdrLen));
    std::uint8_t* p = frame + kVnetHdrLen;
    if (item.key.version == 4) {
      store16(p + 2, item.total);
      p[10] = 0;
      p[11] = 0;
      store16(p + 10, ipv4_header_checksum(p, item.ip_len));
    } else {
      store16(p + 4, item.total - kIpv6Header);
    }
    std::uint8_t* t = p + item.ip_len;
    if (item.psh) t[13] |= kTcpPsh;
    // CHECKSUM_PARTIAL: the pseudo-header sum, folded, not inverted.
    store16(t + kTcpCsumOffset, checksum_fold(pseudo_header_sum(p, item.key.version, kProtoTcp,
                                                                item.total - item.ip_len)));
    return Bytes(frame, kVnetHdrLen + item.total);
  }

  void reset() noexcept {
    items.clear();
    open.clear();
    pieces.clear();
    used = 0;
  }

  std::size_t frames_cap;
  std::vector<std::uint8_t> arena;
  std::size_t used = 0;
  std::vector<Item> items;
  std::vector<std::uint32_t> open;  // indices of the items that may still grow
  std::vector<Piece> pieces;
  std::vector<std::uint8_t> scratch;
};

Coalescer::Coalescer(std::size_t max_frames, std::size_t arena_bytes)
    : impl_(std::make_unique<Impl>(max_frames, arena_bytes)) {}

Coalescer::~Coalescer() = default;

bool Coalescer::add(Bytes packet) noexcept {
  switch (impl_->add(packet)) {
    case Impl::Added::no_room:
      return false;
    case Impl::Added::merged:
      ++stats_.coalesced;
      break;
    case Impl::Added::alone:
      break;
  }
  ++stats_.packets;
  return true;
}

bool Coalescer::empty() const noexcept {
  return impl_->items.empty();
}

void Coalescer::flush(Writer& writer) {
  struct Reset {
    Impl& impl;
    ~Reset() { impl.reset(); }
  } reset{*impl_};
  for (Impl::Item& item : impl_->items) {
    Bytes frame;
    if (item.segments == 1) {
      std::uint8_t* p = impl_->at(item.start);
      write_vnet_hdr(VnetHdr{}, MutBytes(p, kVnetHdrLen));
      frame = Bytes(p, kVnetHdrLen + item.total);
    } else {
      frame = impl_->build(item);
    }
    ++stats_.frames;
    writer.write(frame);
  }
}

}  // namespace gw::offload
