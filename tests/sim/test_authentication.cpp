// SPDX-License-Identifier: MIT
// Authentication (docs/PROTOCOL.md 5.3-5.4, 7.4): PSKs, the responder's
// identity checked before the initiator reveals its own, the authorization of
// the initiator, what the wire never shows, and replayed handshake messages.
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
using wire::MessageType;

namespace {

using Datagram = std::vector<std::uint8_t>;

Psk psk_of(std::uint8_t fill) {
  Psk p{};
  p.fill(fill);
  return p;
}

bool contains(const Datagram& d, Bytes needle) {
  return std::search(d.begin(), d.end(), needle.begin(), needle.end()) != d.end();
}

// The dropped events of `n` for `d`.
std::vector<Event> drops_of(const Node& n, Drop d) {
  std::vector<Event> out;
  for (const Event& e : n.events)
    if (e.kind == Event::Kind::dropped && e.drop == d) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("authentication: XXpsk3 needs the same PSK on both sides") {
  struct Case {
    const char* name;
    std::optional<Psk> a, b;
    std::optional<Drop> refusal;  // at b; none: a session
  };
  const Case cases[] = {
      {"same PSK", psk_of(0x11), psk_of(0x11), std::nullopt},
      {"different PSKs", psk_of(0x11), psk_of(0x22), Drop::psk_mismatch},
      {"PSK only at the initiator", psk_of(0x11), std::nullopt, Drop::psk_not_configured},
      {"PSK only at the responder", std::nullopt, psk_of(0x11), Drop::psk_required},
      {"no PSK at all", std::nullopt, std::nullopt, std::nullopt},
  };
  std::uint64_t seed = 1000;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed);
    set_psks(s, c.a, c.b);
    WireTap wire;
    wire.install(s.net);
    s.connect();

    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    REQUIRE(inits.size() == 1);
    CHECK(((inits[0][1] & wire_spec::kFlagPsk) != 0) == c.a.has_value());
    CHECK(inits[0].size() == (c.a ? 96U : 80U));
    if (!c.refusal) {
      REQUIRE(s.b->engine.has_session(s.b_to_a));
      CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
      CHECK(s.b->delivered.size() == 1);
      CHECK(s.b->count(Event::Kind::dropped) == 0);
      continue;
    }
    // a derived keys it will never use (held as unconfirmed `next`); b has none.
    CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.b->count(Event::Kind::handshake_complete) == 0);
    CHECK(s.a->count(Event::Kind::session_confirmed) == 0);
    CHECK(s.b->delivered.empty());
    const auto refused = drops_of(*s.b, *c.refusal);
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].peer == s.b_to_a);  // the report names the peer
    REQUIRE(refused[0].key.has_value());
    CHECK(*refused[0].key == s.a->key.public_key);
    CHECK(refused[0].from == s.a->address);
    CHECK(s.b->engine.pending_handshakes() == 0);  // the refusal is final

    // Retransmissions fail the same way, and nothing ever gets through.
    s.net.run_for(std::chrono::seconds(12));
    CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.b->delivered.empty());
    CHECK(drops_of(*s.b, *c.refusal).size() >= 3);
  }
}

TEST_CASE("authentication: an impostor responder never learns who the initiator is") {
  // a believes b's address belongs to the holder of `expected`; the node there
  // has another key. The impostor's accomplice restamps mac1 (the expected key
  // is public), so the impostor answers.
  for (const bool restamp : {true, false}) {
    CAPTURE(restamp);
    Pair s(1100);
    const crypto::KeyPair expected = key_from(4242);
    session::PeerConfig to_b;
    to_b.public_key = expected.public_key;
    to_b.endpoint = s.b->address;
    s.a->engine.remove_peer(s.a_to_b);
    s.a_to_b = s.a->engine.add_peer(to_b);
    s.net.record = true;
    WireTap wire;
    wire.install(s.net, [&](const Endpoint& from, const Endpoint&, Datagram& d) {
      if (restamp && from == s.a->address && d[0] == 1) restamp_initiation(d, s.b->key.public_key);
      return true;
    });
    s.connect();
    s.net.run_for(std::chrono::seconds(12));  // with the retransmissions

    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    CHECK(inits.size() >= 3);
    if (restamp) {
      CHECK(wire.count(MessageType::response, s.b->address) == inits.size());
      CHECK(s.a->count(Drop::identity_mismatch) == inits.size());
      for (const Event& e : drops_of(*s.a, Drop::identity_mismatch))
        CHECK(e.peer == s.a_to_b);
    } else {
      CHECK(s.b->count(Drop::bad_mac1) == inits.size());  // not for the impostor's key
      CHECK(wire.count_from(s.b->address) == 0);
    }
    // a never sent message 3, nor any other message after the initiation.
    CHECK(wire.count(MessageType::finish, s.a->address) == 0);
    CHECK(wire.count_from(s.a->address) == inits.size());
    CHECK_FALSE(s.a->engine.has_session(s.a_to_b));
    CHECK(s.a->engine.pending_handshakes() == 0);
    // The impostor never saw a's static key, not on the wire nor in its reports.
    for (const Datagram& d : s.net.wire_log)
      CHECK_FALSE(contains(d, s.a->key.public_key));
    for (const Event& e : s.b->events)
      CHECK_FALSE((e.key.has_value() && *e.key == s.a->key.public_key));
  }
}

TEST_CASE("authentication: an initiator the responder does not know is refused") {
  struct Case {
    const char* name;
    std::optional<Psk> a_psk;
  };
  const Case cases[] = {{"plain XX", std::nullopt}, {"XXpsk3", psk_of(0x33)}};
  std::uint64_t seed = 1200;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed);
    set_psks(s, c.a_psk, std::nullopt);
    REQUIRE(s.b->engine.remove_peer(s.b_to_a));
    s.connect();

    const auto refused = drops_of(*s.b, Drop::unknown_peer);
    REQUIRE(refused.size() == 1);
    REQUIRE(refused[0].key.has_value());
    CHECK(*refused[0].key == s.a->key.public_key);
    CHECK(refused[0].peer == session::kNoPeer);
    CHECK(refused[0].from == s.a->address);
    CHECK_FALSE(s.b->engine.find_peer(s.a->key.public_key).has_value());
    CHECK(s.b->count(Event::Kind::handshake_complete) == 0);
    CHECK(s.a->count(Event::Kind::session_confirmed) == 0);
    CHECK(s.b->delivered.empty());
    CHECK(s.b->engine.pending_handshakes() == 0);  // gone at once, not only after expiry
  }
}

TEST_CASE("authentication: no static key and no PSK ever appears on the wire") {
  struct Case {
    const char* name;
    std::optional<Psk> a, b;
    bool session;
  };
  const Case cases[] = {
      {"XX", std::nullopt, std::nullopt, true},
      {"XXpsk3", psk_of(0x5c), psk_of(0x5c), true},
      {"XXpsk3 with mismatched PSKs", psk_of(0x5c), psk_of(0xc5), false},
  };
  std::uint64_t seed = 1300;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed);
    set_psks(s, c.a, c.b);
    s.net.record = true;
    s.connect();
    for (std::uint32_t i = 1; i <= 5; ++i) {
      s.a->send_packet(s.a_to_b, make_packet(i));
      s.b->send_packet(s.b_to_a, make_packet(100 + i));
    }
    s.net.run_for(std::chrono::seconds(12));  // with keepalives and, failing, retransmissions
    CHECK(s.b->engine.has_session(s.b_to_a) == c.session);
    REQUIRE(s.net.wire_log.size() >= 6);

    std::vector<Bytes> secrets = {s.a->key.public_key, s.b->key.public_key,
                                  s.a->key.private_key.bytes(), s.b->key.private_key.bytes()};
    if (c.a) secrets.emplace_back(*c.a);
    if (c.b) secrets.emplace_back(*c.b);
    for (const Datagram& d : s.net.wire_log) {
      for (const Bytes& secret : secrets)
        CHECK_FALSE(contains(d, secret));
    }
  }
}

TEST_CASE("authentication: every replayed handshake message is refused") {
  struct Case {
    const char* name;
    std::vector<std::uint8_t> a_suites, b_suites;  // a retry when they differ
    std::optional<Psk> psk;
  };
  const Case cases[] = {
      {"XX", {}, {}, std::nullopt},
      {"XXpsk3", {}, {}, psk_of(0x99)},
      {"XX after a retry", {1, 3}, {3, 1}, std::nullopt},
  };
  std::uint64_t seed = 1400;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    session::EngineConfig ca, cb;
    ca.suites = c.a_suites;
    cb.suites = c.b_suites;
    Pair s(++seed, ca, cb);
    set_psks(s, c.psk, c.psk);
    WireTap wire;
    wire.install(s.net);
    s.connect();
    REQUIRE(s.b->engine.has_session(s.b_to_a));
    REQUIRE(s.a->count(Event::Kind::session_confirmed) == 1);

    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    const auto responses = wire.of_type(MessageType::response, s.b->address);
    const auto finishes = wire.of_type(MessageType::finish, s.a->address);
    const auto retries = wire.of_type(MessageType::retry, s.b->address);
    REQUIRE(responses.size() == 1);
    REQUIRE(finishes.size() == 1);
    const Endpoint attacker = address_v4(66, 4444);

    // Replays from a's own address and from elsewhere.
    const std::uint64_t dh_before = crypto::dh_operations_on_this_thread();
    for (const Endpoint& from : {s.a->address, attacker})
      s.net.inject(from, s.b->address, inits.back());
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(s.b->count(Drop::replayed_initiation) == 2);
    CHECK(crypto::dh_operations_on_this_thread() == dh_before);  // refused before any DH

    s.net.inject(s.b->address, s.a->address, responses[0]);
    s.net.inject(attacker, s.a->address, responses[0]);
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(s.a->count(Drop::unknown_index) == 2);

    s.net.inject(s.a->address, s.b->address, finishes[0]);
    s.net.inject(attacker, s.b->address, finishes[0]);
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(s.b->count(Drop::unknown_index) == 2);

    if (!retries.empty()) {
      // The retry names the first attempt, which is over.
      s.net.inject(s.b->address, s.a->address, retries[0]);
      s.net.run_for(std::chrono::milliseconds(10));
      CHECK(s.a->count(Drop::unknown_index) == 3);
      // The first attempt replayed: b answers statelessly with a retry again,
      // and a ignores it.
      s.net.inject(s.a->address, s.b->address, inits.front());
      s.net.run_for(std::chrono::milliseconds(10));
      CHECK(s.b->count(Event::Kind::retry_sent) == 2);
      CHECK(s.a->count(Drop::unknown_index) == 4);
    }

    // Nothing changed: one session each, the same keys, data still flows.
    CHECK(s.b->count(Event::Kind::handshake_complete) == 1);
    CHECK(s.a->count(Event::Kind::handshake_complete) == 1);
    CHECK(s.b->engine.pending_handshakes() == 0);
    s.a->send_packet(s.a_to_b, make_packet(7));
    s.net.run_for(std::chrono::milliseconds(10));
    REQUIRE(s.b->delivered.size() == 2);
    CHECK(packet_sequence(s.b->delivered[1].packet) == 7);
    CHECK(s.b->engine.endpoint(s.b_to_a) == s.a->address);  // replays moved no endpoint
  }
}

TEST_CASE("authentication: a refused finish replayed is not read (nor reported) again") {
  // The PSK refusals come after message 3 has authenticated the initiator's
  // static key: they are final, so the handshake ends and a replay of the
  // same finish finds nothing.
  struct Case {
    const char* name;
    std::optional<Psk> a, b;
    bool b_knows_a;
    Drop refusal;
  };
  const Case cases[] = {
      {"PSK mismatch", psk_of(1), psk_of(2), true, Drop::psk_mismatch},
      {"PSK not configured", psk_of(1), std::nullopt, true, Drop::psk_not_configured},
      {"PSK required", std::nullopt, psk_of(1), true, Drop::psk_required},
      {"unknown peer (XX)", std::nullopt, std::nullopt, false, Drop::unknown_peer},
      {"unknown peer (XXpsk3)", psk_of(1), std::nullopt, false, Drop::unknown_peer},
  };
  std::uint64_t seed = 1500;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed);
    set_psks(s, c.a, c.b);
    if (!c.b_knows_a) s.b->engine.remove_peer(s.b_to_a);
    WireTap wire;
    wire.install(s.net);
    s.connect();
    REQUIRE(s.b->count(c.refusal) == 1);
    CHECK(s.b->engine.pending_handshakes() == 0);
    const auto finishes = wire.of_type(MessageType::finish, s.a->address);
    REQUIRE(finishes.size() == 1);
    const std::size_t unknown = s.b->count(Drop::unknown_index);
    s.net.inject(s.a->address, s.b->address, finishes[0]);
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(s.b->count(c.refusal) == 1);
    CHECK(s.b->count(Drop::unknown_index) == unknown + 1);
  }
}

TEST_CASE("authentication: claiming a peer's public key (even with its PSK) gets no session") {
  // c holds its own private key but announces a's public key as its static
  // key: message 3 decrypts to a's key, and se (with c's private key) fails.
  struct Case {
    const char* name;
    std::optional<Psk> c_psk;  // the PSK c uses; a and b share psk_of(0x44)
    Drop drop;
  };
  const Case cases[] = {
      {"with a stolen PSK", psk_of(0x44), Drop::psk_mismatch},
      {"with a guessed PSK", psk_of(0x45), Drop::psk_mismatch},
      {"without a PSK", std::nullopt, Drop::decrypt_failed},
  };
  std::uint64_t seed = 1600;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed);
    set_psks(s, psk_of(0x44), psk_of(0x44));
    crypto::KeyPair claimed = key_from(seed + 99);
    claimed.public_key = s.a->key.public_key;
    Node& impostor = s.net.add_node(address_v4(3), std::move(claimed));
    session::PeerConfig to_b;
    to_b.public_key = s.b->key.public_key;
    to_b.endpoint = s.b->address;
    if (c.c_psk) to_b.psk = crypto::LockedKey(Bytes(*c.c_psk));
    const session::PeerId c_to_b = impostor.engine.add_peer(to_b);
    impostor.send_packet(c_to_b, make_packet(1));
    s.net.run_for(std::chrono::seconds(1));

    CHECK(impostor.count(Event::Kind::handshake_complete) == 1);  // c got as far as message 3
    CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.b->count(Event::Kind::handshake_complete) == 0);
    CHECK(s.b->delivered.empty());
    CHECK(s.b->count(c.drop) == 1);
    // The report names the key c claimed: message 3 has not proved it when
    // the PSK is looked up (se fails only after). It is a claim, not a finding.
    if (c.drop == Drop::psk_mismatch) CHECK(drops_of(*s.b, c.drop)[0].peer == s.b_to_a);
    CHECK(s.b->engine.endpoint(s.b_to_a) == std::nullopt);  // c's address was not taken

    // The real a is not hindered.
    s.connect();
    CHECK(s.b->engine.has_session(s.b_to_a));
    CHECK(s.b->engine.endpoint(s.b_to_a) == s.a->address);
    CHECK(s.b->delivered.size() == 1);
  }
}

namespace {

// Admits a newcomer that shows extension 0x4242 holding "ok" (a stand-in for
// a certificate), by adding it as a peer; refuses `banned`; or answers with
// a chosen peer id whatever the key.
class TestAuthorizer final : public session::Authorizer {
 public:
  session::Admission authorize(Instant now, session::Role role, const crypto::PublicKey& key,
                               std::optional<session::PeerId> known,
                               const wire::ExtensionList& extensions) override {
    (void)now;
    ++calls;
    roles.push_back(role);
    if (wrong_id) return session::Admission::existing(*wrong_id);
    if (banned && key == *banned) return session::Admission::refuse();
    if (known) return session::Admission::existing(*known, until);
    const wire::Extension* e = extensions.find(0x4242);
    if (e == nullptr || std::string(e->value.begin(), e->value.end()) != "ok") {
      return session::Admission::refuse();
    }
    session::PeerConfig config;
    config.name = "newcomer";
    return session::Admission::add(config, until);
  }
  std::optional<crypto::PublicKey> banned;
  std::optional<session::PeerId> wrong_id;
  std::optional<Instant> until;
  std::vector<session::Role> roles;
  int calls = 0;
};

session::EngineConfig showing(const std::string& token) {
  session::EngineConfig c;
  c.extra_extensions.push_back(
      {0x4242, false, std::vector<std::uint8_t>(token.begin(), token.end())});
  return c;
}

}  // namespace

TEST_CASE("an authorizer admits a newcomer it trusts, and only the key it names") {
  SUBCASE("a newcomer with the right credential gets a peer and a session") {
    Pair s(31, showing("ok"));
    TestAuthorizer auth;
    REQUIRE(s.b->engine.remove_peer(s.b_to_a));
    s.b->engine.set_authorizer(&auth);
    s.connect();
    const auto id = s.b->engine.find_peer(s.a->key.public_key);
    REQUIRE(id.has_value());
    CHECK(s.b->engine.has_session(*id));
    REQUIRE(s.b->delivered.size() == 1);
    CHECK(s.b->delivered[0].peer == *id);
    CHECK(auth.calls == 1);
  }
  SUBCASE("without the credential the newcomer is refused") {
    Pair s(32, showing("no"));
    TestAuthorizer auth;
    REQUIRE(s.b->engine.remove_peer(s.b_to_a));
    s.b->engine.set_authorizer(&auth);
    s.connect();
    CHECK_FALSE(s.b->engine.find_peer(s.a->key.public_key).has_value());
    CHECK(s.b->count(Drop::unknown_peer) >= 1);
    CHECK(s.b->delivered.empty());
  }
  SUBCASE("a configured peer the authorizer refuses gets no session") {
    Pair s(33);
    TestAuthorizer auth;
    auth.banned = s.a->key.public_key;
    s.b->engine.set_authorizer(&auth);
    s.connect();
    CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.b->count(Drop::not_admitted) >= 1);
    CHECK(s.b->engine.find_peer(s.a->key.public_key) == s.b_to_a);  // configured: it stays
  }
  SUBCASE("an answer naming another peer's id is refused") {
    Pair s(34);
    session::PeerConfig other;
    other.public_key = key_from(999).public_key;
    const session::PeerId other_id = s.b->engine.add_peer(other);
    TestAuthorizer auth;
    auth.wrong_id = other_id;
    s.b->engine.set_authorizer(&auth);
    s.connect();
    CHECK_FALSE(s.b->engine.has_session(other_id));
    CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.b->count(Drop::not_admitted) >= 1);
  }
}
