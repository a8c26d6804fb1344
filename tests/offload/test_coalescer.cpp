// SPDX-License-Identifier: MIT
// The Coalescer: decrypted TCP segments of one flow joined into GSO frames
// for one TUN write; everything else written as it came, per-flow order kept.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "gw/offload/offload.hpp"
#include "packet_builder.hpp"

using namespace gw::offload;
using namespace gw::offload::test;

namespace {

// The packets of a TCP flow: `count` segments of `mss` (the last `last`
// bytes when nonzero), ids and sequence numbers counting up.
std::vector<Buf> run_of(Spec s, std::size_t count, std::size_t mss, std::size_t last = 0) {
  std::vector<Buf> out;
  for (std::size_t i = 0; i < count; ++i) {
    s.payload = pattern(i + 1 == count && last != 0 ? last : mss, static_cast<std::uint8_t>(i));
    out.push_back(build(s));
    s.seq += static_cast<std::uint32_t>(s.payload.size());
    ++s.id;
  }
  return out;
}

std::vector<Buf> coalesce(const std::vector<Buf>& packets, Coalescer& c) {
  for (const Buf& p : packets)
    REQUIRE(c.add(p));
  Frames w;
  c.flush(w);
  CHECK(c.empty());
  return w.frames;
}

std::vector<Buf> coalesce(const std::vector<Buf>& packets) {
  Coalescer c;
  return coalesce(packets, c);
}

std::vector<Buf> resegment(const Buf& frame) {
  Collect out;
  REQUIRE(segment(frame, 65535, out) == SegmentError::none);
  return out.packets;
}

VnetHdr vnet_of(const Buf& frame) {
  return *read_vnet_hdr(frame);
}

bool plain(const Buf& frame, const Buf& packet) {
  const VnetHdr h = vnet_of(frame);
  return h.flags == 0 && h.gso_type == 0 && h.hdr_len == 0 && h.gso_size == 0 &&
         h.csum_start == 0 && h.csum_offset == 0 &&
         Buf(packet_of(frame).begin(), packet_of(frame).end()) == packet;
}

// Checks a joined frame: its vnet header, and that it cuts back into `packets`.
void check_joined(const Buf& frame, const std::vector<Buf>& packets) {
  REQUIRE(packets.size() > 1);
  const VnetHdr h = vnet_of(frame);
  const Buf& first = packets.front();
  const bool v4 = (first[0] >> 4) == 4;
  const std::size_t ihl = ip_header_len(first);
  CHECK(h.flags == VnetHdr::kNeedsCsum);
  CHECK(h.gso_type == (v4 ? VnetHdr::kGsoTcpV4 : VnetHdr::kGsoTcpV6));
  CHECK(h.hdr_len == ihl + l4_header_len(first));
  CHECK(h.gso_size == payload_of(first).size());
  CHECK(h.csum_start == ihl);
  CHECK(h.csum_offset == 16);
  const Buf p(packet_of(frame).begin(), packet_of(frame).end());
  CHECK(ipv4_checksum_ok(p));
  if (v4) CHECK(get16(p, 2) == p.size());
  if (!v4) CHECK(get16(p, 4) + 40u == p.size());
  // CHECKSUM_PARTIAL: the folded, not inverted, pseudo-header sum of the whole.
  CHECK(get16(p, ihl + 16) == naive_fold(naive_pseudo(p, kTcp, p.size() - ihl)));
  CHECK(resegment(frame) == packets);
}

}  // namespace

TEST_SUITE("offload") {
  TEST_CASE("coalescer: segment then coalesce gives the super-packet back") {
    for (unsigned version : {4u, 6u}) {
      CAPTURE(version);
      Spec s = version == 4 ? Spec{} : v6_spec();
      s.payload = pattern(40000, 2);
      s.flags = kAck | kPsh;
      const Buf original = build(s);
      const std::uint16_t mss = version == 4 ? 1380 : 1368;
      Collect cut;
      REQUIRE(
          segment(gso_frame(original, version == 4 ? VnetHdr::kGsoTcpV4 : VnetHdr::kGsoTcpV6, mss),
                  1500, cut) == SegmentError::none);
      REQUIRE(cut.packets.size() == (40000 + mss - 1) / mss);
      Coalescer c;
      const std::vector<Buf> frames = coalesce(cut.packets, c);
      REQUIRE(frames.size() == 1);
      check_joined(frames[0], cut.packets);
      Buf got(packet_of(frames[0]).begin(), packet_of(frames[0]).end());
      const std::size_t field = ip_header_len(original) + 16;
      got[field] = original[field];
      got[field + 1] = original[field + 1];
      CHECK(got == original);
      CHECK(c.stats().packets == cut.packets.size());
      CHECK(c.stats().coalesced == cut.packets.size() - 1);
      CHECK(c.stats().frames == 1);
    }
  }

  TEST_CASE("coalescer: a packet alone is written unchanged with an empty vnet header") {
    Spec s;
    s.payload = pattern(1000);
    const Buf p = build(s);
    const auto frames = coalesce({p});
    REQUIRE(frames.size() == 1);
    CHECK(plain(frames[0], p));
  }

  TEST_CASE("coalescer: interleaved flows become one frame each, in order") {
    Spec a;
    Spec b = a;
    b.sport = 40001;
    b.seq = 9;
    Spec c6 = v6_spec();
    const auto ra = run_of(a, 10, 1000);
    const auto rb = run_of(b, 10, 1200, 300);
    const auto rc = run_of(c6, 10, 1100);
    std::vector<Buf> mixed;
    for (std::size_t i = 0; i < 10; ++i) {
      mixed.push_back(ra[i]);
      mixed.push_back(rb[i]);
      mixed.push_back(rc[i]);
    }
    const auto frames = coalesce(mixed);
    REQUIRE(frames.size() == 3);
    check_joined(frames[0], ra);
    check_joined(frames[1], rb);
    check_joined(frames[2], rc);
  }

  TEST_CASE("coalescer: what may not join starts a new frame or goes alone") {
    Spec s;
    const auto run = run_of(s, 6, 1000);

    SUBCASE("a gap in sequence numbers") {
      const auto frames = coalesce({run[0], run[1], run[3], run[4]});
      REQUIRE(frames.size() == 2);
      check_joined(frames[0], {run[0], run[1]});
      check_joined(frames[1], {run[3], run[4]});
    }
    SUBCASE("changed options, a different ack or window") {
      Spec t = s;
      t.seq += 2000;
      t.id = static_cast<std::uint16_t>(t.id + 2);
      t.payload = pattern(1000, 2);
      t.tsval += 1;
      const Buf ts = build(t);
      Spec u = t;
      u.tsval -= 1;
      u.ack += 1;
      const Buf ack = build(u);
      Spec w = t;
      w.tsval -= 1;
      w.window += 1;
      const Buf win = build(w);
      for (const Buf& odd : {ts, ack, win}) {
        const auto frames = coalesce({run[0], run[1], odd, run[3]});
        REQUIRE(frames.size() == 3);
        check_joined(frames[0], {run[0], run[1]});
        CHECK(plain(frames[1], odd));
        CHECK(plain(frames[2], run[3]));  // which cannot follow `odd` either
      }
    }
    SUBCASE("SYN, FIN, RST, URG or no ACK") {
      for (int flags :
           {kAck | kSyn, kAck | kFin, kAck | kRst, kAck | kUrg, kAck | kEce, kAck | kCwr, 0}) {
        CAPTURE(flags);
        Spec t = s;
        t.seq += 2000;
        t.id = static_cast<std::uint16_t>(t.id + 2);
        t.flags = static_cast<std::uint8_t>(flags);
        t.payload = pattern(1000, 2);
        const Buf odd = build(t);
        const auto frames = coalesce({run[0], run[1], odd, run[3], run[4]});
        REQUIRE(frames.size() == 3);
        check_joined(frames[0], {run[0], run[1]});
        CHECK(plain(frames[1], odd));
        check_joined(frames[2], {run[3], run[4]});
      }
    }
    SUBCASE("PSH closes the frame after it") {
      Spec t = s;
      t.seq += 2000;
      t.id = static_cast<std::uint16_t>(t.id + 2);
      t.flags = kAck | kPsh;
      t.payload = pattern(1000, 2);
      const Buf psh = build(t);
      const auto frames = coalesce({run[0], run[1], psh, run[3], run[4], run[5]});
      REQUIRE(frames.size() == 2);
      check_joined(frames[0], {run[0], run[1], psh});
      CHECK((flags_of(Buf(packet_of(frames[0]).begin(), packet_of(frames[0]).end())) & kPsh) != 0);
      check_joined(frames[1], {run[3], run[4], run[5]});
    }
    SUBCASE("a shorter segment is the last") {
      Spec t = s;
      t.seq += 2000;
      t.id = static_cast<std::uint16_t>(t.id + 2);
      t.payload = pattern(400, 2);
      const Buf short_one = build(t);
      Spec u = t;
      u.seq += 400;
      ++u.id;
      u.payload = pattern(1000, 3);
      const Buf after = build(u);
      const auto frames = coalesce({run[0], run[1], short_one, after});
      REQUIRE(frames.size() == 2);
      check_joined(frames[0], {run[0], run[1], short_one});
      CHECK(plain(frames[1], after));
      // A longer one cannot join either.
      const auto more = coalesce({run_of(s, 1, 500)[0], run_of(s, 2, 500)[1]});
      CHECK(more.size() == 1);
      Spec v = s;
      v.payload = pattern(500);
      Spec x = s;
      x.seq += 500;
      ++x.id;
      x.payload = pattern(600);
      CHECK(coalesce({build(v), build(x)}).size() == 2);
    }
    SUBCASE("pure ACKs and segments with bad checksums go alone and keep order") {
      Spec t = s;
      t.seq += 2000;
      t.id = static_cast<std::uint16_t>(t.id + 2);
      t.payload.clear();
      const Buf pure_ack = build(t);
      Buf bad = run[2];
      bad.back() ^= 1;
      const auto frames = coalesce({run[0], run[1], pure_ack, bad, run[3]});
      REQUIRE(frames.size() == 4);
      check_joined(frames[0], {run[0], run[1]});
      CHECK(plain(frames[1], pure_ack));
      CHECK(plain(frames[2], bad));
      CHECK(plain(frames[3], run[3]));
      Buf bad_ip = run[1];
      bad_ip[10] ^= 1;  // IPv4 header checksum
      const auto frames2 = coalesce({run[0], bad_ip, run[2]});
      REQUIRE(frames2.size() == 3);
      CHECK(plain(frames2[1], bad_ip));
    }
    SUBCASE("non-TCP packets pass through and do not break a run") {
      Spec u;
      u.proto = kUdp;
      u.payload = pattern(200);
      const Buf udp = build(u);
      const Buf junk = {0x00, 0x01, 0x02};
      const auto frames = coalesce({run[0], udp, run[1], junk, run[2]});
      REQUIRE(frames.size() == 3);
      check_joined(frames[0], {run[0], run[1], run[2]});
      CHECK(plain(frames[1], udp));
      CHECK(plain(frames[2], junk));
    }
    SUBCASE("IPv4 options, TTL, TOS, DF: alone or a new frame, order kept") {
      Spec t = s;
      t.seq += 2000;
      t.id = static_cast<std::uint16_t>(t.id + 2);
      t.payload = pattern(1000, 2);
      t.ip_options = {1, 1, 1, 0};  // NOPs, end of list
      const Buf opts = build(t);
      const auto frames = coalesce({run[0], run[1], opts, run[3]});
      REQUIRE(frames.size() == 3);
      check_joined(frames[0], {run[0], run[1]});
      CHECK(plain(frames[1], opts));
      CHECK(plain(frames[2], run[3]));
      for (int change = 0; change < 3; ++change) {
        Spec v = s;
        v.seq += 1000;
        ++v.id;
        v.payload = pattern(1000, 1);
        if (change == 0) v.ttl = 63;
        if (change == 1) v.tos = 3;  // CE
        if (change == 2) v.df = false;
        CHECK(coalesce({run[0], build(v)}).size() == 2);
      }
    }
    SUBCASE("IPv4 ids: counting up without DF, anything with DF") {
      Spec n = s;
      n.df = false;
      auto r = run_of(n, 3, 1000);
      CHECK(coalesce(r).size() == 1);
      Spec m = n;
      m.seq += 1000;
      m.id = static_cast<std::uint16_t>(m.id + 5);
      m.payload = pattern(1000, 1);
      CHECK(coalesce({r[0], build(m)}).size() == 2);
      Spec d = s;
      d.seq += 1000;
      d.id = 9;
      d.payload = pattern(1000, 1);
      CHECK(coalesce({run[0], build(d)}).size() == 1);
    }
    SUBCASE("IPv6 flow label and hop limit") {
      Spec a = v6_spec();
      const auto r6 = run_of(a, 2, 1000);
      Spec b = a;
      b.seq += 1000;
      b.payload = pattern(1000, 1);
      b.flow_label = 7;
      CHECK(coalesce({r6[0], build(b)}).size() == 2);
      b.flow_label = a.flow_label;
      b.hop_limit = 1;
      CHECK(coalesce({r6[0], build(b)}).size() == 2);
      CHECK(coalesce(r6).size() == 1);
    }
    SUBCASE("a fragment of the flow closes its frame") {
      Spec t = s;
      t.seq += 2000;
      t.payload = pattern(1000, 2);
      t.frag = 0x0010;  // a later fragment: no TCP header to read
      const Buf frag = build(t);
      const auto frames = coalesce({run[0], run[1], frag, run[3], run[4]});
      REQUIRE(frames.size() == 3);
      CHECK(plain(frames[1], frag));
      check_joined(frames[2], {run[3], run[4]});
    }
  }

  TEST_CASE("coalescer: 64 segments and 64 KiB at most") {
    Spec s;
    const auto small = run_of(s, 130, 100);
    auto frames = coalesce(small);
    REQUIRE(frames.size() == 3);
    check_joined(frames[0], std::vector<Buf>(small.begin(), small.begin() + 64));
    check_joined(frames[1], std::vector<Buf>(small.begin() + 64, small.begin() + 128));
    check_joined(frames[2], std::vector<Buf>(small.begin() + 128, small.end()));

    const auto big = run_of(s, 50, 1380);  // 52 + 47 * 1380 = 64912 <= 65535
    frames = coalesce(big);
    REQUIRE(frames.size() == 2);
    CHECK(packet_of(frames[0]).size() == 52 + 47 * 1380);
    check_joined(frames[0], std::vector<Buf>(big.begin(), big.begin() + 47));
    check_joined(frames[1], std::vector<Buf>(big.begin() + 47, big.end()));

    Spec v6 = v6_spec();
    const auto big6 = run_of(v6, 50, 1368);  // 72 + 47 * 1368 = 64368
    frames = coalesce(big6);
    REQUIRE(frames.size() == 2);
    check_joined(frames[0], std::vector<Buf>(big6.begin(), big6.begin() + 47));
  }

  TEST_CASE("coalescer: add() fails when full and works again after flush") {
    Spec s;
    const auto run = run_of(s, 40, 1000);
    Coalescer c(128, 4096);
    std::size_t added = 0;
    while (added < run.size() && c.add(run[added]))
      ++added;
    CHECK(added == 4);  // 10 + 1052 + 3 * 1000 = 4062 bytes
    CHECK(c.stats().packets == 4);
    Frames w;
    c.flush(w);
    REQUIRE(w.frames.size() == 1);
    check_joined(w.frames[0], std::vector<Buf>(run.begin(), run.begin() + 4));
    CHECK(c.add(run[added]));

    Coalescer few(2, 1 << 16);
    Spec u;
    u.proto = kUdp;
    u.payload = pattern(10);
    const Buf udp = build(u);
    CHECK(few.add(udp));
    CHECK(few.add(udp));
    CHECK_FALSE(few.add(udp));
    CHECK_FALSE(few.empty());
    Frames w2;
    few.flush(w2);
    CHECK(w2.frames.size() == 2);
    CHECK(few.empty());
    CHECK(few.add(udp));
    CHECK(few.stats().packets == 3);
  }

  TEST_CASE("coalescer: random mixes of flows come back exactly, in per-flow order") {
    std::mt19937 rng(20240601);
    auto chance = [&rng](unsigned percent) { return rng() % 100 < percent; };
    std::uint64_t joined = 0, packets = 0;
    for (int round = 0; round < 60; ++round) {
      CAPTURE(round);
      // Flows 0..3 TCP (v4 DF, v4 without DF, v6, v6), flow 4 UDP.
      std::vector<Spec> flows(5);
      flows[1].sport = 40001;
      flows[1].df = false;
      flows[2] = v6_spec();
      flows[3] = v6_spec();
      flows[3].sport = 40003;
      flows[4].proto = kUdp;
      flows[4].sport = 5353;
      for (Spec& f : flows) {
        f.seq = static_cast<std::uint32_t>(rng());
        f.id = static_cast<std::uint16_t>(rng());
      }
      const std::size_t mss[5] = {1380, 700, 1368, 100, 500};
      std::map<int, std::vector<Buf>> sent, got;
      auto flow_of = [](const Buf& p) {
        const std::size_t ihl = ip_header_len(p);
        return (p[0] >> 4) == 6 ? 10 + get16(p, ihl) : get16(p, ihl);
      };
      Coalescer c(static_cast<std::size_t>(16 + rng() % 128), 20000 + rng() % 300000);
      Frames w;
      const int count = static_cast<int>(rng() % 600);
      for (int i = 0; i < count; ++i) {
        const std::size_t k = rng() % 5;
        Spec& f = flows[k];
        f.flags = kAck;
        f.payload =
            pattern(chance(85) ? mss[k] : rng() % (mss[k] + 1), static_cast<std::uint8_t>(i));
        if (chance(5)) f.flags |= kPsh;
        if (chance(2)) f.flags = static_cast<std::uint8_t>(rng());
        if (chance(3)) f.seq += static_cast<std::uint32_t>(rng() % 3000);
        if (chance(3)) f.ack += 1;
        if (chance(3)) f.tsval += 1;
        if (chance(2)) f.tos ^= 3;
        Buf p = build(f);
        if (chance(1)) p.back() ^= 0x40;  // a bad checksum
        if (f.proto == kTcp) f.seq += static_cast<std::uint32_t>(f.payload.size());
        ++f.id;
        sent[flow_of(p)].push_back(p);
        if (!c.add(p)) {
          c.flush(w);
          REQUIRE(c.add(p));
        }
      }
      c.flush(w);
      std::size_t total = 0;
      for (const Buf& frame : w.frames) {
        for (const Buf& p : resegment(frame)) {
          got[flow_of(p)].push_back(p);
          ++total;
        }
      }
      CHECK(total == static_cast<std::size_t>(count));
      CHECK(got == sent);
      CHECK(c.stats().packets == static_cast<std::uint64_t>(count));
      CHECK(c.stats().frames == w.frames.size());
      CHECK(c.stats().frames + c.stats().coalesced == static_cast<std::uint64_t>(count));
      joined += c.stats().coalesced;
      packets += c.stats().packets;
    }
    MESSAGE("random mixes: ", joined, " of ", packets, " packets joined an earlier one");
    CHECK(joined * 2 > packets);
  }
}
