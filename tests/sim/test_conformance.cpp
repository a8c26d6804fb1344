// SPDX-License-Identifier: MIT
// The receiver rules of docs/PROTOCOL.md one by one, as a second
// implementation would meet them: the extension list of messages 2 and 3
// (section 6), the offer of message 1 (sections 4.1 and 5.2), and the drop
// reason gwd reports for each fault.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "gw/session/cookie.hpp"
#include "sim/sim_helpers.hpp"

using namespace gw;
using namespace gw::test;
using session::Drop;
using session::Event;
using Ext = session::EngineConfig::Extension;

namespace {

using Datagram = std::vector<std::uint8_t>;

session::EngineConfig sending(std::vector<Ext> extensions) {
  session::EngineConfig c;
  c.extra_extensions = std::move(extensions);
  return c;
}

Ext extension(std::uint16_t type, bool critical, const std::string& value) {
  return {type, critical, std::vector<std::uint8_t>(value.begin(), value.end())};
}

// Admits a newcomer whose certificate extension (type 1) holds "cert", as
// gwd's authorizer admits one whose certificate a trusted CA signed.
class CertificateAuthorizer final : public session::Authorizer {
 public:
  session::Admission authorize(Instant now, session::Role role, const crypto::PublicKey& key,
                               std::optional<session::PeerId> known,
                               const wire::ExtensionList& extensions) override {
    (void)now, (void)role, (void)key;
    if (known) return session::Admission::existing(*known);
    const wire::Extension* e = extensions.find(wire_spec::kExtCertificate);
    if (e == nullptr || std::string(e->value.begin(), e->value.end()) != "cert") {
      return session::Admission::refuse();
    }
    seen_critical = e->critical();
    session::PeerConfig config;
    config.name = "certified";
    return session::Admission::add(config, std::nullopt);
  }
  bool seen_critical = false;
};

}  // namespace

TEST_CASE("conformance: a certificate extension marked critical is known, in either direction") {
  SUBCASE("from the initiator: the responder's authorizer admits it by its certificate") {
    Pair s(9001, sending({extension(wire_spec::kExtCertificate, true, "cert")}));
    CertificateAuthorizer auth;
    REQUIRE(s.b->engine.remove_peer(s.b_to_a));
    s.b->engine.set_authorizer(&auth);
    s.connect();
    const auto id = s.b->engine.find_peer(s.a->key.public_key);
    REQUIRE(id.has_value());
    CHECK(s.b->engine.has_session(*id));
    CHECK(auth.seen_critical);
    CHECK(s.b->count(Drop::critical_extension) == 0);
    CHECK(s.b->delivered.size() == 1);
    CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
  }
  SUBCASE("from the responder: the initiator completes") {
    Pair s(9002, {}, sending({extension(wire_spec::kExtCertificate, true, "cert")}));
    s.connect();
    CHECK(s.a->count(Drop::critical_extension) == 0);
    CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
    CHECK(s.b->delivered.size() == 1);
  }
}

TEST_CASE("conformance: a defined extension of the wrong length, or a type twice, is bad_payload") {
  struct Case {
    const char* what;
    std::vector<Ext> extensions;
  };
  const Case cases[] = {
      {"features of 3 bytes", {extension(wire_spec::kExtFeatures, false, "abc")}},
      {"features of 5 bytes", {extension(wire_spec::kExtFeatures, false, "abcde")}},
      {"suites empty", {extension(wire_spec::kExtSuites, false, "")}},
      {"suites of 7 bytes",
       {extension(wire_spec::kExtSuites, false, "\x01\x02\x03\x04\x05\x06\x07")}},
      {"certificate empty", {extension(wire_spec::kExtCertificate, false, "")}},
      {"an unknown type twice", {extension(0x4242, false, "a"), extension(0x4242, false, "b")}},
      {"features twice",
       {extension(wire_spec::kExtFeatures, false, std::string(4, '\0')),
        extension(wire_spec::kExtFeatures, false, std::string(4, '\0'))}},
  };
  std::uint64_t seed = 9010;
  for (const Case& c : cases) {
    const std::string what = c.what;
    for (const bool from_responder : {false, true}) {
      CAPTURE(what);
      CAPTURE(from_responder);
      const session::EngineConfig with = sending(c.extensions);
      Pair s = from_responder ? Pair(++seed, {}, with) : Pair(++seed, with, {});
      s.connect();
      Node* refuser = from_responder ? s.a : s.b;
      CHECK(refuser->count(Drop::bad_payload) == 1);
      CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
      CHECK(s.a->count(Event::Kind::session_confirmed) == 0);
      CHECK(s.b->delivered.empty());
    }
  }
}
namespace {

// An initiation with the PSK flag as anyone can build it: a header, `e`, an
// "encrypted" offer of garbage, a valid mac1.
Datagram forge_psk_initiation(const crypto::PublicKey& responder, std::uint8_t suite) {
  wire::InitiationFields fields;
  fields.flags = wire_spec::kFlagPsk;
  fields.suite = suite;
  fields.sender_index = 0x0a0b0c0d;
  Datagram out(wire::initiation_size(fields.flags), 0x33);
  REQUIRE(wire::write_initiation_header(out, fields) != 0);
  std::fill(out.end() - wire_spec::kMacLen, out.end(), std::uint8_t{0});  // mac2
  restamp_initiation(out, responder);
  return out;
}

}  // namespace

TEST_CASE("conformance: every initiation the offer's checks refuse (sections 4.1 and 5.2)") {
  const auto plain = [](std::uint8_t suite, std::vector<std::uint8_t> offer,
                        std::uint8_t version = 1) {
    return [=](const crypto::PublicKey& b, const crypto::PublicKey& e) {
      return forge_initiation(b, e, 0x01020304, suite, offer, version);
    };
  };
  using Forge = std::function<Datagram(const crypto::PublicKey&, const crypto::PublicKey&)>;
  struct Case {
    const char* what;
    Forge forge;
    Drop drop;
  };
  const Case cases[] = {
      {"count 0", plain(1, {}), Drop::bad_payload},
      {"count 7", plain(1, {1, 2, 3, 4, 5, 6, 7}), Drop::bad_payload},
      {"a non-zero byte after count suites",
       [](const crypto::PublicKey& b, const crypto::PublicKey& e) {
         Datagram d = forge_initiation(b, e, 0x01020304, 1, {1});
         d[initiation_ephemeral_offset(d) + 32 + 2 + 1] = 3;
         restamp_initiation(d, b);
         return d;
       },
       Drop::bad_payload},
      {"a suite twice", plain(1, {1, 3, 1}), Drop::bad_payload},
      {"a zero id among the first count", plain(1, {1, 0, 3}), Drop::bad_payload},
      {"the attempt's suite absent", plain(3, {1}), Drop::bad_payload},
      {"nothing in common", plain(9, {9, 10}), Drop::no_common_suite},
      {"nothing in common and the attempt's suite absent", plain(1, {9}), Drop::no_common_suite},
      {"another offer version", plain(1, {1}, 2), Drop::unsupported_version},
      {"another version, and count 0: the shape comes first", plain(1, {}, 2), Drop::bad_payload},
      {"PSK flag, an offer that does not decrypt",
       [](const crypto::PublicKey& b, const crypto::PublicKey&) {
         return forge_psk_initiation(b, 1);
       },
       Drop::decrypt_failed},
  };
  std::uint64_t seed = 9100;
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    session::EngineConfig b_policy;
    b_policy.suites = {1, 3};
    Pair s(++seed, {}, b_policy);
    WireTap wire;
    wire.install(s.net);
    FakeRng rng(seed);
    const crypto::KeyPair e = crypto::KeyPair::generate(rng);
    s.net.inject(s.a->address, s.b->address, c.forge(s.b->key.public_key, e.public_key));
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(s.b->count(c.drop) == 1);
    CHECK(s.b->count(Event::Kind::dropped) == 1);
    CHECK(wire.sent.empty());  // no answer of any kind
    CHECK(s.b->engine.pending_handshakes() == 0);
  }
}

TEST_CASE("conformance: a PSK initiation on a suite we do not run gets a retry per suite of ours") {
  // Its offer is encrypted under that suite: unreadable here. Section 5.2,
  // step 1: a retry for each suite of our policy, most preferred first, and
  // no state kept.
  session::EngineConfig b_policy;
  b_policy.suites = {3, 1};
  Pair s(9200, {}, b_policy);
  WireTap wire;
  wire.install(s.net);
  s.net.inject(s.a->address, s.b->address, forge_psk_initiation(s.b->key.public_key, 9));
  s.net.run_for(std::chrono::milliseconds(10));
  CHECK(s.b->count(Event::Kind::dropped) == 0);
  CHECK(s.b->count(Event::Kind::retry_sent) == 2);
  const auto retries = wire.of_type(wire::MessageType::retry, s.b->address);
  REQUIRE(retries.size() == 2);
  CHECK(retries[0][1] == 3);
  CHECK(retries[1][1] == 1);
  CHECK(wire.sent.size() == 2);
  CHECK(s.b->engine.pending_handshakes() == 0);
}

TEST_CASE("conformance: a later version's initiation is unsupported_version, whatever its size") {
  struct Case {
    std::uint8_t version;
    std::size_t size;
  };
  const Case cases[] = {{2, 80},
                        {2, 100},
                        {2, wire_spec::kMinInitiationAnyVersion},
                        {3, 144},
                        {255, wire_spec::kMaxHandshakeSize}};
  std::uint64_t seed = 9200;
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.version));
    CAPTURE(c.size);
    Pair s(++seed);
    WireTap wire;
    wire.install(s.net);
    s.net.inject(s.a->address, s.b->address,
                 forge_later_initiation(s.b->key.public_key, c.version, c.size));
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(s.b->count(Drop::unsupported_version) == 1);
    CHECK(s.b->count(Drop::malformed) == 0);
    REQUIRE(s.b->events.size() == 1);
    CHECK(s.b->events[0].version == c.version);
    CHECK(s.b->events[0].from == s.a->address);
    CHECK(s.b->events[0].message == 1);
    CHECK(wire.sent.empty());  // never answered
    CHECK(s.b->engine.pending_handshakes() == 0);
  }
}

TEST_CASE("conformance: a later version's initiation needs mac1, and 40 bytes at least") {
  Pair s(9250);
  Datagram bad_mac1 = forge_later_initiation(s.b->key.public_key, 2, 100);
  bad_mac1[10] ^= 1;
  s.net.inject(s.a->address, s.b->address, bad_mac1);
  s.net.inject(
      s.a->address, s.b->address,
      forge_later_initiation(s.b->key.public_key, 2, wire_spec::kMinInitiationAnyVersion - 1));
  s.net.run_for(std::chrono::milliseconds(10));
  CHECK(s.b->count(Drop::bad_mac1) == 1);
  CHECK(s.b->count(Drop::malformed) == 1);
  CHECK(s.b->count(Drop::unsupported_version) == 0);
}

namespace {

std::vector<Instant> initiation_times(const Node& n) {
  std::vector<Instant> at;
  for (std::size_t i = 0; i < n.events.size(); ++i) {
    if (n.events[i].kind == Event::Kind::handshake_started) at.push_back(n.event_times[i]);
  }
  return at;
}

}  // namespace

TEST_CASE("conformance: after a cookie reply the initiator resends at once, afresh, once") {
  session::EngineConfig loaded;
  loaded.always_under_load = true;
  Pair s(9300, {}, loaded);
  WireTap wire;
  wire.install(s.net);
  s.connect();  // one second: the cookie reply, the resend and the session within it
  REQUIRE(s.b->count(Event::Kind::cookie_sent) == 1);
  CHECK(s.a->count(Event::Kind::dropped) == 0);  // the cookie was taken
  REQUIRE(s.b->engine.has_session(s.b_to_a));
  const auto inits = wire.of_type(wire::MessageType::initiation, s.a->address);
  REQUIRE(inits.size() == 2);
  const std::vector<Instant> at = initiation_times(*s.a);
  REQUIRE(at.size() == 2);
  CHECK(at[1] - at[0] < timer_spec::kRekeyTimeout);  // at once: one round trip later
  CHECK(initiation_ephemeral(inits[1]) != initiation_ephemeral(inits[0]));
  CHECK(initiation_sender_index(inits[1]) != initiation_sender_index(inits[0]));
  CHECK((inits[1][1] & wire_spec::kFlagRetried) == 0);
  CHECK_FALSE(std::all_of(inits[1].end() - 16, inits[1].end(), [](auto b) { return b == 0; }));

  SUBCASE("a second cookie reply for the same attempt waits for the retransmission timer") {
    // A responder whose load check keeps refusing: its cookies never verify
    // because the middle spoils mac2 of every initiation.
    Pair t(9301, {}, loaded);
    WireTap tap;
    tap.install(t.net, [&](const Endpoint& from, const Endpoint&, std::vector<std::uint8_t>& b) {
      if (from == t.a->address && !b.empty() && b[0] == 1) b[b.size() - 1] ^= 1;
      return true;
    });
    t.connect();
    CHECK(tap.count(wire::MessageType::initiation, t.a->address) == 2);  // one resend at once
    CHECK(t.b->count(Event::Kind::cookie_sent) == 2);
    t.net.run_for(timer_spec::kRekeyTimeout + timer_spec::kRekeyTimeoutJitterMax);
    // The retransmission is a new attempt: sent on the timer, and its own
    // cookie reply makes it resend once at once too.
    CHECK(tap.count(wire::MessageType::initiation, t.a->address) == 4);
    CHECK(t.b->count(Event::Kind::cookie_sent) == 4);
    CHECK_FALSE(t.b->engine.has_session(t.b_to_a));
  }
}

TEST_CASE("conformance: only initiations answered with a response enter the replay cache") {
  SUBCASE("answered with a cookie: the same bytes with mac2 are answered, then refused") {
    session::EngineConfig loaded;
    loaded.always_under_load = true;
    Pair s(9310, {}, loaded);
    WireTap wire;
    wire.install(s.net);
    FakeRng rng(9310);
    const crypto::KeyPair e = crypto::KeyPair::generate(rng);
    Datagram init = forge_initiation(s.b->key.public_key, e.public_key, 0x01020304, 1, {1});
    s.net.inject(s.a->address, s.b->address, init);
    s.net.run_for(std::chrono::milliseconds(10));
    const auto replies = wire.of_type(wire::MessageType::cookie_reply, s.b->address);
    REQUIRE(replies.size() == 1);
    wire::CookieReply reply;
    REQUIRE(wire::parse_cookie_reply(replies[0], reply) == wire::ParseStatus::ok);
    session::CookieJar jar;
    const Bytes mac1(init.data() + init.size() - 32, 16);
    REQUIRE(jar.consume_reply(reply, session::cookie_key(s.b->key.public_key), mac1, s.net.now()));
    session::stamp_mac2(init, jar.cookie(s.net.now()));
    for (int i = 0; i < 2; ++i)
      s.net.inject(s.a->address, s.b->address, init);
    s.net.run_for(std::chrono::milliseconds(10));
    CHECK(wire.count(wire::MessageType::response, s.b->address) == 1);
    CHECK(s.b->count(Drop::replayed_initiation) == 1);
  }
  SUBCASE("answered with a retry: the same bytes get the same retry") {
    session::EngineConfig policy;
    policy.suites = {3, 1};
    Pair s(9320, {}, policy);
    WireTap wire;
    wire.install(s.net);
    FakeRng rng(9320);
    const crypto::KeyPair e = crypto::KeyPair::generate(rng);
    const Datagram init =
        forge_initiation(s.b->key.public_key, e.public_key, 0x01020304, 1, {1, 3});
    for (int i = 0; i < 2; ++i)
      s.net.inject(s.a->address, s.b->address, init);
    s.net.run_for(std::chrono::milliseconds(10));
    const auto retries = wire.of_type(wire::MessageType::retry, s.b->address);
    REQUIRE(retries.size() == 2);
    CHECK(retries[0] == retries[1]);
    CHECK(s.b->count(Drop::replayed_initiation) == 0);
  }
}

TEST_CASE("conformance: the inner packet's length decides, and an unpadded plaintext is accepted") {
  session::EngineConfig mtu;
  mtu.mtu = 1001;  // padding stops here: a 1001-byte packet goes unpadded
  Pair s(9400, mtu);
  WireTap wire;
  wire.install(s.net);
  s.connect();
  s.a->send_packet(s.a_to_b, make_packet(1, 1001));
  s.a->send_packet(s.a_to_b, make_packet(2, 999));  // padded to 1001, then stops
  s.net.run_for(std::chrono::milliseconds(10));
  std::vector<std::size_t> sizes;
  for (const Datagram& d : wire.of_type(wire::MessageType::transport, s.a->address))
    sizes.push_back(d.size());
  CHECK(std::count(sizes.begin(), sizes.end(), 16 + 1001 + 16) == 2);
  REQUIRE(s.b->delivered.size() == 3);
  CHECK(s.b->delivered[1].packet.size() == 1001);
  CHECK(s.b->delivered[2].packet.size() == 999);
  CHECK(s.b->count(Drop::bad_inner_packet) == 0);
}
