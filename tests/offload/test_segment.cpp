// SPDX-License-Identifier: MIT
// The checksum helpers, the vnet header codec and segment(): super-packets
// read from the TUN cut into MTU-sized packets with complete checksums.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gw/offload/offload.hpp"
#include "packet_builder.hpp"

using namespace gw::offload;
using namespace gw::offload::test;

namespace {

// Checks the packets of a TCP super-packet `original` cut at `mss`.
void check_tcp_segments(const Buf& original, const std::vector<Buf>& packets, std::size_t mss,
                        std::size_t max_packet) {
  const Buf payload = payload_of(original);
  const std::size_t count = (payload.size() + mss - 1) / mss;
  REQUIRE(packets.size() == count);
  const std::uint8_t flags = flags_of(original);
  Buf joined;
  const bool v4 = (original[0] >> 4) == 4;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const Buf& p = packets[i];
    CHECK(p.size() <= max_packet);
    CHECK(ipv4_checksum_ok(p));
    CHECK(l4_checksum_ok(p));
    if (v4) {
      CHECK(get16(p, 2) == p.size());
      CHECK(get16(p, 4) == static_cast<std::uint16_t>(get16(original, 4) + i));
    } else {
      CHECK(get16(p, 4) + 40u == p.size());
    }
    CHECK(seq_of(p) == static_cast<std::uint32_t>(seq_of(original) + i * mss));
    std::uint8_t want = flags;
    if (i + 1 != count) want &= static_cast<std::uint8_t>(~(kFin | kPsh));
    if (i != 0) want &= static_cast<std::uint8_t>(~kCwr);
    CHECK(flags_of(p) == want);
    const Buf part = payload_of(p);
    if (i + 1 != count) CHECK(part.size() == mss);
    joined.insert(joined.end(), part.begin(), part.end());
    // Everything else in the headers is copied.
    const std::size_t head = ip_header_len(p) + l4_header_len(p);
    for (std::size_t b = ip_header_len(p) + 18; b < head; ++b)
      CHECK(p[b] == original[b]);
  }
  CHECK(joined == payload);
}

std::size_t head_len(const Buf& p) {
  return ip_header_len(p) + l4_header_len(p);
}

}  // namespace

TEST_SUITE("offload") {
  TEST_CASE("checksum_add and checksum_fold agree with a word-by-word reference") {
    std::mt19937 rng(7);
    for (std::size_t len :
         {0u, 1u, 2u, 3u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 63u, 64u, 65u, 1499u, 1500u, 65535u}) {
      for (int round = 0; round < 4; ++round) {
        Buf data(len);
        for (auto& b : data)
          b = static_cast<std::uint8_t>(round == 3 ? 0xff : rng());
        const std::uint32_t initial = round == 0 ? 0 : static_cast<std::uint32_t>(rng());
        const std::uint16_t want = naive_fold(naive_sum(data, initial));
        CHECK(checksum_fold(checksum_add(data, initial)) == want);
        // Summing in two even-split parts gives the same.
        const std::size_t cut = (len / 3) & ~std::size_t{1};
        const std::uint32_t first = checksum_add(gw::Bytes(data).first(cut), initial);
        CHECK(checksum_fold(checksum_add(gw::Bytes(data).subspan(cut), first)) == want);
      }
    }
    CHECK(checksum_fold(0xffffffffu) == 0xffff);
    CHECK(checksum_fold(0x0001fffeu) == 0xffff);
    CHECK(checksum_fold(0) == 0);
  }

  TEST_CASE("the vnet header codec round-trips in host byte order") {
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.gso_type = VnetHdr::kGsoTcpV6;
    h.hdr_len = 72;
    h.gso_size = 1368;
    h.csum_start = 40;
    h.csum_offset = 16;
    Buf b(12, 0xee);
    write_vnet_hdr(h, b);
    CHECK(b[10] == 0xee);
    const auto r = read_vnet_hdr(b);
    REQUIRE(r);
    CHECK(r->flags == h.flags);
    CHECK(r->gso_type == h.gso_type);
    CHECK(r->hdr_len == h.hdr_len);
    CHECK(r->gso_size == h.gso_size);
    CHECK(r->csum_start == h.csum_start);
    CHECK(r->csum_offset == h.csum_offset);
    std::uint16_t native = 0;
    std::memcpy(&native, b.data() + 4, 2);
    CHECK(native == 1368);
    CHECK_FALSE(read_vnet_hdr(gw::Bytes(b).first(9)));
    CHECK(std::string(to_string(SegmentError::out_of_room)) == "out_of_room");
  }

  TEST_CASE("segment cuts a TCPv4 super-packet into MSS-sized packets") {
    Spec s;
    s.payload = pattern(64000);
    s.flags = kAck | kPsh | kFin | kCwr;
    s.id = 65530;  // wraps
    const Buf original = build(s);
    const std::size_t max_packet = 20 + 32 + 1380;
    Collect out;
    REQUIRE(segment(gso_frame(original, VnetHdr::kGsoTcpV4, 1380), max_packet, out) ==
            SegmentError::none);
    check_tcp_segments(original, out.packets, 1380, max_packet);
  }

  TEST_CASE("segment cuts a TCPv6 super-packet, ECN flag in the GSO type") {
    Spec s = v6_spec();
    s.payload = pattern(64000, 3);
    s.flags = kAck | kPsh | kCwr | kEce;
    s.seq = 0xffffff00u;  // wraps
    const Buf original = build(s);
    const std::size_t max_packet = 1440;
    Collect out;
    REQUIRE(segment(gso_frame(original, VnetHdr::kGsoTcpV6 | VnetHdr::kGsoEcn, 1368), max_packet,
                    out) == SegmentError::none);
    check_tcp_segments(original, out.packets, 1368, max_packet);
    CHECK((flags_of(out.packets[1]) & kEce) != 0);
  }

  TEST_CASE("segment ignores a wrong checksum field and a wrong hdr_len in GSO frames") {
    Spec s;
    s.payload = pattern(5000);
    const Buf original = build(s);
    Buf frame = gso_frame(original, VnetHdr::kGsoTcpV4, 1000);
    frame[kVnetHdrLen + 36] ^= 0x5a;  // the TCP checksum field
    frame[2] = 3;                     // hdr_len
    Collect out;
    REQUIRE(segment(frame, 1500, out) == SegmentError::none);
    check_tcp_segments(original, out.packets, 1000, 1500);
  }

  TEST_CASE("segment cuts TCP finer when gso_size does not fit max_packet") {
    Spec s;
    s.payload = pattern(4000);
    const Buf original = build(s);
    Collect out;
    REQUIRE(segment(gso_frame(original, VnetHdr::kGsoTcpV4, 1448), 1052, out) ==
            SegmentError::none);
    check_tcp_segments(original, out.packets, 1000, 1052);
  }

  TEST_CASE("segment emits a GSO packet that already fits once, flags kept") {
    Spec s = v6_spec();
    s.payload = pattern(700);
    s.flags = kAck | kPsh | kFin | kCwr;
    const Buf original = build(s);
    Collect out;
    REQUIRE(segment(gso_frame(original, VnetHdr::kGsoTcpV6, 1368), 1500, out) ==
            SegmentError::none);
    REQUIRE(out.packets.size() == 1);
    CHECK(out.packets[0] == original);

    Spec bare;
    bare.payload.clear();  // headers only
    const Buf empty = build(bare);
    Collect out2;
    REQUIRE(segment(gso_frame(empty, VnetHdr::kGsoTcpV4, 1000), 1500, out2) == SegmentError::none);
    REQUIRE(out2.packets.size() == 1);
    CHECK(out2.packets[0] == empty);
  }

  TEST_CASE("segment cuts UDP_L4 super-packets into datagrams with their own length") {
    for (unsigned version : {4u, 6u}) {
      CAPTURE(version);
      Spec s = version == 4 ? Spec{} : v6_spec();
      s.proto = kUdp;
      s.sport = 4433;
      s.dport = 51820;
      s.payload = pattern(10 * 1200 + 500, 9);
      const Buf original = build(s);
      Collect out;
      REQUIRE(segment(gso_frame(original, VnetHdr::kGsoUdpL4, 1200), 1400, out) ==
              SegmentError::none);
      REQUIRE(out.packets.size() == 11);
      Buf joined;
      for (std::size_t i = 0; i < out.packets.size(); ++i) {
        const Buf& p = out.packets[i];
        const std::size_t ihl = ip_header_len(p);
        CHECK(p.size() == ihl + 8 + (i < 10 ? 1200 : 500));
        CHECK(get16(p, ihl + 4) == p.size() - ihl);
        CHECK(ipv4_checksum_ok(p));
        CHECK(l4_checksum_ok(p));
        if (version == 4) CHECK(get16(p, 4) == s.id + i);
        const Buf part = payload_of(p);
        joined.insert(joined.end(), part.begin(), part.end());
      }
      CHECK(joined == s.payload);
    }
  }

  TEST_CASE("segment writes a UDP checksum that comes out 0 as 0xffff") {
    // Find a 2-byte payload whose checksum is 0: the payload word is the
    // one that makes the sum 0xffff.
    Spec s;
    s.proto = kUdp;
    s.payload = {0, 0};
    Buf p = build(s);
    const std::size_t ihl = 20;
    put16(p, ihl + 6, 0);
    const std::uint16_t rest =
        naive_fold(naive_sum(gw::Bytes(p).subspan(ihl), naive_pseudo(p, kUdp, p.size() - ihl)));
    put16(p, ihl + 8, static_cast<std::uint16_t>(~rest));
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.csum_start = ihl;
    h.csum_offset = 6;
    Collect out;
    REQUIRE(segment(with_vnet(h, p), 1500, out) == SegmentError::none);
    REQUIRE(out.packets.size() == 1);
    CHECK(get16(out.packets[0], ihl + 6) == 0xffff);
    CHECK(l4_checksum_ok(out.packets[0]));
  }

  TEST_CASE("segment completes the checksum of a single NEEDS_CSUM TCP or UDP packet") {
    for (std::uint8_t proto : {kTcp, kUdp}) {
      for (unsigned version : {4u, 6u}) {
        CAPTURE(version);
        CAPTURE(int{proto});
        Spec s = version == 4 ? Spec{} : v6_spec();
        s.proto = proto;
        s.payload = pattern(999, 5);
        const Buf want = build(s);
        // The kernel leaves the pseudo-header sum in the field.
        Buf frame = gso_frame(want, VnetHdr::kGsoNone, 0);
        CHECK(frame != with_vnet(VnetHdr{}, want));
        Collect out;
        REQUIRE(segment(frame, 1500, out) == SegmentError::none);
        REQUIRE(out.packets.size() == 1);
        CHECK(out.packets[0] == want);
      }
    }
  }

  TEST_CASE("segment completes other protocols' checksums by the virtio rule") {
    // An ICMPv6-like packet: the sum from csum_start to the end, field included.
    Spec s = v6_spec();
    s.proto = 58;
    s.payload = pattern(101, 4);
    Buf p = build(s);
    put16(p, 40 + 2, 0x1234);  // whatever the sender left there
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.csum_start = 40;
    h.csum_offset = 2;
    Collect out;
    REQUIRE(segment(with_vnet(h, p), 1500, out) == SegmentError::none);
    REQUIRE(out.packets.size() == 1);
    Buf want = p;
    std::uint16_t csum =
        static_cast<std::uint16_t>(~naive_fold(naive_sum(gw::Bytes(p).subspan(40))));
    if (csum == 0) csum = 0xffff;
    put16(want, 42, csum);
    CHECK(out.packets[0] == want);
    // With the old field content counted as the pseudo-header, it verifies.
    CHECK(naive_fold(naive_sum(gw::Bytes(out.packets[0]).subspan(40), 0x1234)) == 0xffff);
  }

  TEST_CASE("segment copies a frame without GSO or NEEDS_CSUM as is") {
    Buf junk = pattern(333, 8);  // not even IP
    Collect out;
    REQUIRE(segment(with_vnet(VnetHdr{}, junk), 1500, out) == SegmentError::none);
    REQUIRE(out.packets.size() == 1);
    CHECK(out.packets[0] == junk);
    Collect small;
    CHECK(segment(with_vnet(VnetHdr{}, junk), 300, small) == SegmentError::malformed);
    CHECK(small.packets.empty());
  }

  TEST_CASE("segment refuses malformed and unsupported frames") {
    Spec s;
    s.payload = pattern(3000);
    const Buf good = build(s);
    const Buf frame = gso_frame(good, VnetHdr::kGsoTcpV4, 1000);
    auto run = [](Buf f, std::size_t max_packet = 1500) {
      Collect out;
      const SegmentError e = segment(f, max_packet, out);
      if (e != SegmentError::none) CHECK(out.packets.empty());
      return e;
    };
    CHECK(run(frame) == SegmentError::none);

    SUBCASE("short frames and every truncation") {
      CHECK(run(Buf(5, 0)) == SegmentError::malformed);
      CHECK(run(Buf(kVnetHdrLen, 0)) == SegmentError::malformed);
      for (std::size_t n = kVnetHdrLen; n < frame.size(); n += (n < 200 ? 1 : 97)) {
        CAPTURE(n);
        CHECK(run(Buf(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n))) ==
              SegmentError::malformed);
      }
    }
    SUBCASE("bad IHL") {
      Buf f = frame;
      f[kVnetHdrLen] = 0x44;
      CHECK(run(f) == SegmentError::malformed);
      f[kVnetHdrLen] = 0x4f;  // 60 bytes: reaches into the TCP header, headers disagree
      CHECK(run(f) == SegmentError::malformed);
    }
    SUBCASE("IP lengths disagreeing with the frame") {
      Buf f = frame;
      put16(f, kVnetHdrLen + 2, good.size() - 1);
      CHECK(run(f) == SegmentError::malformed);
      Spec s6 = v6_spec();
      s6.payload = pattern(3000);
      Buf f6 = gso_frame(build(s6), VnetHdr::kGsoTcpV6, 1000);
      put16(f6, kVnetHdrLen + 4, 3000 + 32 + 1);
      CHECK(run(f6) == SegmentError::malformed);
    }
    SUBCASE("gso_size 0") {
      Buf f = frame;
      f[4] = 0;
      f[5] = 0;
      CHECK(run(f) == SegmentError::malformed);
    }
    SUBCASE("unknown or unsupported gso_type") {
      Buf f = frame;
      f[1] = 2;
      CHECK(run(f) == SegmentError::unsupported);
      f[1] = VnetHdr::kGsoUdp;  // UFO
      CHECK(run(f) == SegmentError::unsupported);
      f[1] = 0x7f;
      CHECK(run(f) == SegmentError::unsupported);
    }
    SUBCASE("gso_type disagreeing with the packet") {
      Buf f = frame;
      f[1] = VnetHdr::kGsoTcpV6;
      CHECK(run(f) == SegmentError::malformed);
      f[1] = VnetHdr::kGsoUdpL4;
      CHECK(run(f) == SegmentError::malformed);
      Buf g = frame;
      g[6] = 21;  // csum_start
      CHECK(run(g) == SegmentError::malformed);
    }
    SUBCASE("IPv6 extension header") {
      Spec s6 = v6_spec();
      s6.payload = pattern(3000);
      Buf f6 = gso_frame(build(s6), VnetHdr::kGsoTcpV6, 1000);
      f6[kVnetHdrLen + 6] = 0;  // hop-by-hop
      CHECK(run(f6) == SegmentError::unsupported);
      f6[kVnetHdrLen + 6] = 44;  // fragment
      CHECK(run(f6) == SegmentError::unsupported);
      f6[kVnetHdrLen + 6] = 17;  // UDP under a TCP GSO type
      CHECK(run(f6) == SegmentError::malformed);
    }
    SUBCASE("IPv4 fragments") {
      Buf f = frame;
      f[kVnetHdrLen + 6] |= 0x20;  // MF
      CHECK(run(f) == SegmentError::malformed);
      Buf g = frame;
      g[kVnetHdrLen + 7] = 1;  // offset
      CHECK(run(g) == SegmentError::malformed);
    }
    SUBCASE("TCP data offset out of range") {
      Buf f = frame;
      f[kVnetHdrLen + 20 + 12] = 0x40;
      CHECK(run(f) == SegmentError::malformed);
    }
    SUBCASE("headers that do not fit max_packet") {
      CHECK(run(frame, 52) == SegmentError::malformed);
      Spec u;
      u.proto = kUdp;
      u.payload = pattern(3000);
      const Buf fu = gso_frame(build(u), VnetHdr::kGsoUdpL4, 1200);
      CHECK(run(fu, 1227) == SegmentError::malformed);  // a datagram cannot be cut
      CHECK(run(fu, 1228) == SegmentError::none);
    }
  }

  TEST_CASE("segment keeps the packets made so far when out of room") {
    Spec s;
    s.payload = pattern(20000);
    const Buf original = build(s);
    Collect out(5);
    CHECK(segment(gso_frame(original, VnetHdr::kGsoTcpV4, 1380), 1500, out) ==
          SegmentError::out_of_room);
    REQUIRE(out.packets.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(l4_checksum_ok(out.packets[i]));
      CHECK(seq_of(out.packets[i]) == s.seq + i * 1380);
      CHECK(out.packets[i].size() == head_len(original) + 1380);
    }
    Collect none(0);
    CHECK(segment(with_vnet(VnetHdr{}, original), 65535, none) == SegmentError::out_of_room);
  }
}
