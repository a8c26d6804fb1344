// SPDX-License-Identifier: MIT
// What an observer and a prober learn (docs/PROTOCOL.md 7.1 and 11): with
// and without a network key, the attacker's own test of a capture against a
// list of candidate public keys; extension lists padded to a few sizes; and
// no unauthenticated request answered with more than three times its size.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gw/session/cookie.hpp"
#include "sim/sim_helpers.hpp"

using namespace gw;
using namespace gw::test;
using session::Drop;
using session::Event;
using wire::MessageType;

namespace {

using Datagram = std::vector<std::uint8_t>;

session::NetworkKey network_key(std::uint8_t fill) {
  std::array<std::uint8_t, 32> k{};
  k.fill(fill);
  return session::NetworkKey(Bytes(k));
}

session::EngineConfig with_network(std::uint8_t fill) {
  session::EngineConfig c;
  c.network_key.emplace(network_key(fill));
  return c;
}

// The attacker's test: which candidate public key makes a captured
// initiation's or finish's mac1 verify (both are keyed with the
// responder's static key: PROTOCOL.md 7.1). nullopt: none of them.
std::optional<std::size_t> identify(const std::vector<Datagram>& capture,
                                    const std::vector<crypto::PublicKey>& candidates) {
  for (const Datagram& d : capture) {
    if (d.empty()) continue;
    const bool initiation = d[0] == static_cast<std::uint8_t>(MessageType::initiation);
    const bool finish = d[0] == static_cast<std::uint8_t>(MessageType::finish);
    if (!initiation && !finish) continue;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (session::mac1_valid(d, session::mac1_key(candidates[i]), initiation)) return i;
    }
  }
  return std::nullopt;
}

std::vector<crypto::PublicKey> candidates_with(const crypto::PublicKey& real) {
  std::vector<crypto::PublicKey> keys;
  for (std::uint64_t i = 500; i < 600; ++i)
    keys.push_back(key_from(i).public_key);
  keys.insert(keys.begin() + 37, real);
  return keys;
}

std::vector<Datagram> capture_of(const WireTap& tap) {
  std::vector<Datagram> out;
  for (const auto& s : tap.sent)
    out.push_back(s.bytes);
  return out;
}

}  // namespace

TEST_CASE(
    "an eavesdropper with a list of candidate keys finds the responder, unless a network key is "
    "set") {
  SUBCASE("no network key: mac1 confirms which gateway is contacted, as in WireGuard") {
    Pair s(81);
    WireTap tap;
    tap.install(s.net);
    s.connect();
    REQUIRE(s.a->engine.has_session(s.a_to_b));
    CHECK(identify(capture_of(tap), candidates_with(s.b->key.public_key)) == 37);
  }
  SUBCASE("a network key: no candidate verifies, the tunnel works") {
    Pair s(82, with_network(7), with_network(7));
    WireTap tap;
    tap.install(s.net);
    s.connect();
    REQUIRE(s.a->engine.has_session(s.a_to_b));
    CHECK(s.b->delivered.size() == 1);
    CHECK_FALSE(identify(capture_of(tap), candidates_with(s.b->key.public_key)).has_value());
    // Nor the initiator's: it is in no mac1, and encrypted in message 3.
    CHECK_FALSE(identify(capture_of(tap), candidates_with(s.a->key.public_key)).has_value());
  }
}

TEST_CASE("with a network key, a prober who knows the gateway's key gets no answer at all") {
  Pair s(83, with_network(7), with_network(7));
  WireTap tap;
  tap.install(s.net);
  FakeRng rng(9);
  crypto::PublicKey e{};
  rng.fill(e);
  // A well-formed initiation with mac1 keyed as without a network key.
  const Datagram probe = forge_initiation(s.b->key.public_key, e, 1234, 1, {1});
  const Endpoint prober = address_v4(66);
  s.net.inject(prober, s.b->address, probe);
  s.net.run_for(std::chrono::seconds(1));
  CHECK(tap.count_from(s.b->address) == 0);
  CHECK(s.b->count(Drop::bad_mac1) == 1);
  CHECK(s.b->engine.pending_handshakes() == 0);

  SUBCASE("members with another network key do not reach each other either") {
    Pair t(84, with_network(7), with_network(8));
    t.connect();
    CHECK_FALSE(t.a->engine.has_session(t.a_to_b));
    CHECK(t.b->count(Drop::bad_mac1) >= 1);
  }
  SUBCASE("nor an initiator without the key") {
    Pair t(85, {}, with_network(7));
    t.connect();
    CHECK_FALSE(t.a->engine.has_session(t.a_to_b));
    CHECK(t.b->count(Drop::bad_mac1) >= 1);
  }
}

TEST_CASE("extension lists are padded to a few sizes, whatever the certificate's length") {
  std::set<std::size_t> response_sizes, finish_sizes;
  for (const std::size_t cert_len : {1, 40, 150, 190, 200}) {
    session::EngineConfig a, b;
    a.certificate.assign(cert_len, 0xab);
    b.certificate.assign(cert_len, 0xcd);
    Pair s(86 + cert_len, a, b);
    WireTap tap;
    tap.install(s.net);
    s.connect();
    REQUIRE(s.a->engine.has_session(s.a_to_b));
    for (const Datagram& d : tap.of_type(MessageType::response, s.b->address))
      response_sizes.insert(d.size());
    for (const Datagram& d : tap.of_type(MessageType::finish, s.a->address))
      finish_sizes.insert(d.size());
  }
  // The responder was not asked for its certificate: the 64-byte list.
  CHECK(response_sizes == std::set<std::size_t>{124 + 64});
  // The initiator's certificates of 1 to 200 bytes: lists of 64 and 256.
  CHECK(finish_sizes == std::set<std::size_t>{88 + 64, 88 + 256});
}

TEST_CASE("no unauthenticated initiation draws more than three times its size") {
  session::EngineConfig b;
  b.certificate.assign(700, 0x5a);  // a big certificate: a 1024-byte list
  Pair s(91, {}, b);
  WireTap tap;
  tap.install(s.net);
  FakeRng rng(3);
  crypto::PublicKey e{};
  rng.fill(e);
  // A spoofed initiation that asks for the certificate.
  Datagram probe = forge_initiation(s.b->key.public_key, e, 99, 1, {1});
  probe[1] |= wire_spec::kFlagCertificate;
  restamp_initiation(probe, s.b->key.public_key);
  const Endpoint victim = address_v4(77);
  s.net.inject(victim, s.b->address, probe);
  s.net.run_for(std::chrono::milliseconds(10));
  std::size_t sent = 0;
  for (const auto& d : tap.sent) {
    if (d.from == s.b->address) sent += d.bytes.size();
  }
  CHECK(sent > 0);
  CHECK(sent <= wire_spec::kAmplificationFactor * probe.size());
  CHECK(tap.count(MessageType::response, s.b->address) == 0);
  CHECK(tap.count(MessageType::cookie_reply, s.b->address) == 1);
  CHECK(s.b->count(Drop::unproven_source) == 1);
  CHECK(s.b->engine.pending_handshakes() == 0);  // and no state for it

  SUBCASE("without the request, the response is small and sent at once") {
    const Datagram plain = forge_initiation(s.b->key.public_key, e, 100, 1, {1});
    s.net.inject(victim, s.b->address, plain);
    s.net.run_for(std::chrono::milliseconds(10));
    const auto responses = tap.of_type(MessageType::response, s.b->address);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].size() <= wire_spec::kAmplificationFactor * plain.size());
  }
}

TEST_CASE("a gateway asks an admitted peer for its certificate, and gets it through a cookie") {
  // b admits a newcomer whose certificate (extension 1) is "ok", and then
  // initiates to it itself: its initiation asks for the certificate, a's
  // response would be large, so a's cookie reply comes first, and b resends
  // at once with mac2.
  class ByCertificate final : public session::Authorizer {
   public:
    session::Admission authorize(Instant, session::Role role, const crypto::PublicKey&,
                                 std::optional<session::PeerId> known,
                                 const wire::ExtensionList& extensions) override {
      const wire::Extension* c = extensions.find(wire_spec::kExtCertificate);
      seen.push_back({role, c != nullptr});
      if (c == nullptr) return session::Admission::refuse();
      if (known) return session::Admission::existing(*known);
      session::PeerConfig pc;
      pc.name = "client";
      return session::Admission::add(pc, std::nullopt);
    }
    std::vector<std::pair<session::Role, bool>> seen;
  };
  session::EngineConfig a;
  a.certificate.assign(600, 0x11);
  Pair s(92, a);
  ByCertificate auth;
  REQUIRE(s.b->engine.remove_peer(s.b_to_a));
  s.b->engine.set_authorizer(&auth);
  WireTap tap;
  tap.install(s.net);
  s.connect();
  const auto id = s.b->engine.find_peer(s.a->key.public_key);
  REQUIRE(id.has_value());
  // a initiated to a configured gateway: it did not ask for b's certificate.
  for (const Datagram& d : tap.of_type(MessageType::initiation, s.a->address))
    CHECK((d[1] & wire_spec::kFlagCertificate) == 0);
  s.net.run_for(std::chrono::seconds(6));
  const std::size_t cookies_before = tap.count(MessageType::cookie_reply, s.a->address);
  s.b->engine.initiate(s.net.now(), *id);
  s.net.run_for(std::chrono::seconds(1));
  const auto inits = tap.of_type(MessageType::initiation, s.b->address);
  REQUIRE(inits.size() == 2);
  CHECK((inits[0][1] & wire_spec::kFlagCertificate) != 0);
  CHECK(tap.count(MessageType::cookie_reply, s.a->address) == cookies_before + 1);
  REQUIRE(auth.seen.size() == 2);
  CHECK(auth.seen[1] == std::pair{session::Role::initiator, true});
  CHECK(s.b->engine.stats(*id)->handshakes == 2);
}
