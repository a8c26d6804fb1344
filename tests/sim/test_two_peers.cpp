// SPDX-License-Identifier: MIT
// Two peers in memory: the handshake, data both ways, and what the wire shows.
#include <doctest/doctest.h>

#include <algorithm>

#include "gw/session/replay_window.hpp"
#include "sim/sim_helpers.hpp"

using namespace gw::test;
using gw::session::Event;

TEST_CASE("two peers complete a handshake and carry data both ways") {
  Pair s;
  s.connect();
  REQUIRE(s.a->count(Event::Kind::handshake_complete) == 1);
  REQUIRE(s.b->count(Event::Kind::handshake_complete) == 1);
  CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
  REQUIRE(s.b->delivered.size() == 1);  // the packet staged during the handshake
  CHECK(s.b->delivered[0].peer == s.b_to_a);
  CHECK(packet_sequence(s.b->delivered[0].packet) == 0);
  CHECK(s.b->delivered[0].packet.size() == 100);  // padding removed

  for (std::uint32_t i = 1; i <= 50; ++i) {
    s.a->send_packet(s.a_to_b, make_packet(i, 60 + i));
    s.b->send_packet(s.b_to_a, make_packet(1000 + i, 1400));
  }
  s.net.run_for(std::chrono::seconds(1));
  REQUIRE(s.b->delivered.size() == 51);
  REQUIRE(s.a->delivered.size() == 50);
  for (std::uint32_t i = 1; i <= 50; ++i) {
    CHECK(packet_sequence(s.b->delivered[i].packet) == i);
    CHECK(s.b->delivered[i].packet.size() == 60 + i);
    CHECK(packet_sequence(s.a->delivered[i - 1].packet) == 1000 + i);
  }
  CHECK(s.b->engine.endpoint(s.b_to_a) == s.a->address);
  const auto* st = s.a->engine.stats(s.a_to_b);
  REQUIRE(st != nullptr);
  CHECK(st->handshakes == 1);
  CHECK(st->suite == 1);
  CHECK(st->tx_packets == 51);
  CHECK(st->rx_packets == 50);
}

TEST_CASE("the bytes on the wire never contain either static public key") {
  Pair s;
  s.net.record = true;
  s.connect();
  for (std::uint32_t i = 1; i <= 5; ++i)
    s.b->send_packet(s.b_to_a, make_packet(i));
  s.net.run_for(std::chrono::seconds(1));
  REQUIRE(s.a->delivered.size() == 5);
  REQUIRE(s.net.wire_log.size() >= 5);
  for (const auto& d : s.net.wire_log) {
    for (const auto* key : {&s.a->key.public_key, &s.b->key.public_key}) {
      CHECK(std::search(d.begin(), d.end(), key->begin(), key->end()) == d.end());
    }
  }
}

TEST_CASE("unknown extensions are ignored unless critical, in either direction") {
  using Ext = gw::session::EngineConfig::Extension;
  const std::vector<std::uint8_t> value{1, 2, 3};
  struct Case {
    bool from_responder;
    bool critical;
    bool session;
  };
  for (const Case c : {Case{true, false, true}, Case{true, true, false}, Case{false, false, true},
                       Case{false, true, false}}) {
    CAPTURE(c.from_responder);
    CAPTURE(c.critical);
    gw::session::EngineConfig with_ext;
    with_ext.extra_extensions.push_back(Ext{0x4242, c.critical, value});
    Pair s = c.from_responder ? Pair(3, {}, with_ext) : Pair(3, with_ext, {});
    s.connect();
    CHECK(s.b->engine.has_session(s.b_to_a) == c.session);
    CHECK(s.b->delivered.size() == (c.session ? 1u : 0u));
    Node* refuser = c.from_responder ? s.a : s.b;
    CHECK(refuser->count(gw::session::Drop::critical_extension) == (c.session ? 0u : 1u));
  }
}

TEST_CASE("padding stops at the interface MTU, so full-size packets fit the underlay") {
  gw::session::EngineConfig with_mtu;
  with_mtu.mtu = 1420;
  Pair s(5, with_mtu);
  s.net.record = true;
  s.connect();
  const std::size_t before = s.net.wire_log.size();
  s.a->send_packet(s.a_to_b, make_packet(1, 1420));  // 1420 % 16 == 12: would pad to 1424
  s.a->send_packet(s.a_to_b, make_packet(2, 1401));  // pads to 1408, under the MTU
  s.b->send_packet(s.b_to_a, make_packet(3, 1420));  // b has no MTU set: pads to 1424
  s.net.run_for(std::chrono::seconds(1));
  std::vector<std::size_t> sizes;
  for (std::size_t i = before; i < s.net.wire_log.size(); ++i)
    sizes.push_back(s.net.wire_log[i].size());
  const std::size_t overhead = 16 + 16;  // transport header and tag
  CHECK(std::count(sizes.begin(), sizes.end(), 1420 + overhead) == 1);
  CHECK(std::count(sizes.begin(), sizes.end(), 1408 + overhead) == 1);
  CHECK(std::count(sizes.begin(), sizes.end(), 1424 + overhead) == 1);
  REQUIRE(s.b->delivered.size() == 3);
  CHECK(s.b->delivered[1].packet.size() == 1420);
  CHECK(s.b->delivered[2].packet.size() == 1401);
  REQUIRE(s.a->delivered.size() == 1);
  CHECK(s.a->delivered[0].packet.size() == 1420);
}

TEST_CASE("a replayed packet and one older than the replay window are told apart") {
  Pair s(74);
  gw::test::WireTap tap;
  tap.install(s.net);
  s.connect();
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(std::chrono::milliseconds(10));
  const auto sent = tap.of_type(gw::wire::MessageType::transport, s.a->address);
  REQUIRE_FALSE(sent.empty());
  const std::vector<std::uint8_t> old = sent.back();

  s.net.inject(s.a->address, s.b->address, old);
  s.net.run_for(std::chrono::milliseconds(10));
  CHECK(s.b->count(gw::session::Drop::replay) == 1);
  CHECK(s.b->count(gw::session::Drop::outside_window) == 0);

  // Enough newer packets to slide the window past it.
  for (std::uint64_t i = 0; i <= gw::session::ReplayWindow::kWindow; ++i) {
    s.a->send_packet(s.a_to_b, make_packet(static_cast<std::uint32_t>(i + 2), 40));
    if (i % 256 == 0) s.net.run_for(std::chrono::milliseconds(5));
  }
  s.net.run_for(std::chrono::milliseconds(10));
  s.net.inject(s.a->address, s.b->address, old);
  s.net.run_for(std::chrono::milliseconds(10));
  CHECK(s.b->count(gw::session::Drop::replay) == 1);
  CHECK(s.b->count(gw::session::Drop::outside_window) == 1);
}
