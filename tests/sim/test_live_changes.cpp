// SPDX-License-Identifier: MIT
// Peers changed while sessions run, as gwctl does through gwd: a removed
// peer's session ends at once; changing a peer's PSK, keepalive or endpoint
// keeps its session; other peers never notice.
#include <doctest/doctest.h>

#include "sim/sim_helpers.hpp"

using namespace gw::test;
using gw::session::Drop;
using gw::session::Event;

namespace {
// A transport message with no payload: header 16 and tag 16 bytes.
bool is_keepalive(const FakeNetwork::Fate& f) {
  return !f.bytes.empty() && f.bytes[0] == 6 && f.bytes.size() == 32;
}
std::size_t keepalives_from(const FakeNetwork& net, const gw::session::Endpoint& from) {
  std::size_t n = 0;
  for (const auto& f : net.fates) {
    if (f.from == from) n += is_keepalive(f) ? 1 : 1000;  // anything else spoils the count
  }
  return n;
}
}  // namespace

TEST_CASE("live: a removed peer's session ends at once and its packets are dropped") {
  Pair s(71);
  s.connect();
  REQUIRE(s.b->engine.has_session(s.b_to_a));
  REQUIRE(s.b->engine.remove_peer(s.b_to_a));
  CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
  CHECK(s.b->engine.stats(s.b_to_a) == nullptr);
  const auto delivered = s.b->delivered.size();
  // a still holds its keys: its packets reach b under an index b forgot.
  s.a->send_packet(s.a_to_b, make_packet(7));
  s.net.run_for(std::chrono::milliseconds(100));
  CHECK(s.b->delivered.size() == delivered);
  CHECK(s.b->count(Drop::unknown_index) >= 1);
  // Its next handshake is refused: b does not know its key any more.
  s.net.run_for(std::chrono::seconds(200));
  CHECK(s.b->count(Drop::unknown_peer) >= 1);
  CHECK(s.b->delivered.size() == delivered);
}

TEST_CASE("live: changing a peer's PSK, keepalive or endpoint keeps its session") {
  Pair s(72);
  s.connect();
  const auto* st = s.a->engine.stats(s.a_to_b);
  REQUIRE(st != nullptr);
  REQUIRE(st->handshakes == 1);

  gw::crypto::Secret<32> key;
  key.bytes()[0] = 1;
  const gw::crypto::LockedKey psk(key.bytes());
  CHECK(s.a->engine.set_psk(s.a_to_b, psk));
  s.a->engine.set_persistent_keepalive(s.net.now(), s.a_to_b, 5);
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(std::chrono::seconds(1));
  CHECK(st->handshakes == 1);  // no new handshake
  CHECK(s.b->delivered.size() == 2);

  // With nothing to send, a now sends a keepalive every 5 s.
  s.net.run_for(std::chrono::seconds(20));  // b's keepalive for the last packet is over
  s.net.record_fates = true;
  s.net.run_for(std::chrono::seconds(30));
  CHECK(keepalives_from(s.net, s.a->address) == 6);
  CHECK(st->handshakes == 1);

  // The next handshake (data after REKEY_AFTER_TIME) uses the PSK: b has
  // none, so it refuses a's initiations until it gets the same key.
  s.net.run_for(std::chrono::seconds(80));
  s.a->send_packet(s.a_to_b, make_packet(2));
  s.net.run_for(std::chrono::seconds(2));
  CHECK(s.b->count(Drop::psk_not_configured) >= 1);
  CHECK(s.b->engine.set_psk(s.b_to_a, psk));
  s.net.run_for(std::chrono::seconds(10));
  s.a->send_packet(s.a_to_b, make_packet(3));
  s.net.run_for(std::chrono::seconds(2));
  CHECK(st->handshakes >= 2);
  CHECK(s.a->engine.has_session(s.a_to_b));
}

TEST_CASE("live: a forgotten endpoint stops initiations until the peer writes") {
  Pair s(73);
  CHECK(s.a->engine.clear_endpoint(s.a_to_b));
  CHECK_FALSE(s.a->engine.endpoint(s.a_to_b).has_value());
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(std::chrono::seconds(1));
  CHECK(s.a->count(Drop::no_session) >= 1);
  CHECK(s.b->delivered.empty());
  CHECK_FALSE(s.b->engine.clear_endpoint(999));
  CHECK_FALSE(s.b->engine.set_psk(999, {}));
}
