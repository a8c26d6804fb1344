// SPDX-License-Identifier: MIT
// The engine's secrets at rest: one static key pair in locked memory, shared
// by every pending handshake (initiator's and responder's), and PSKs in the
// locked key pool, shared with whoever configured them.
#include <doctest/doctest.h>

#include "sim/sim_helpers.hpp"
#include "support/memory_flags.hpp"

using namespace gw::test;

TEST_CASE("secrets: the static key is locked, and pending handshakes share it") {
  Pair s(91);
  const gw::crypto::LockedKeyPair& key_a = s.a->engine.static_key();
  const gw::crypto::LockedKeyPair& key_b = s.b->engine.static_key();
  REQUIRE(key_a);
  CHECK(has_flag(vm_flags_of(key_a.get()), "dd"));
  CHECK(key_a->public_key == s.a->key.public_key);
  CHECK(key_a.holders() == 1);
  CHECK(key_b.holders() == 1);

  // b's responses are lost: a's initiation and b's response stay pending.
  s.net.middle = [&](const gw::session::Endpoint& from, const gw::session::Endpoint&,
                     std::vector<std::uint8_t>&) { return !(from == s.b->address); };
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(std::chrono::milliseconds(50));
  CHECK(s.b->engine.pending_handshakes() == 1);
  CHECK(key_a.holders() == 2);  // the engine and its initiation
  CHECK(key_b.holders() == 2);  // the engine and its pending response

  // Once the handshake completes, a's engine alone holds its key; b's, its
  // engine and whatever responses are still pending (the lost one, until it
  // expires).
  s.net.middle = nullptr;
  s.net.run_for(std::chrono::seconds(6));
  CHECK(s.a->engine.has_session(s.a_to_b));
  CHECK(key_a.holders() == 1);
  CHECK(key_b.holders() == 1 + static_cast<long>(s.b->engine.pending_handshakes()));
}

TEST_CASE("secrets: a peer's PSK stays in the slot it was given") {
  gw::crypto::Secret<32> bytes;
  bytes.bytes()[0] = 0x5a;
  const gw::crypto::LockedKey psk(bytes.bytes());
  Pair s(92);
  CHECK(s.a->engine.set_psk(s.a_to_b, psk));
  CHECK(s.b->engine.set_psk(s.b_to_a, psk));
  CHECK(psk.holders() == 3);  // shared, not copied
  s.connect();
  CHECK(s.a->engine.has_session(s.a_to_b));
  CHECK(psk.holders() == 3);
  CHECK(s.a->engine.set_psk(s.a_to_b, {}));
  CHECK(psk.holders() == 2);
}
