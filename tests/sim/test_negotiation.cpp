// SPDX-License-Identifier: MIT
// Suite negotiation (docs/PROTOCOL.md 5.2): the responder's pick, the retry,
// and a man in the middle who edits offers, headers and retries. Every attack
// must end in a failed handshake, never in a session on a suite the two
// policies would not have chosen.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "gw/crypto/aead.hpp"
#include "gw/session/cookie.hpp"
#include "sim/sim_helpers.hpp"

using namespace gw;
using namespace gw::test;
using session::Drop;
using session::Event;

namespace {

using Suites = std::vector<std::uint8_t>;
using Datagram = std::vector<std::uint8_t>;

session::EngineConfig policy(Suites suites) {
  session::EngineConfig c;
  c.suites = std::move(suites);
  return c;
}

bool is_initiation(const Datagram& d) {
  return !d.empty() && d[0] == static_cast<std::uint8_t>(wire::MessageType::initiation);
}
bool retried(const Datagram& d) {
  return is_initiation(d) && (d[1] & wire_spec::kFlagRetried) != 0;
}
// Where the offer starts in a plain (non-PSK) initiation.
std::size_t offer_at(const Datagram& d) {
  return initiation_ephemeral_offset(d) + 32;
}
// Rewrites the offer of a plain initiation: version, count, then the ids.
void write_offer(Datagram& d, std::uint8_t count, const Suites& ids) {
  const std::size_t at = offer_at(d);
  d[at + 1] = count;
  for (std::size_t i = 0; i < wire_spec::kMaxOfferedSuites; ++i)
    d[at + 2 + i] = i < ids.size() ? ids[i] : std::uint8_t{0};
}

void share_psk(Pair& s, std::uint8_t fill) {
  Psk psk{};
  psk.fill(fill);
  set_psks(s, psk, psk);
}

// No session and no completed handshake on either side.
void check_no_session(const Pair& s) {
  CHECK_FALSE(s.a->engine.has_session(s.a_to_b));
  CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
  CHECK(s.a->count(Event::Kind::handshake_complete) == 0);
  CHECK(s.b->count(Event::Kind::handshake_complete) == 0);
  CHECK(s.b->delivered.empty());
}

constexpr auto kType = [](wire::MessageType t) { return static_cast<std::uint8_t>(t); };
using wire::MessageType;

}  // namespace

TEST_CASE("negotiation: the responder's policy picks the suite, with one retry when needed") {
  struct Case {
    const char* name;
    Suites a, b;  // policies (empty: the default)
    std::uint8_t suite;
    bool retry;
    bool needs_aes = false;
  };
  const Case cases[] = {
      {"same (default) policy", {}, {}, 1, false},
      {"same explicit policy", {1, 3}, {1, 3}, 1, false},
      {"responder prefers 3", {1, 3}, {3, 1}, 3, true},
      {"responder prefers 1", {3, 1}, {1, 3}, 1, true},
      {"responder runs only 3", {1, 3}, {3}, 3, true},
      {"initiator runs only 3", {3}, {1, 3}, 3, false},
      {"responder prefers AESGCM", {1, 2}, {2, 1}, 2, true, true},
      {"initiator prefers AESGCM, responder ChaChaPoly", {2, 1, 3}, {3, 2}, 3, true, true},
      {"both prefer AESGCM", {2, 1}, {2, 1}, 2, false, true},
  };
  std::uint64_t seed = 10;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    if (c.needs_aes && !crypto::aes256gcm_available()) {
      MESSAGE("AES-256-GCM not available on this CPU: skipped ", c.name);
      continue;
    }
    Pair s(++seed, policy(c.a), policy(c.b));
    WireTap wire;
    wire.install(s.net);
    s.connect();

    REQUIRE(s.a->engine.has_session(s.a_to_b));
    REQUIRE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
    CHECK(s.a->engine.stats(s.a_to_b)->suite == c.suite);
    CHECK(s.b->engine.stats(s.b_to_a)->suite == c.suite);
    CHECK(s.a->engine.stats(s.a_to_b)->handshakes == 1);
    CHECK(s.b->delivered.size() == 1);  // the staged packet went through on that suite

    CHECK(s.b->count(Event::Kind::retry_sent) == (c.retry ? 1U : 0U));
    CHECK(wire.count(MessageType::retry, s.b->address) == (c.retry ? 1U : 0U));
    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    REQUIRE(inits.size() == (c.retry ? 2U : 1U));
    CHECK_FALSE(retried(inits[0]));
    CHECK(inits[0][2] == (c.a.empty() ? 1 : c.a.front()));  // the first attempt: our first choice
    if (c.retry) {
      CHECK(retried(inits[1]));
      CHECK(inits[1][2] == c.suite);
      CHECK(inits[1].size() == wire::initiation_size(wire_spec::kFlagRetried));
      // The second attempt carries a fresh ephemeral key and sender index.
      CHECK(initiation_ephemeral(inits[0]) != initiation_ephemeral(inits[1]));
      CHECK(initiation_sender_index(inits[0]) != initiation_sender_index(inits[1]));
      // ... and the first attempt's hash, as the responder's retry tag covers it.
      const auto h = session::first_hash(inits[0]);
      CHECK(std::equal(h.begin(), h.end(), inits[1].begin() + 8));
    }
    for (const Event& e : s.a->events) {
      if (e.kind == Event::Kind::handshake_complete) CHECK(e.suite == c.suite);
    }
    // No drops at all on the way.
    CHECK(s.a->count(Event::Kind::dropped) == 0);
    CHECK(s.b->count(Event::Kind::dropped) == 0);
  }
}

TEST_CASE("negotiation: with the PSK the retry works the same (XXpsk3 on suite 3)") {
  Pair s(40, policy({1, 3}), policy({3, 1}));
  share_psk(s, 0x5a);
  WireTap wire;
  wire.install(s.net);
  s.connect();
  REQUIRE(s.a->engine.has_session(s.a_to_b));
  REQUIRE(s.b->engine.has_session(s.b_to_a));
  CHECK(s.a->engine.stats(s.a_to_b)->suite == 3);
  CHECK(s.b->engine.stats(s.b_to_a)->suite == 3);
  CHECK(s.b->count(Event::Kind::retry_sent) == 1);
  const auto inits = wire.of_type(MessageType::initiation, s.a->address);
  REQUIRE(inits.size() == 2);
  CHECK(inits[1][1] == (wire_spec::kFlagPsk | wire_spec::kFlagRetried));
  CHECK(inits[1].size() == 144);
}

TEST_CASE("negotiation: no common suite ends the handshake at the responder, silently") {
  struct Case {
    Suites a, b;
  };
  const Case cases[] = {{{1}, {3}}, {{3}, {1}}, {{1, 3}, {2}}};
  std::uint64_t seed = 50;
  for (const Case& c : cases) {
    Pair s(++seed, policy(c.a), policy(c.b));
    WireTap wire;
    wire.install(s.net);
    s.connect();
    s.net.run_for(std::chrono::seconds(12));  // and the retransmissions
    CAPTURE(c.a.front());
    check_no_session(s);
    CHECK(s.b->count(Drop::no_common_suite) >= 2);
    CHECK(s.b->count(Drop::no_common_suite) ==
          wire.of_type(MessageType::initiation, s.a->address).size());
    CHECK(s.b->engine.pending_handshakes() == 0);
    // No reply of any kind: an unauthenticated error would only help an attacker.
    CHECK(wire.count_from(s.b->address) == 0);
  }
}

TEST_CASE("negotiation: forged initiations: unknown ids are ignored, an unknown suite is retried") {
  // Built from public values only; b's answer shows how it negotiated.
  struct Case {
    const char* name;
    std::uint8_t suite;
    Suites offer;
    std::uint8_t answer_type;  // 0: none
    std::uint8_t retry_suite;  // with a retry
    std::optional<Drop> drop;
  };
  const Case cases[] = {
      {"unknown ids around a known one", 1, {9, 1, 200}, kType(wire::MessageType::response), 0, {}},
      {"an unknown suite in the header", 9, {9, 3}, kType(wire::MessageType::retry), 3, {}},
      {"offer without the header's suite", 1, {3}, 0, 0, Drop::bad_payload},
      {"a suite offered twice", 1, {1, 1}, 0, 0, Drop::bad_payload},
      {"nothing known offered", 9, {9, 10}, 0, 0, Drop::no_common_suite},
  };
  std::uint64_t seed = 60;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed, policy({3, 1}), policy({1, 3}));
    WireTap wire;
    wire.install(s.net);
    FakeRng rng(seed);
    const auto e = crypto::KeyPair::generate(rng);
    const auto init =
        forge_initiation(s.b->key.public_key, e.public_key, 0x01020304, c.suite, c.offer);
    s.net.inject(s.a->address, s.b->address, init);
    s.net.run_for(std::chrono::milliseconds(10));
    if (c.answer_type == 0) {
      CHECK(wire.sent.empty());
    } else {
      REQUIRE(wire.sent.size() == 1);
      const Datagram& answer = wire.sent[0].bytes;
      CHECK(answer[0] == c.answer_type);
      if (c.answer_type == kType(wire::MessageType::retry)) {
        CHECK(answer[1] == c.retry_suite);
        CHECK(session::mac1_valid(answer, session::mac1_key(e.public_key), false));
      }
    }
    if (c.drop) CHECK(s.b->count(*c.drop) == 1);
    if (!c.drop) CHECK(s.b->count(Event::Kind::dropped) == 0);
  }
}

TEST_CASE("negotiation: a man in the middle who edits the initiation gets no session") {
  using Edit = std::function<void(Pair&, Datagram&)>;
  struct Case {
    const char* name;
    Suites a, b;
    bool psk;
    Edit edit;
    bool restamp;  // recompute mac1 (the responder's key is public)
    bool at_b;     // where the failure shows
    Drop drop;
  };
  const Case cases[] = {
      {"remove a suite from the offer",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) { write_offer(d, 1, {1}); },
       true,
       false,
       Drop::decrypt_failed},
      {"reorder the offer",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) {
         write_offer(d, 2, {3, 1});
       },
       true,
       false,
       Drop::decrypt_failed},
      {"add a suite to the offer",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) {
         write_offer(d, 3, {1, 3, 9});
       },
       true,
       false,
       Drop::decrypt_failed},
      {"lower the count",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) { d[offer_at(d) + 1] = 1; },
       true,
       true,
       Drop::bad_payload},
      {"raise the count",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) { d[offer_at(d) + 1] = 3; },
       true,
       true,
       Drop::bad_payload},
      {"change the header suite (responder then retries the real one)",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) { d[2] = 3; },
       true,
       false,
       Drop::bad_retry},
      {"change the header suite to the responder's pick",
       {1, 3},
       {3, 1},
       false,
       [](Pair&, Datagram& d) { d[2] = 3; },
       true,
       false,
       Drop::decrypt_failed},
      {"edit the offer without mac1",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) { write_offer(d, 1, {1}); },
       false,
       true,
       Drop::bad_mac1},
      {"set the PSK flag",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) { d[1] |= wire_spec::kFlagPsk; },
       true,
       true,
       Drop::malformed},
      {"set the PSK flag and pad to the PSK size",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) {
         d[1] |= wire_spec::kFlagPsk;
         d.insert(d.begin() + static_cast<std::ptrdiff_t>(offer_at(d) + 8), 16, 0xee);
       },
       true,
       true,
       Drop::decrypt_failed},
      {"claim a second attempt (RETRIED)",
       {1, 3},
       {1, 3},
       false,
       [](Pair&, Datagram& d) {
         d[1] |= wire_spec::kFlagRetried;
         d.insert(d.begin() + 8, wire_spec::kRetryBlockSize, 0x11);
       },
       true,
       true,
       Drop::bad_retry},
      {"clear the PSK flag",
       {1, 3},
       {1, 3},
       true,
       [](Pair&, Datagram& d) { d[1] = 0; },
       true,
       true,
       Drop::malformed},
      {"strip the PSK: re-encode as a plain initiation",
       {1, 3},
       {1, 3},
       true,
       [](Pair& s, Datagram& d) {
         d = forge_initiation(s.b->key.public_key, initiation_ephemeral(d),
                              initiation_sender_index(d), d[2], {1, 3});
       },
       true,
       false,
       Drop::decrypt_failed},
  };
  std::uint64_t seed = 100;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed, policy(c.a), policy(c.b));
    if (c.psk) share_psk(s, 0x77);
    WireTap wire;
    std::size_t edits = 0;
    wire.install(s.net, [&](const Endpoint& from, const Endpoint&, Datagram& d) {
      if (from == s.a->address && is_initiation(d)) {
        c.edit(s, d);
        if (c.restamp) restamp_initiation(d, s.b->key.public_key);
        ++edits;
      }
      return true;
    });
    s.connect();
    s.net.run_for(std::chrono::seconds(12));  // the retransmissions are edited too
    CHECK(edits >= 3);
    check_no_session(s);
    const Node& where = c.at_b ? *s.b : *s.a;
    CHECK(where.count(c.drop) >= 1);
    // a never sent its identity: no finish on the wire.
    CHECK(wire.count(MessageType::finish, s.a->address) == 0);
  }
}

TEST_CASE("negotiation: removing the responder's preferred suite never yields the weaker one") {
  // a offers {1, 3}; b prefers 3. Whatever the middle does, no session runs 1.
  // `first` is a's latest initiation as it was sent (a retry's mac1 key).
  using Attack =
      std::function<void(const Pair&, const Endpoint& from, Datagram& d, const Datagram& first)>;
  const auto from_a = [](const Pair& s, const Endpoint& from, const Datagram& d) {
    return from == s.a->address && is_initiation(d);
  };
  struct Case {
    const char* name;
    Attack attack;
    bool at_b;
    Drop drop;
  };
  const Case cases[] = {
      {"3 removed from the first offer: b answers on 1, a refuses the response",
       [&](const Pair& s, const Endpoint& from, Datagram& d, const Datagram&) {
         if (from_a(s, from, d) && !retried(d)) write_offer(d, 1, {1});
       },
       false, Drop::decrypt_failed},
      {"3 removed from the second offer, suite 3 kept",
       [&](const Pair& s, const Endpoint& from, Datagram& d, const Datagram&) {
         if (from_a(s, from, d) && retried(d)) write_offer(d, 1, {1});
       },
       true, Drop::bad_payload},
      {"second attempt moved to suite 1 with the offer {1}",
       [&](const Pair& s, const Endpoint& from, Datagram& d, const Datagram&) {
         if (from_a(s, from, d) && retried(d)) {
           d[2] = 1;
           write_offer(d, 1, {1});
         }
       },
       true, Drop::bad_retry},
      {"second attempt moved to suite 1, offer kept",
       [&](const Pair& s, const Endpoint& from, Datagram& d, const Datagram&) {
         if (from_a(s, from, d) && retried(d)) d[2] = 1;
       },
       true, Drop::negotiation_failed},
      {"second attempt's first_hash altered",
       [&](const Pair& s, const Endpoint& from, Datagram& d, const Datagram&) {
         if (from_a(s, from, d) && retried(d)) d[8] ^= 0x01;
       },
       true, Drop::bad_retry},
      {"the retry rewritten to name suite 1 (mac1 restamped)",
       [](const Pair& s, const Endpoint& from, Datagram& d, const Datagram& first) {
         if (from == s.b->address && d[0] == kType(wire::MessageType::retry)) {
           d[1] = 1;
           session::stamp_mac1(d, session::mac1_key(initiation_ephemeral(first)), false);
         }
       },
       false, Drop::bad_retry},
  };
  std::uint64_t seed = 200;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed, policy({1, 3}), policy({3, 1}));
    WireTap wire;
    Datagram last;
    wire.install(s.net, [&](const Endpoint& from, const Endpoint&, Datagram& d) {
      if (from_a(s, from, d)) last = d;
      const Datagram before = d;
      c.attack(s, from, d, last);
      if (is_initiation(d) && d != before) restamp_initiation(d, s.b->key.public_key);
      return true;
    });
    s.connect();
    s.net.run_for(std::chrono::seconds(12));
    check_no_session(s);
    for (const Node* n : {s.a, s.b}) {
      for (const Event& e : n->events)
        CHECK_FALSE((e.kind == Event::Kind::handshake_complete && e.suite == 1));
    }
    const Node& where = c.at_b ? *s.b : *s.a;
    CHECK(where.count(c.drop) >= 2);  // every attempt (with retransmissions) fails
  }
}

TEST_CASE("negotiation: a forged retry leads to a failed second attempt, never a session") {
  // The middle drops every first attempt and answers it with a retry of its
  // own: a valid mac1 (a's ephemeral key is on the wire) and a garbage tag.
  struct Case {
    const char* name;
    Suites b;
    Drop at_b;
  };
  const Case cases[] = {
      {"retry where b would retry too (the tag is wrong)", {3, 1}, Drop::bad_retry},
      {"retry where none was needed (b accepts suite 1)", {1, 3}, Drop::negotiation_failed},
  };
  std::uint64_t seed = 300;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed, policy({1, 3}), policy(c.b));
    WireTap wire;
    session::Mac garbage{};
    garbage.fill(0xab);
    wire.install(s.net, [&](const Endpoint& from, const Endpoint& to, Datagram& d) {
      if (from == s.a->address && is_initiation(d) && !retried(d)) {
        s.net.inject(to, from, forge_retry(d, 3, garbage));
        return false;
      }
      return true;
    });
    s.connect();
    s.net.run_for(std::chrono::seconds(12));
    check_no_session(s);
    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    const auto second = std::count_if(inits.begin(), inits.end(), retried);
    CHECK(second >= 3);  // a followed each forged retry ...
    CHECK(s.b->count(c.at_b) == static_cast<std::size_t>(second));  // ... and b refused each
    CHECK(s.b->count(Event::Kind::retry_sent) == 0);
    CHECK(s.b->engine.pending_handshakes() == 0);
  }
}

TEST_CASE("negotiation: the initiator refuses retries that do not fit its handshake") {
  // The genuine exchange continues undisturbed: each bad retry is dropped and
  // the session still comes up on suite 1 in the first attempt.
  struct Case {
    const char* name;
    std::function<Datagram(const Pair&, const Datagram& init)> forge;
    Drop drop;
  };
  session::Mac tag{};
  tag.fill(0x42);
  const Case cases[] = {
      {"names a suite not offered",
       [&](const Pair&, const Datagram& i) { return forge_retry(i, 2, tag); }, Drop::bad_retry},
      {"names the suite of the attempt",
       [&](const Pair&, const Datagram& i) { return forge_retry(i, 1, tag); }, Drop::bad_retry},
      {"names an unknown suite",
       [&](const Pair&, const Datagram& i) { return forge_retry(i, 77, tag); }, Drop::bad_retry},
      {"mac1 keyed with the responder's static key",
       [&](const Pair& s, const Datagram& i) {
         auto r = forge_retry(i, 3, tag);
         session::stamp_mac1(r, session::mac1_key(s.b->key.public_key), false);
         return r;
       },
       Drop::bad_mac1},
      {"another receiver index",
       [&](const Pair&, const Datagram& i) {
         auto copy = i;
         copy[4] ^= 0x80;
         return forge_retry(copy, 3, tag);
       },
       Drop::unknown_index},
  };
  std::uint64_t seed = 400;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed, policy({1, 3}), policy({1, 3}));  // a offers 1 (and 3, not 2)
    WireTap wire;
    wire.install(s.net, [&](const Endpoint& from, const Endpoint& to, Datagram& d) {
      if (from == s.a->address && is_initiation(d)) s.net.inject(to, from, c.forge(s, d));
      return true;
    });
    s.connect();
    CHECK(s.a->count(c.drop) == 1);
    REQUIRE(s.a->engine.has_session(s.a_to_b));
    CHECK(s.a->engine.stats(s.a_to_b)->suite == 1);
    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    CHECK(inits.size() == 1);
  }
}

TEST_CASE("negotiation: a second retry in one handshake is refused") {
  Pair s(500, policy({1, 3}), policy({3, 1}));
  WireTap wire;
  bool attacked = false;
  session::Mac tag{};
  tag.fill(0x24);
  wire.install(s.net, [&](const Endpoint& from, const Endpoint& to, Datagram& d) {
    if (!attacked && from == s.a->address && retried(d)) {
      attacked = true;  // drop the second attempt and retry it once more
      s.net.inject(to, from, forge_retry(d, 1, tag));
      return false;
    }
    return true;
  });
  s.connect();
  CHECK(attacked);
  CHECK(s.b->count(Event::Kind::retry_sent) == 1);
  CHECK(s.a->count(Drop::bad_retry) == 1);
  auto inits = wire.of_type(MessageType::initiation, s.a->address);
  CHECK(std::count_if(inits.begin(), inits.end(), retried) == 1);  // no third attempt
  CHECK_FALSE(s.a->engine.has_session(s.a_to_b));

  // The retransmission timer starts over (a fresh first attempt), and without
  // the middle the handshake completes on b's pick.
  s.net.run_for(std::chrono::seconds(6));
  REQUIRE(s.a->engine.has_session(s.a_to_b));
  CHECK(s.a->engine.stats(s.a_to_b)->suite == 3);
  CHECK(s.b->engine.stats(s.b_to_a)->suite == 3);
  inits = wire.of_type(MessageType::initiation, s.a->address);
  CHECK(inits.size() == 4);
}

TEST_CASE("negotiation: an unsupported offer version is reported and not answered") {
  for (const std::uint8_t version : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{255}}) {
    CAPTURE(static_cast<int>(version));
    Pair s(600 + version);
    WireTap wire;
    wire.install(s.net, [&](const Endpoint& from, const Endpoint&, Datagram& d) {
      if (from == s.a->address && is_initiation(d)) {
        d[offer_at(d)] = version;
        restamp_initiation(d, s.b->key.public_key);
      }
      return true;
    });
    s.connect();
    check_no_session(s);
    REQUIRE(s.b->count(Drop::unsupported_version) == 1);
    for (const Event& e : s.b->events) {
      if (e.kind == Event::Kind::dropped && e.drop == Drop::unsupported_version) {
        CHECK(e.version == version);
        CHECK(e.from == s.a->address);
      }
    }
    CHECK(wire.sent.size() == 1);  // the initiation, and no answer
    CHECK(s.b->engine.pending_handshakes() == 0);
  }
}

TEST_CASE("negotiation: a policy with nothing runnable, or with repeats") {
  SUBCASE("only unknown ids: no initiation, a reported drop") {
    Pair s(700, policy({77, 78}), {});
    WireTap wire;
    wire.install(s.net);
    s.connect();
    s.net.run_for(std::chrono::seconds(12));
    CHECK(wire.count_from(s.a->address) == 0);
    CHECK(s.a->count(Drop::no_common_suite) >= 1);
    CHECK_FALSE(s.a->engine.has_session(s.a_to_b));
  }
  SUBCASE("repeats are offered once") {
    Pair s(701, policy({3, 3, 1, 3}), policy({1, 1, 3}));
    WireTap wire;
    wire.install(s.net);
    s.connect();
    REQUIRE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.a->engine.stats(s.a_to_b)->suite == 1);
    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    REQUIRE(!inits.empty());
    CHECK(inits.back()[offer_at(inits.back()) + 1] == 2);  // count: {3, 1}
  }
}

TEST_CASE("negotiation: forged retries from an injector who cannot drop end no handshake") {
  // The injector sees every first attempt and answers it at once, before the
  // responder can, with forged retries: a valid mac1 (a's ephemeral key is on
  // the wire) and garbage tags. It drops nothing, so the genuine answer, a
  // response or a retry, arrives too, and the first attempt still takes it.
  struct Case {
    const char* name;
    Suites b;
    int forged;           // forged retries per first attempt
    std::uint8_t suite;   // the session's
    std::size_t retries;  // genuine retries b sent
  };
  const Case cases[] = {
      {"the policies agree: the genuine response still completes", {1, 3}, 1, 1, 0},
      {"ten forged retries: the genuine response still completes", {1, 3}, 10, 1, 0},
      {"b retries too: the genuine retry is followed after the forged one", {3, 1}, 1, 3, 1},
  };
  std::uint64_t seed = 700;
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Pair s(++seed, policy({1, 3}), policy(c.b));
    WireTap wire;
    int tag_byte = 0;
    wire.install(s.net, [&](const Endpoint& from, const Endpoint& to, Datagram& d) {
      if (from == s.a->address && is_initiation(d) && !retried(d)) {
        for (int i = 0; i < c.forged; ++i) {
          session::Mac garbage{};
          garbage.fill(static_cast<std::uint8_t>(++tag_byte));
          s.net.inject(to, from, forge_retry(d, 3, garbage));
        }
      }
      return true;  // delivered as well: the injector cannot drop
    });
    s.connect();
    REQUIRE(s.a->engine.has_session(s.a_to_b));
    REQUIRE(s.b->engine.has_session(s.b_to_a));
    CHECK(s.a->engine.stats(s.a_to_b)->suite == c.suite);
    CHECK(s.b->engine.stats(s.b_to_a)->suite == c.suite);
    CHECK(s.a->count(Event::Kind::handshake_started) >= 2);  // it followed the forged retry
    // ... whose second attempt b refused: its tag, or its suite, is not b's.
    CHECK(s.b->count(Drop::bad_retry) + s.b->count(Drop::negotiation_failed) >= 1);
    CHECK(s.b->count(Event::Kind::retry_sent) == c.retries);
    REQUIRE(s.b->delivered.size() == 1);
    // No retransmission was needed: it all happened in the first round.
    const auto inits = wire.of_type(MessageType::initiation, s.a->address);
    CHECK(std::count_if(inits.begin(), inits.end(),
                        [](const Datagram& d) { return !retried(d); }) == 1);
  }
}

TEST_CASE("negotiation: with a PSK, a responder that cannot run the first choice still converges") {
  // a prefers AES-GCM; b has no AES hardware, so it cannot decrypt a's PSK
  // initiation, whose offer is encrypted under AES-GCM. It answers with a
  // retry for each suite of its policy; a follows those it offered, and the
  // second attempt on b's pick from a's offer (now readable) is answered.
  if (!crypto::aes256gcm_available()) {
    MESSAGE("AES-256-GCM not available on this CPU: an initiator cannot prefer it; skipped");
    return;
  }
  struct Case {
    const char* name;
    Suites a, b;
    std::uint8_t suite;
    std::size_t refused_at_a;  // retries naming a suite a did not offer
    std::size_t refused_at_b;  // second attempts on another suite than b's pick
  };
  const Case cases[] = {
      {"a offers 2, 1: b's default policy (1, 3) gives 1", {2, 1}, {}, 1, 1, 0},
      {"a offers 2, 3: b's default (1, 3) gives 3", {2, 3}, {}, 3, 1, 0},
      {"a offers 2, 1, 3: b's policy 3, 1 gives 3", {2, 1, 3}, {3, 1}, 3, 0, 1},
  };
  std::uint64_t seed = 800;
  for (const bool psk : {true, false}) {
    for (const Case& c : cases) {
      const std::string name = c.name;
      CAPTURE(name);
      CAPTURE(psk);
      session::EngineConfig b_config = policy(c.b);
      b_config.aes_hardware = false;
      Pair s(++seed, policy(c.a), b_config);
      if (psk) share_psk(s, 0x77);
      s.connect();
      REQUIRE(s.a->engine.has_session(s.a_to_b));
      REQUIRE(s.b->engine.has_session(s.b_to_a));
      CHECK(s.a->engine.stats(s.a_to_b)->suite == c.suite);
      CHECK(s.b->engine.stats(s.b_to_a)->suite == c.suite);
      REQUIRE(s.b->delivered.size() == 1);
      CHECK(s.b->count(Drop::no_common_suite) == 0);
      if (psk) {
        CHECK(s.a->count(Drop::bad_retry) == c.refused_at_a);
        CHECK(s.b->count(Drop::negotiation_failed) == c.refused_at_b);
      } else {
        CHECK(s.b->count(Event::Kind::retry_sent) == 1);  // b read the offer: one retry
      }
    }
  }
}

TEST_CASE("negotiation: with a PSK and no suite in common, the handshake ends without a session") {
  {
    Pair s(850, policy({1}), policy({3}));
    share_psk(s, 0x78);
    s.connect();
    check_no_session(s);
    // b runs suite 1, so it reads the offer and finds nothing it may pick.
    CHECK(s.b->count(Drop::no_common_suite) >= 1);
    CHECK(s.b->count(Event::Kind::retry_sent) == 0);
  }
  if (crypto::aes256gcm_available()) {
    // b cannot read the offer (AES-GCM, which it does not run): its retries
    // name 1 and 3, which a never offered, and a refuses both.
    session::EngineConfig b_config;
    b_config.aes_hardware = false;
    Pair s(851, policy({2}), b_config);
    share_psk(s, 0x79);
    s.connect();
    check_no_session(s);
    CHECK(s.b->count(Event::Kind::retry_sent) == 2);
    CHECK(s.a->count(Drop::bad_retry) == 2);
    const std::size_t attempts = s.a->count(Event::Kind::handshake_started);
    CHECK(attempts == 1);  // no second attempt on a suite a does not offer
  }
}
