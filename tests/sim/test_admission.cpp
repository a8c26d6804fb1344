// SPDX-License-Identifier: MIT
// Admission over time (docs/PROTOCOL.md 5.3-5.4): the authorizer decides in
// both roles, its decision has an end that no session outlives, an admitted
// peer is forgotten when its admission ends or it falls idle, and the live
// state counts only sessions the other side confirmed.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sim/sim_helpers.hpp"

using namespace gw;
using namespace gw::test;
using session::Drop;
using session::Event;

namespace {

// A stand-in for certificate admission: a peer showing extension 0x4242
// "ok" is admitted, as a newcomer the first time, until `until` (its
// certificate's not_after); after that, or once `revoked`, it is refused.
class Credentials final : public session::Authorizer {
 public:
  session::Admission authorize(Instant now, session::Role role, const crypto::PublicKey& key,
                               std::optional<session::PeerId> known,
                               const wire::ExtensionList& extensions) override {
    (void)key;
    roles.push_back(role);
    const wire::Extension* e = extensions.find(0x4242);
    const bool shows = e != nullptr && std::string(e->value.begin(), e->value.end()) == "ok";
    if (!shows || revoked || (until && now >= *until)) return session::Admission::refuse();
    if (known) return session::Admission::existing(*known, until);
    session::PeerConfig config;
    config.name = "client";
    return session::Admission::add(config, until);
  }
  std::optional<Instant> until;
  bool revoked = false;
  std::vector<session::Role> roles;

  std::size_t asked_as(session::Role r) const {
    return static_cast<std::size_t>(std::count(roles.begin(), roles.end(), r));
  }
};

session::EngineConfig showing(const std::string& token) {
  session::EngineConfig c;
  c.extra_extensions.push_back(
      {0x4242, false, std::vector<std::uint8_t>(token.begin(), token.end())});
  return c;
}

// a: a client that shows a credential; b: a gateway that knows nobody and
// admits by credential. a connects once; returns b's id for a.
session::PeerId admit_client(Pair& s, Credentials& auth) {
  REQUIRE(s.b->engine.remove_peer(s.b_to_a));
  s.b->engine.set_authorizer(&auth);
  s.connect();
  const auto id = s.b->engine.find_peer(s.a->key.public_key);
  REQUIRE(id.has_value());
  REQUIRE(s.b->engine.has_session(*id));
  return *id;
}

std::size_t delivered_after(const Node& n, Instant t) {
  return static_cast<std::size_t>(std::count_if(n.delivered.begin(), n.delivered.end(),
                                                [&](const Delivered& d) { return d.at >= t; }));
}

bool ended(const Node& n, Event::Ended why) {
  return std::any_of(n.events.begin(), n.events.end(), [&](const Event& e) {
    return e.kind == Event::Kind::admission_ended && e.ended == why;
  });
}

}  // namespace

TEST_CASE("an admission ends at its deadline, whoever starts the handshakes") {
  Pair s(71, showing("ok"));
  Credentials auth;
  auth.until = s.net.now() + std::chrono::seconds(60);
  const session::PeerId id = admit_client(s, auth);
  REQUIRE(s.b->engine.valid_until(id) == auth.until);
  const Instant deadline = *auth.until;
  // Both sides keep sending, each packet answered: the gateway's sessions
  // never go quiet, and rekeys (from 120 s) would keep them going.
  for (int i = 1; i <= 200; ++i) {
    s.a->send_packet(s.a_to_b, make_packet(static_cast<std::uint32_t>(i)));
    if (const auto now_id = s.b->engine.find_peer(s.a->key.public_key)) {
      s.b->send_packet(*now_id, make_packet(static_cast<std::uint32_t>(1000 + i)));
    }
    s.net.run_for(std::chrono::seconds(1));
  }
  CHECK(delivered_after(*s.b, s.net.now() - std::chrono::seconds(200)) > 50);  // before the end
  CHECK(delivered_after(*s.b, deadline) == 0);
  CHECK(delivered_after(*s.a, deadline) == 0);
  CHECK(ended(*s.b, Event::Ended::expired));
  CHECK_FALSE(s.b->engine.find_peer(s.a->key.public_key).has_value());
  CHECK(s.b->count(Drop::unknown_peer) >= 1);  // the client's new attempts: refused
}

TEST_CASE("a gateway that initiates asks the authorizer too, before it says who it is") {
  Pair s(72, showing("ok"));
  Credentials auth;
  const session::PeerId id = admit_client(s, auth);
  CHECK(auth.asked_as(session::Role::responder) == 1);
  CHECK(auth.asked_as(session::Role::initiator) == 0);

  SUBCASE("an admission still valid: the gateway's own handshake is admitted") {
    s.net.run_for(std::chrono::seconds(6));  // past the per-peer initiation limit
    s.b->engine.initiate(s.net.now(), id);
    s.net.run_for(std::chrono::seconds(1));
    CHECK(auth.asked_as(session::Role::initiator) == 1);
    CHECK(s.b->engine.has_session(id));
    CHECK(s.b->engine.stats(id)->handshakes == 2);
  }
  SUBCASE("an admission refused now (expired, revoked): no message 3, the peer is forgotten") {
    auth.revoked = true;
    s.net.run_for(std::chrono::seconds(6));
    WireTap tap;
    tap.install(s.net);
    s.b->engine.initiate(s.net.now(), id);
    s.net.run_for(std::chrono::seconds(1));
    CHECK(auth.asked_as(session::Role::initiator) == 1);
    CHECK(tap.count(wire::MessageType::finish, s.b->address) == 0);
    CHECK(s.b->count(Drop::not_admitted) == 1);
    CHECK(ended(*s.b, Event::Ended::refused));
    CHECK_FALSE(s.b->engine.find_peer(s.a->key.public_key).has_value());
    // Nothing the client sends gets through any more.
    const std::size_t before = s.b->delivered.size();
    for (int i = 0; i < 5; ++i) {
      s.a->send_packet(s.a_to_b, make_packet(static_cast<std::uint32_t>(50 + i)));
      s.net.run_for(std::chrono::seconds(1));
    }
    CHECK(s.b->delivered.size() == before);
  }
}

TEST_CASE("an admitted peer idle for 3 * REJECT_AFTER_TIME is forgotten; a configured one stays") {
  Pair s(73, showing("ok"));
  Credentials auth;
  (void)admit_client(s, auth);
  s.net.run_for(timer_spec::kZeroKeysAfter + std::chrono::seconds(5));
  CHECK(ended(*s.b, Event::Ended::idle));
  CHECK_FALSE(s.b->engine.find_peer(s.a->key.public_key).has_value());
  // The client's side knows b as a configured peer: its keys are wiped, it stays.
  CHECK(s.a->engine.find_peer(s.b->key.public_key) == s.a_to_b);
  CHECK(s.a->count(Event::Kind::keys_wiped) == 1);
  // Coming back, the client is admitted afresh.
  s.connect();
  CHECK(s.b->engine.find_peer(s.a->key.public_key).has_value());
}

TEST_CASE("live state: an initiator counts a session only once the responder confirms it") {
  SUBCASE("a responder that refuses message 3: no handshake, no suite, no session") {
    Pair s(74);
    // b knows a's key under another peer's name: it refuses a's finish.
    REQUIRE(s.b->engine.remove_peer(s.b_to_a));
    s.a->send_packet(s.a_to_b, make_packet(0));
    s.net.run_for(std::chrono::seconds(3));
    const session::PeerStats& st = *s.a->engine.stats(s.a_to_b);
    CHECK(s.a->count(Event::Kind::handshake_complete) == 1);  // message 3 sent
    CHECK(st.handshakes == 0);
    CHECK_FALSE(st.last_handshake.has_value());
    CHECK(st.suite == 0);
    CHECK_FALSE(s.a->engine.has_session(s.a_to_b));
    CHECK(s.a->engine.has_keys(s.a_to_b));  // it may send on them, unconfirmed
    REQUIRE(st.attempt_since.has_value());
    CHECK(st.attempts == 1);
    // The retransmission timer tells what went wrong: no confirmation came.
    s.net.run_for(std::chrono::seconds(4));
    CHECK(s.a->engine.stats(s.a_to_b)->trouble == session::Trouble::not_confirmed);
    CHECK(s.a->engine.stats(s.a_to_b)->attempts == 2);
  }
  SUBCASE("a silent peer: attempts counted, trouble no_response, then give-up keeps it") {
    Pair s(75);
    s.net.middle = [&](const Endpoint& from, const Endpoint&, std::vector<std::uint8_t>&) {
      return from != s.b->address;  // b's answers never arrive
    };
    s.a->send_packet(s.a_to_b, make_packet(0));
    s.net.run_for(std::chrono::seconds(12));
    const session::PeerStats* st = s.a->engine.stats(s.a_to_b);
    CHECK(st->trouble == session::Trouble::no_response);
    CHECK(st->attempts >= 2);
    CHECK(st->handshakes == 0);
    s.net.run_for(timer_spec::kRekeyAttemptTime);
    CHECK(s.a->count(Event::Kind::handshake_gave_up) == 1);
    CHECK_FALSE(s.a->engine.stats(s.a_to_b)->attempt_since.has_value());
    CHECK(s.a->engine.stats(s.a_to_b)->trouble == session::Trouble::no_response);
  }
  SUBCASE("confirmed: counted once on each side, attempts cleared") {
    Pair s(77);
    s.connect();
    const session::PeerStats& a = *s.a->engine.stats(s.a_to_b);
    CHECK(a.handshakes == 1);
    CHECK(a.last_handshake.has_value());
    CHECK(a.suite != 0);
    CHECK(a.attempts == 0);
    CHECK_FALSE(a.attempt_since.has_value());
    CHECK(a.trouble == session::Trouble::none);
    CHECK(s.b->engine.stats(s.b_to_a)->handshakes == 1);
  }
}
