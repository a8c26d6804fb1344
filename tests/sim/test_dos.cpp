// SPDX-License-Identifier: MIT
// Denial-of-service defences (docs/PROTOCOL.md 7): what an attacker who knows
// only public values can make the responder spend. Diffie-Hellman operations
// are counted with the thread-local counter of gw::crypto::x25519; the
// simulation runs every engine on this thread.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
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

std::uint64_t dh_now() {
  return crypto::dh_operations_on_this_thread();
}

// Hands `bytes` to `n`'s engine now, as from `from`; returns the DH operations spent.
std::uint64_t deliver(FakeNetwork& net, Node& n, const Endpoint& from, Datagram bytes) {
  const std::uint64_t before = dh_now();
  n.engine.handle_datagram(net.now(), from, bytes);
  return dh_now() - before;
}

Datagram random_bytes(FakeRng& rng, std::size_t size) {
  Datagram d(size);
  rng.fill(d);
  return d;
}

// Random contents behind a well-formed header: type, zero reserved bytes.
Datagram garbage(FakeRng& rng, MessageType type, std::size_t size) {
  Datagram d = random_bytes(rng, size);
  d[0] = static_cast<std::uint8_t>(type);
  d[1] = d[2] = d[3] = 0;
  if (d[4] == 0) d[4] = 1;  // a non-zero index
  return d;
}

// A random-looking initiation that would cost a DH if it got through: a
// fresh e, an offer of suite 1, a valid mac1, mac2 zero.
Datagram spoofed_initiation(FakeRng& rng, const crypto::PublicKey& responder) {
  crypto::PublicKey e{};
  rng.fill(e);
  return forge_initiation(responder, e, 1 + rng.uniform(0xfffffffe), 1, {1});
}

Endpoint random_source(FakeRng& rng) {
  std::array<std::uint8_t, 4> a{};
  rng.fill(a);
  a[0] = 10;
  return Endpoint::ipv4(a, static_cast<std::uint16_t>(1024 + rng.uniform(60000)));
}

std::uint32_t u32_at(const Datagram& d, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= std::uint32_t{d[at + i]} << (8 * i);
  return v;
}

void put_u32(Datagram& d, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i)
    d[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::size_t dropped(const Node& n) {
  return n.count(Event::Kind::dropped);
}

session::Mac mac2_of(const Datagram& initiation) {
  session::Mac m{};
  std::copy(initiation.end() - 16, initiation.end(), m.begin());
  return m;
}

}  // namespace

TEST_CASE("dos: nothing unauthenticated costs the responder a Diffie-Hellman") {
  Pair s(2000);
  WireTap wire;
  wire.install(s.net);
  s.connect();
  REQUIRE(s.b->engine.has_session(s.b_to_a));
  FakeRng rng(2000);
  const crypto::PublicKey& b_pub = s.b->key.public_key;

  // What an on-path observer has seen: a's messages and the session's index.
  const Datagram a_init = wire.of_type(MessageType::initiation, s.a->address).at(0);
  const Datagram a_transport = wire.of_type(MessageType::transport, s.a->address).at(0);
  const std::uint32_t session_index = u32_at(a_transport, 4);
  // A pending handshake at b, opened by a stranger (which costs b its DH).
  const Endpoint stranger = address_v4(77, 7777);
  REQUIRE(deliver(s.net, *s.b, stranger, spoofed_initiation(rng, b_pub)) == 2);
  const Datagram response = wire.of_type(MessageType::response, s.b->address).back();
  const std::uint32_t pending_index = u32_at(response, 4);
  REQUIRE(s.b->engine.pending_handshakes() == 1);

  const auto with = [](Datagram d, const std::function<void(Datagram&)>& f) {
    f(d);
    return d;
  };
  const auto restamped = [&](Datagram d) {
    restamp_initiation(d, b_pub);
    return d;
  };
  struct Case {
    const char* name;
    Datagram bytes;
    std::optional<Drop> drop;  // none: answered without a drop (a retry)
  };
  const Case cases[] = {
      {"empty", {}, Drop::malformed},
      {"type 0", with(random_bytes(rng, 100), [](Datagram& d) { d[0] = 0; }), Drop::malformed},
      {"type 7", with(random_bytes(rng, 100), [](Datagram& d) { d[0] = 7; }), Drop::malformed},
      {"type 255", with(random_bytes(rng, 100), [](Datagram& d) { d[0] = 255; }), Drop::malformed},
      {"initiation, unknown flags",
       with(garbage(rng, MessageType::initiation, 80), [](Datagram& d) { d[1] = 0xff; }),
       Drop::malformed},
      {"initiation, wrong size", garbage(rng, MessageType::initiation, 81), Drop::malformed},
      {"initiation, garbage",
       with(garbage(rng, MessageType::initiation, 80), [](Datagram& d) { d[2] = 1; }),
       Drop::bad_mac1},
      {"initiation with PSK, garbage",
       with(garbage(rng, MessageType::initiation, 96),
            [](Datagram& d) {
              d[1] = 1;
              d[2] = 1;
            }),
       Drop::bad_mac1},
      {"initiation RETRIED, garbage",
       with(garbage(rng, MessageType::initiation, 128),
            [](Datagram& d) {
              d[1] = 2;
              d[2] = 1;
            }),
       Drop::bad_mac1},
      {"initiation with PSK and RETRIED, garbage",
       with(garbage(rng, MessageType::initiation, 144),
            [](Datagram& d) {
              d[1] = 3;
              d[2] = 1;
            }),
       Drop::bad_mac1},
      {"a's initiation with mac1 flipped", with(a_init, [](Datagram& d) { d[48] ^= 1; }),
       Drop::bad_mac1},
      {"valid mac1, garbage offer",
       restamped(with(garbage(rng, MessageType::initiation, 80), [](Datagram& d) { d[2] = 1; })),
       Drop::bad_payload},
      {"valid mac1, unsupported version",
       forge_initiation(b_pub, key_from(1).public_key, 5, 1, {1}, 2), Drop::unsupported_version},
      {"valid mac1, no common suite", forge_initiation(b_pub, key_from(2).public_key, 5, 9, {9}),
       Drop::no_common_suite},
      {"valid mac1, a suite b does not pick (a stateless retry)",
       forge_initiation(b_pub, key_from(3).public_key, 5, 3, {3, 1}), std::nullopt},
      {"a's initiation replayed", a_init, Drop::replayed_initiation},
      {"response, garbage", garbage(rng, MessageType::response, 200), Drop::unknown_index},
      {"finish, garbage", garbage(rng, MessageType::finish, 200), Drop::unknown_index},
      {"finish for the pending handshake, bad mac1",
       with(garbage(rng, MessageType::finish, 200),
            [&](Datagram& d) { put_u32(d, 4, pending_index); }),
       Drop::bad_mac1},
      {"finish for the pending handshake, valid mac1, garbage",
       with(garbage(rng, MessageType::finish, 200),
            [&](Datagram& d) {
              put_u32(d, 4, pending_index);
              session::stamp_mac1(d, session::mac1_key(b_pub), false);
            }),
       Drop::decrypt_failed},
      {"retry, garbage", with(garbage(rng, MessageType::retry, 40), [](Datagram& d) { d[1] = 3; }),
       Drop::unknown_index},
      {"retry, suite 0", garbage(rng, MessageType::retry, 40), Drop::malformed},
      {"cookie reply, garbage", garbage(rng, MessageType::cookie_reply, 64), Drop::unknown_index},
      {"transport, unknown index", garbage(rng, MessageType::transport, 64), Drop::unknown_index},
      {"transport on the live session, garbage",
       with(garbage(rng, MessageType::transport, 64),
            [&](Datagram& d) { put_u32(d, 4, session_index); }),
       Drop::decrypt_failed},
      {"a's transport replayed", a_transport, Drop::replay},
  };
  std::uint8_t host = 100;  // a source each: the rate limit is not what this shows
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const std::size_t drops_before = dropped(*s.b);
    const std::size_t expected_before = c.drop ? s.b->count(*c.drop) : 0;
    CHECK(deliver(s.net, *s.b, address_v4(host++, 6666), c.bytes) == 0);
    if (c.drop) {
      CHECK(s.b->count(*c.drop) == expected_before + 1);
      CHECK(dropped(*s.b) == drops_before + 1);  // reported once
    } else {
      CHECK(dropped(*s.b) == drops_before);
      CHECK(s.b->count(Event::Kind::retry_sent) == 1);
    }
  }

  // Random datagrams of every type and size: no DH, one drop each.
  std::uint64_t dh = 0;
  const std::size_t drops_before = dropped(*s.b);
  constexpr std::size_t kRandom = 500;
  for (std::size_t i = 0; i < kRandom; ++i) {
    Datagram d = random_bytes(rng, rng.uniform(300));
    if (!d.empty()) d[0] = static_cast<std::uint8_t>(rng.uniform(8));
    dh += deliver(s.net, *s.b, random_source(rng), d);
  }
  CHECK(dh == 0);
  CHECK(dropped(*s.b) == drops_before + kRandom);

  // The session and the stranger's pending handshake are untouched.
  CHECK(s.b->engine.pending_handshakes() == 1);
  s.a->send_packet(s.a_to_b, make_packet(9));
  s.net.run_for(std::chrono::milliseconds(10));
  REQUIRE(s.b->delivered.size() == 2);

  // Sanity: a valid initiation does cost DH (ee and es of message 2).
  CHECK(deliver(s.net, *s.b, address_v4(78), spoofed_initiation(rng, b_pub)) == 2);
}

TEST_CASE("dos: under load an initiation needs mac2, and without it costs no DH") {
  session::EngineConfig loaded;
  loaded.always_under_load = true;
  Pair s(2100, {}, loaded);
  WireTap wire;
  wire.install(s.net);
  FakeRng rng(2100);
  const crypto::PublicKey& b_pub = s.b->key.public_key;
  const Endpoint client = address_v4(50, 5000);

  const Datagram init = spoofed_initiation(rng, b_pub);
  Datagram garbage_mac2 = init;
  std::fill(garbage_mac2.end() - 16, garbage_mac2.end(), std::uint8_t{0x5a});
  Datagram bad_mac1 = garbage_mac2;
  bad_mac1[48] ^= 1;

  CHECK(deliver(s.net, *s.b, client, init) == 0);
  CHECK(deliver(s.net, *s.b, client, garbage_mac2) == 0);
  CHECK(s.b->count(Drop::under_load) == 2);
  CHECK(s.b->count(Event::Kind::cookie_sent) == 2);
  const auto replies = wire.of_type(MessageType::cookie_reply, s.b->address);
  REQUIRE(replies.size() == 2);
  CHECK(wire.sent.back().to == client);
  // mac1 comes first: no cookie reply (no reflection) for a bad one.
  CHECK(deliver(s.net, *s.b, client, bad_mac1) == 0);
  CHECK(s.b->count(Drop::bad_mac1) == 1);
  CHECK(wire.of_type(MessageType::cookie_reply, s.b->address).size() == 2);

  // The client opens the cookie (bound to its initiation's mac1) and uses it.
  wire::CookieReply reply;
  REQUIRE(wire::parse_cookie_reply(replies[0], reply) == wire::ParseStatus::ok);
  CHECK(reply.receiver_index == initiation_sender_index(init));
  session::CookieJar jar;
  const Bytes mac1(init.data() + init.size() - 32, 16);
  REQUIRE(jar.consume_reply(reply, session::cookie_key(b_pub), mac1, s.net.now()));
  Datagram with_mac2 = init;
  session::stamp_mac2(with_mac2, jar.cookie(s.net.now()));

  // The cookie is bound to the client's address: from elsewhere it is worthless.
  CHECK(deliver(s.net, *s.b, address_v4(51, 5000), with_mac2) == 0);
  CHECK(deliver(s.net, *s.b, address_v4(50, 5001), with_mac2) == 0);
  CHECK(s.b->count(Drop::under_load) == 4);
  // From the client it gets through: DH and a response.
  CHECK(deliver(s.net, *s.b, client, with_mac2) == 2);
  CHECK(wire.of_type(MessageType::response, s.b->address).size() == 1);
  CHECK(s.b->engine.pending_handshakes() == 1);
}

TEST_CASE("dos: the per-source rate limit applies before any DH") {
  Pair s(2200);
  FakeRng rng(2200);
  const crypto::PublicKey& b_pub = s.b->key.public_key;
  const Endpoint x = address_v4(60, 6000), y = address_v4(61, 6000), z = address_v4(62, 6000);

  // Initiations with a bad mac1 take no token.
  for (int i = 0; i < 10; ++i) {
    Datagram d = spoofed_initiation(rng, b_pub);
    d[50] ^= 1;
    CHECK(deliver(s.net, *s.b, z, d) == 0);
  }
  CHECK(s.b->count(Drop::bad_mac1) == 10);

  // A burst of 5 from one source costs DH; the 6th in the same instant does not.
  for (int i = 0; i < 5; ++i)
    CHECK(deliver(s.net, *s.b, x, spoofed_initiation(rng, b_pub)) == 2);
  CHECK(deliver(s.net, *s.b, x, spoofed_initiation(rng, b_pub)) == 0);
  CHECK(s.b->count(Drop::rate_limited) == 1);
  // Another source at the same moment is not affected, and neither is z.
  CHECK(deliver(s.net, *s.b, y, spoofed_initiation(rng, b_pub)) == 2);
  CHECK(deliver(s.net, *s.b, z, spoofed_initiation(rng, b_pub)) == 2);
  // A second later and still within it: 20 per second refill, one per 50 ms.
  s.net.run_for(std::chrono::milliseconds(40));
  CHECK(deliver(s.net, *s.b, x, spoofed_initiation(rng, b_pub)) == 0);
  s.net.run_for(std::chrono::milliseconds(10));
  CHECK(deliver(s.net, *s.b, x, spoofed_initiation(rng, b_pub)) == 2);
  CHECK(deliver(s.net, *s.b, x, spoofed_initiation(rng, b_pub)) == 0);
  CHECK(s.b->count(Drop::rate_limited) == 3);
  CHECK(s.b->engine.pending_handshakes() == 8);
}

TEST_CASE("dos: under load a legitimate initiator completes through the cookie round trip") {
  session::EngineConfig loaded;
  loaded.always_under_load = true;
  Pair s(2300, {}, loaded);
  WireTap wire;
  wire.install(s.net);
  s.connect();
  // The first initiation was answered with a cookie, which a kept; it
  // resent at once (a fresh attempt) with mac2, which got through.
  CHECK(s.b->count(Event::Kind::cookie_sent) == 1);
  CHECK(s.b->count(Drop::under_load) == 1);
  CHECK(s.a->count(Event::Kind::dropped) == 0);
  REQUIRE(s.b->engine.has_session(s.b_to_a));
  CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
  REQUIRE(s.b->delivered.size() == 1);
  const auto inits = wire.of_type(MessageType::initiation, s.a->address);
  REQUIRE(inits.size() == 2);
  CHECK(mac2_of(inits[0]) == session::Mac{});
  CHECK(mac2_of(inits[1]) != session::Mac{});
  CHECK(s.b->count(Event::Kind::cookie_sent) == 1);
}

TEST_CASE("dos: a flood of spoofed initiations gets cookies, and the real peer still connects") {
  struct Case {
    const char* name;
    bool always;
    std::uint32_t threshold;
  };
  const Case cases[] = {{"always under load", true, 64}, {"over a threshold of 16/s", false, 16}};
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    session::EngineConfig b_config;
    b_config.always_under_load = c.always;
    b_config.under_load_threshold = c.threshold;
    Pair s(2400, {}, b_config);
    FakeRng rng(2400);
    const crypto::PublicKey& b_pub = s.b->key.public_key;

    // 1000 spoofed initiations a second, from random sources, for 8 s; the
    // real peer starts its handshake after the flood began.
    constexpr int kSteps = 800, kPerStep = 10;
    std::uint64_t flood_dh = 0;
    std::size_t flood = 0;
    std::optional<Instant> up;
    for (int step = 0; step < kSteps; ++step) {
      for (int i = 0; i < kPerStep; ++i, ++flood)
        flood_dh += deliver(s.net, *s.b, random_source(rng), spoofed_initiation(rng, b_pub));
      if (step == 50) s.a->send_packet(s.a_to_b, make_packet(1));
      s.net.run_for(std::chrono::milliseconds(10));
      if (!up && s.b->engine.has_session(s.b_to_a)) up = s.net.now();
    }
    REQUIRE(up.has_value());
    CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
    REQUIRE(s.b->delivered.size() == 1);
    const std::size_t cookies = s.b->count(Event::Kind::cookie_sent);
    if (c.always) {
      CHECK(flood_dh == 0);
      CHECK(cookies == flood + 1);  // and one for the real peer's first try
      CHECK(s.b->engine.pending_handshakes() == 0);
    } else {
      // At most `threshold` initiations a one-second window get past; the 8 s
      // run spans at most 9 windows.
      const std::uint64_t admitted_max = std::uint64_t{c.threshold} * 9;
      CHECK(flood_dh <= 2 * admitted_max);
      CHECK(cookies >= flood - admitted_max);
    }
  }
}

TEST_CASE("dos: a cookie reply is accepted only for our pending initiation and its mac1") {
  Pair s(2500);
  WireTap wire;
  bool cut = true;  // b hears nothing from a while the forgeries arrive
  wire.install(s.net, [&](const Endpoint& from, const Endpoint&, Datagram&) {
    return !(cut && from == s.a->address);
  });
  FakeRng rng(2500);
  const crypto::PublicKey& b_pub = s.b->key.public_key;
  s.connect();
  auto inits = wire.of_type(MessageType::initiation, s.a->address);
  REQUIRE(inits.size() == 1);
  const Datagram init0 = inits[0];

  // An on-path attacker knows b's public key (so COOKIE_KEY) and the mac1 it saw.
  session::CookieChecker forger(b_pub);
  session::CookieChecker other(key_from(9).public_key);
  const auto sealed = [&](session::CookieChecker& by, std::uint32_t index, Bytes mac1) {
    Datagram d(wire_spec::kCookieReplySize);
    REQUIRE(by.write_cookie_reply(d, index, mac1, s.a->address, s.net.now(), rng) == d.size());
    return d;
  };
  const auto mac1_of = [](const Datagram& init) {
    return Datagram(init.end() - 32, init.end() - 16);
  };
  const Datagram zeros(16, 0);
  struct Case {
    const char* name;
    Datagram reply;
    Drop drop;
  };
  const std::uint32_t index0 = initiation_sender_index(init0);
  const Case cases[] = {
      {"garbage", garbage(rng, MessageType::cookie_reply, 64), Drop::unknown_index},
      {"garbage under our index",
       [&] {
         Datagram d = garbage(rng, MessageType::cookie_reply, 64);
         put_u32(d, 4, index0);
         return d;
       }(),
       Drop::decrypt_failed},
      {"sealed over another mac1", sealed(forger, index0, zeros), Drop::decrypt_failed},
      {"sealed under another responder's key", sealed(other, index0, mac1_of(init0)),
       Drop::decrypt_failed},
      {"right seal, another index", sealed(forger, index0 ^ 0x10000, mac1_of(init0)),
       Drop::unknown_index},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const std::size_t before = s.a->count(c.drop);
    s.net.inject(s.b->address, s.a->address, c.reply);
    s.net.run_for(std::chrono::milliseconds(5));
    CHECK(s.a->count(c.drop) == before + 1);
  }
  // None of them gave a a cookie: the retransmission has no mac2.
  s.net.run_for(std::chrono::seconds(5));
  inits = wire.of_type(MessageType::initiation, s.a->address);
  REQUIRE(inits.size() == 2);
  CHECK(mac2_of(inits[1]) == session::Mac{});

  // A reply to the first attempt is refused now that it is over, and one
  // under the new index but sealed over the old mac1 too.
  const std::uint32_t index1 = initiation_sender_index(inits[1]);
  const std::size_t unknown = s.a->count(Drop::unknown_index);
  const std::size_t failed = s.a->count(Drop::decrypt_failed);
  s.net.inject(s.b->address, s.a->address, sealed(forger, index0, mac1_of(init0)));
  s.net.inject(s.b->address, s.a->address, sealed(forger, index1, mac1_of(init0)));
  s.net.run_for(std::chrono::milliseconds(5));
  CHECK(s.a->count(Drop::unknown_index) == unknown + 1);
  CHECK(s.a->count(Drop::decrypt_failed) == failed + 1);

  // Control: the same seal over the right mac1 and index is taken, and the
  // next initiation carries mac2 under that cookie. (So an on-path attacker
  // can plant a cookie; it can only spoil mac2, as in WireGuard.)
  const Datagram good = sealed(forger, index1, mac1_of(inits[1]));
  const std::size_t drops = s.a->count(Event::Kind::dropped);
  s.net.inject(s.b->address, s.a->address, good);
  s.net.run_for(std::chrono::milliseconds(5));  // a resends at once, with mac2
  CHECK(s.a->count(Event::Kind::dropped) == drops);
  inits = wire.of_type(MessageType::initiation, s.a->address);
  REQUIRE(inits.size() == 3);
  wire::CookieReply parsed;
  REQUIRE(wire::parse_cookie_reply(good, parsed) == wire::ParseStatus::ok);
  session::CookieJar jar;
  REQUIRE(jar.consume_reply(parsed, session::cookie_key(b_pub), mac1_of(inits[1]), s.net.now()));
  Datagram expected = inits[2];
  session::stamp_mac2(expected, jar.cookie(s.net.now()));
  CHECK(mac2_of(inits[2]) == mac2_of(expected));
  CHECK(mac2_of(inits[2]) != session::Mac{});

  // Once the session is up there is nothing pending: any cookie reply is refused.
  cut = false;
  s.net.run_for(std::chrono::seconds(6));
  REQUIRE(s.a->count(Event::Kind::session_confirmed) == 1);
  inits = wire.of_type(MessageType::initiation, s.a->address);
  const std::size_t unknown2 = s.a->count(Drop::unknown_index);
  s.net.inject(s.b->address, s.a->address,
               sealed(forger, initiation_sender_index(inits.back()), mac1_of(inits.back())));
  s.net.run_for(std::chrono::milliseconds(5));
  CHECK(s.a->count(Drop::unknown_index) == unknown2 + 1);
}

TEST_CASE("dos: a full pending table takes from the heaviest source, never from a newcomer") {
  // 4096 entries held by 128 sources (an attacker's, each with 32, the most a
  // source may hold): a newcomer still gets its place, at the cost of the
  // heaviest source's oldest entry, and completes its handshake.
  session::EngineConfig b_config;
  b_config.under_load_threshold = std::numeric_limits<std::uint32_t>::max();
  Pair s(2600, {}, b_config);
  FakeRng rng(2600);
  const crypto::PublicKey& b_pub = s.b->key.public_key;
  constexpr std::size_t kCap = engine_impl::kMaxPendingHandshakes;
  constexpr std::size_t kPer = engine_impl::kMaxPendingPerSource;
  const auto source = [](std::size_t i) {
    return Endpoint::ipv4({10, 9, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)},
                          1000);
  };
  for (std::size_t round = 0; round < kPer; ++round) {  // within each source's rate limit
    for (std::size_t j = 0; j < kCap / kPer; ++j)
      deliver(s.net, *s.b, source(j), spoofed_initiation(rng, b_pub));
    s.net.run_for(std::chrono::milliseconds(60));
  }
  REQUIRE(s.b->engine.pending_handshakes() == kCap);
  // One more from an attacker's source replaces that source's own oldest.
  CHECK(deliver(s.net, *s.b, source(0), spoofed_initiation(rng, b_pub)) == 2);
  CHECK(s.b->engine.pending_handshakes() == kCap);
  CHECK(s.b->engine.pending_evictions() == 1);
  s.connect();
  REQUIRE(s.a->engine.has_session(s.a_to_b));
  CHECK(s.b->count(Drop::too_many_handshakes) == 0);
  CHECK(s.b->engine.pending_evictions() == 2);
  CHECK(s.b->engine.pending_handshakes() == kCap - 1);  // a's finished; one place free now
  // Pending handshakes expire with time as before.
  s.net.run_for(engine_impl::kPendingHandshakeLifetime + std::chrono::seconds(1));
  CHECK(s.b->engine.pending_handshakes() == 0);
}

TEST_CASE("dos: 1000 flooding sources stop neither a newcomer nor an established peer's rekey") {
  // 1000 sources, each a real address the attacker receives at (so each
  // holds valid cookies: modelled by a responder never under load), each
  // within the rate limit, send initiations they never finish: 600 a second
  // from 100 s on, which fills the table of 4096 in 7 s and keeps it full,
  // until 135 s: past the established peer's rekey (at REKEY_AFTER_TIME,
  // 120 s) and the newcomer's first attempt (at 112 s).
  session::EngineConfig g_config;
  g_config.under_load_threshold = std::numeric_limits<std::uint32_t>::max();
  FakeNetwork net(2700);
  Node& g = net.add_node(address_v4(1), key_from(2701), g_config);
  Node& c = net.add_node(address_v4(2), key_from(2702));
  Node& n = net.add_node(address_v4(3), key_from(2703));
  const auto peer = [](const Node& to, const char* name, bool with_endpoint) {
    session::PeerConfig p;
    p.name = name;
    p.public_key = to.key.public_key;
    if (with_endpoint) p.endpoint = to.address;
    return p;
  };
  const session::PeerId c_to_g = c.engine.add_peer(peer(g, "g", true));
  const session::PeerId n_to_g = n.engine.add_peer(peer(g, "g", true));
  const session::PeerId g_to_c = g.engine.add_peer(peer(c, "c", false));
  const session::PeerId g_to_n = g.engine.add_peer(peer(n, "n", false));
  const Instant start = net.now();
  std::uint32_t sequence = 0;
  c.send_packet(c_to_g, make_packet(sequence++));
  net.run_for(std::chrono::seconds(1));
  REQUIRE(g.engine.has_session(g_to_c));

  FakeRng rng(2704);
  const crypto::PublicKey& g_pub = g.key.public_key;
  const auto source = [](std::size_t i) {
    return Endpoint::ipv4({10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)},
                          4000);
  };
  constexpr std::size_t kSources = 1000;
  std::size_t next = 0;
  const auto flood = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i, ++next)
      deliver(net, g, source(next % kSources), spoofed_initiation(rng, g_pub));
  };
  const Instant flood_begins = start + std::chrono::seconds(100);
  const Instant flood_ends = start + std::chrono::seconds(135);
  const Instant n_begins = start + std::chrono::seconds(112);
  std::optional<Instant> n_up, c_rekeyed;
  // c sends a packet every 250 ms throughout.
  while (net.now() < flood_ends + std::chrono::seconds(5)) {
    const Instant now = net.now();
    if (now >= flood_begins && now < flood_ends) {
      flood(6);
    }
    if (now >= n_begins && !n_up && n.count(Event::Kind::handshake_started) == 0) {
      n.send_packet(n_to_g, make_packet(1'000'000));
    }
    if ((now - start) % std::chrono::milliseconds(250) < std::chrono::milliseconds(10)) {
      c.send_packet(c_to_g, make_packet(sequence++));
    }
    net.run_for(std::chrono::milliseconds(10));
    if (!n_up && g.engine.has_session(g_to_n)) n_up = net.now();
    if (!c_rekeyed && g.engine.stats(g_to_c)->handshakes >= 2) c_rekeyed = net.now();
  }
  CHECK(next >= 600 * 34);                       // the flood was sent
  CHECK(g.engine.pending_evictions() > 10'000);  // and kept the table full
  // The newcomer: up within two retry intervals of its first attempt.
  REQUIRE(n_up.has_value());
  CHECK(*n_up - n_begins <= 2 * timer_spec::kRekeyTimeout);
  CHECK(n.count(Event::Kind::handshake_started) == 1);  // in fact on its first attempt
  // The established peer: its rekey came through during the flood, and not
  // one of its packets was lost.
  REQUIRE(c_rekeyed.has_value());
  CHECK(*c_rekeyed < flood_ends);
  CHECK(*c_rekeyed - start <= timer_spec::kRekeyAfterTime + 2 * timer_spec::kRekeyTimeout);
  CHECK(c.count(Event::Kind::handshake_started) == 2);  // the first session, then one rekey
  std::size_t from_c = 0;
  for (const Delivered& d : g.delivered)
    from_c += d.peer == g_to_c ? 1 : 0;
  CHECK(from_c == sequence);
  CHECK(g.count(Drop::too_many_handshakes) == 0);
}
