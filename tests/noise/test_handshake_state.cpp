// SPDX-License-Identifier: MIT
// HandshakeState (src/noise/handshake_state.cpp): full handshakes for every
// pattern, and every failure path of the public API.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gw/constants.hpp"
#include "gw/crypto/hash.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/noise/transport_state.hpp"
#include "support/fake_rng.hpp"
#include "support/noise_printers.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::MutBytes;
using gw::crypto::KeyPair;
using gw::crypto::PublicKey;
using gw::noise::all_patterns;
using gw::noise::Error;
using gw::noise::HandshakeState;
using gw::noise::Protocol;
using gw::noise::Role;
using gw::noise::Token;
using gw::noise::TransportState;
using gw::test::array_from_hex;
using gw::test::as_bytes;
using gw::test::counting_bytes;
using gw::test::FakeRng;
using gw::test::to_hex;
using Action = gw::noise::HandshakeState::Action;

namespace {

using Buf = std::vector<std::uint8_t>;
constexpr std::size_t kMaxMsg = gw::noise_spec::kMaxMessageLen;

Protocol protocol(const std::string& name) {
  return gw::test::parsed_protocol(name);
}

std::vector<std::string> suites() {
  std::vector<std::string> out;
  std::vector<std::string> ciphers{"ChaChaPoly"};
  if (gw::crypto::aes256gcm_available()) ciphers.push_back("AESGCM");
  for (const auto& c : ciphers) {
    for (const char* h : {"BLAKE2b", "SHA256", "SHA512"})
      out.push_back("25519_" + c + "_" + h);
  }
  return out;
}

Buf default_psk(std::size_t index) {
  return counting_bytes(32, static_cast<std::uint8_t>(0x10 * (index + 1)));
}

// Two handshake states (initiator and responder) with their own Rngs and
// static keys. Not copyable: each HandshakeState points at its Rng.
struct Session {
  Protocol protocol;
  FakeRng key_rng;
  KeyPair s_i, s_r;
  FakeRng rng_i, rng_r;
  HandshakeState i, r;

  explicit Session(const std::string& name, std::uint64_t seed = 1)
      : protocol(::protocol(name)),
        key_rng(seed + 1000),
        s_i(KeyPair::generate(key_rng)),
        s_r(KeyPair::generate(key_rng)),
        rng_i(seed),
        rng_r(seed + 500),
        i(protocol, Role::initiator, rng_i),
        r(protocol, Role::responder, rng_r) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  HandshakeState& side(Role role) { return role == Role::initiator ? i : r; }
  // The side that writes the next message (call before writing it).
  HandshakeState& writer() {
    REQUIRE((i.action() == Action::write_message || r.action() == Action::write_message));
    return i.action() == Action::write_message ? i : r;
  }
  // The side that reads the next message, before or after it is written: the
  // reading side that is behind.
  HandshakeState& reader() {
    const bool i_reads = i.action() == Action::read_message;
    const bool r_reads = r.action() == Action::read_message;
    REQUIRE((i_reads || r_reads));
    if (i_reads && r_reads) return i.message_index() < r.message_index() ? i : r;
    return i_reads ? i : r;
  }
};

struct Config {
  std::optional<Buf> prologue_i, prologue_r;
  std::vector<Buf> psks_i, psks_r;  // empty: default_psk(0..psk_count-1)
};

// Gives each side what the pattern needs, then starts both.
void configure(HandshakeState& hs, const Protocol& p, Role role, const KeyPair& own,
               const KeyPair& peer, const std::optional<Buf>& prologue, std::vector<Buf> psks) {
  if (prologue) REQUIRE(hs.set_prologue(*prologue) == Error::ok);
  if (p.needs_local_static(role)) REQUIRE(hs.set_local_static(own) == Error::ok);
  if (p.needs_remote_static(role)) REQUIRE(hs.set_remote_static(peer.public_key) == Error::ok);
  if (psks.empty()) {
    for (std::size_t k = 0; k < p.psk_count; ++k)
      psks.push_back(default_psk(k));
  }
  for (const Buf& psk : psks)
    REQUIRE(hs.add_psk(psk) == Error::ok);
  REQUIRE(hs.action() == Action::setup);
  REQUIRE(hs.start() == Error::ok);
}

void start(Session& s, const Config& c = {}) {
  configure(s.i, s.protocol, Role::initiator, s.s_i, s.s_r, c.prologue_i, c.psks_i);
  configure(s.r, s.protocol, Role::responder, s.s_r, s.s_i, c.prologue_r, c.psks_r);
  CHECK(s.i.action() == Action::write_message);
  CHECK(s.r.action() == Action::read_message);
}

// Writes the next message with `payload`, checking next_message_size.
Buf write(HandshakeState& hs, Bytes payload) {
  REQUIRE(hs.action() == Action::write_message);
  const std::size_t expected = hs.next_message_size(payload.size());
  Buf out(expected + 7, 0xee);  // some slack: written must still be exact
  std::size_t written = 99;
  REQUIRE(hs.write_message(payload, out, written) == Error::ok);
  CHECK(written == expected);
  out.resize(written);
  return out;
}

Error try_read(HandshakeState& hs, Bytes msg, Buf* payload = nullptr) {
  Buf out(msg.size() + 1);
  std::size_t written = 0;
  const Error err = hs.read_message(msg, out, written);
  if (err == Error::ok) {
    out.resize(written);
    if (payload != nullptr) *payload = out;
  } else {
    CHECK(written == 0);
  }
  return err;
}

Buf read(HandshakeState& hs, Bytes msg) {
  REQUIRE(hs.action() == Action::read_message);
  Buf payload;
  REQUIRE(try_read(hs, msg, &payload) == Error::ok);
  return payload;
}

// A payload for message `index` of a run: different sizes, recognisable bytes.
Buf payload_for(std::size_t index) {
  static const std::size_t sizes[] = {0, 1, 17, 100, 5, 64};
  return counting_bytes(sizes[index % 6], static_cast<std::uint8_t>(0xa0 + index));
}

// Runs every remaining message, checking payloads arrive intact. Returns them.
std::vector<Buf> run(Session& s, bool with_payloads = true) {
  const std::size_t first = s.i.message_index();
  std::vector<Buf> messages;
  while (s.i.action() == Action::write_message || s.i.action() == Action::read_message) {
    const std::size_t index = s.i.message_index();
    CAPTURE(index);
    REQUIRE(s.r.message_index() == index);
    HandshakeState& w = s.writer();
    HandshakeState& rd = s.reader();
    CHECK(rd.action() == Action::read_message);
    CHECK(rd.next_message_size(10) == 0);
    const Buf payload = with_payloads ? payload_for(index) : Buf{};
    const Buf msg = write(w, payload);
    CHECK(read(rd, msg) == payload);
    messages.push_back(msg);
  }
  CHECK(s.i.action() == Action::split);
  CHECK(s.r.action() == Action::split);
  CHECK(first + messages.size() == s.protocol.pattern.message_count);
  return messages;
}

// Splits both sides and checks that transport messages flow as the pattern allows.
std::pair<TransportState, TransportState> finish(Session& s) {
  const Buf hash_i(s.i.handshake_hash().begin(), s.i.handshake_hash().end());
  const Buf hash_r(s.r.handshake_hash().begin(), s.r.handshake_hash().end());
  CHECK(to_hex(hash_i) == to_hex(hash_r));
  CHECK(hash_i.size() == gw::crypto::hash_len(s.protocol.hash));

  TransportState ti, tr;
  REQUIRE(s.i.split(ti) == Error::ok);
  REQUIRE(s.r.split(tr) == Error::ok);
  CHECK(s.i.action() == Action::finished);
  CHECK(s.r.action() == Action::finished);
  CHECK(to_hex(ti.handshake_hash()) == to_hex(hash_i));
  CHECK(to_hex(tr.handshake_hash()) == to_hex(hash_r));

  auto send = [](gw::noise::CipherState& from, gw::noise::CipherState& to, Bytes msg) {
    Buf ct(msg.size() + 16), pt(msg.size());
    std::size_t written = 0;
    REQUIRE(from.encrypt_with_ad({}, msg, ct, written) == Error::ok);
    REQUIRE(to.decrypt_with_ad({}, ct, pt, written) == Error::ok);
    CHECK(std::equal(pt.begin(), pt.end(), msg.begin()));
  };
  for (int k = 0; k < 3; ++k)
    send(ti.send, tr.receive, as_bytes("initiator to responder"));
  CHECK(ti.send.nonce() == 3);
  if (s.protocol.pattern.one_way) {
    CHECK_FALSE(tr.send.usable());
    CHECK_FALSE(ti.receive.usable());
    Buf ct(32);
    std::size_t written = 0;
    CHECK(tr.send.encrypt_with_ad({}, as_bytes("no"), ct, written) == Error::wrong_state);
    CHECK(ti.receive.decrypt_with_ad({}, ct, ct, written) == Error::wrong_state);
  } else {
    for (int k = 0; k < 2; ++k)
      send(tr.send, ti.receive, as_bytes("responder to initiator"));
    // The two directions use different keys.
    Buf ct(20), pt(4);
    std::size_t written = 0;
    REQUIRE(ti.send.encrypt_with_ad({}, as_bytes("loop"), ct, written) == Error::ok);
    CHECK(ti.receive.decrypt_at(3, {}, ct, pt, written) == Error::decrypt_failed);
  }
  return {std::move(ti), std::move(tr)};
}

// Does `haystack` contain `needle`?
bool contains(const Buf& haystack, Bytes needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

std::size_t dh_tokens(const gw::noise::HandshakePattern& p) {
  std::size_t n = 0;
  for (std::size_t m = 0; m < p.message_count; ++m) {
    for (const Token t : p.messages[m].view()) {
      if (t == Token::ee || t == Token::es || t == Token::se || t == Token::ss) ++n;
    }
  }
  return n;
}

// Snapshot of what a failed read must not change.
struct Snapshot {
  Action action;
  std::size_t index;
  std::string hash;
  std::optional<PublicKey> re, rs;
};
Snapshot snapshot(const HandshakeState& hs) {
  return {hs.action(), hs.message_index(), to_hex(hs.handshake_hash()), hs.remote_ephemeral(),
          hs.remote_static()};
}
void check_unchanged(const HandshakeState& hs, const Snapshot& before) {
  CHECK(hs.action() == before.action);
  CHECK(hs.message_index() == before.index);
  CHECK(to_hex(hs.handshake_hash()) == before.hash);
  CHECK(hs.remote_ephemeral() == before.re);
  CHECK(hs.remote_static() == before.rs);
}

const PublicKey kZeroPoint{};
const PublicKey kOrder8Point =
    array_from_hex<32>("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
const PublicKey kOnePoint =
    array_from_hex<32>("0100000000000000000000000000000000000000000000000000000000000000");

}  // namespace

// --- Complete handshakes ---

TEST_CASE("HandshakeState: named handshakes complete, agree and carry transport traffic") {
  struct Case {
    int id;
    const char* pattern;
  };
  static const Case kCases[] = {
      {1, "XX"}, {2, "XXpsk3"}, {3, "NN"}, {4, "IK"},     {5, "KK"},
      {6, "X"},  {7, "N"},      {8, "K"},  {9, "NNpsk0"}, {10, "XXpsk0+psk1+psk2+psk3"},
  };
  for (const Case& c : kCases) {
    for (const std::string& suite : suites()) {
      const std::string name = std::string("Noise_") + c.pattern + "_" + suite;
      CAPTURE(c.id);
      CAPTURE(name);
      Session s(name, static_cast<std::uint64_t>(c.id));
      start(s, {Buf{'p', 'r', 'o'}, Buf{'p', 'r', 'o'}, {}, {}});
      run(s);
      auto [ti, tr] = finish(s);
      // What each side learned about the other's static key.
      const bool i_knows = s.protocol.needs_remote_static(Role::initiator) ||
                           s.protocol.needs_local_static(Role::responder);
      const bool r_knows = s.protocol.needs_local_static(Role::initiator);
      CHECK(ti.remote_static.has_value() == i_knows);
      CHECK(tr.remote_static.has_value() == r_knows);
      if (i_knows) CHECK(*ti.remote_static == s.s_r.public_key);
      if (r_knows) CHECK(*tr.remote_static == s.s_i.public_key);
    }
  }
}

TEST_CASE("HandshakeState: every pattern, plain and with psk0, completes with every suite") {
  for (const auto& pat : all_patterns()) {
    for (const std::string& mod : {std::string(), std::string("psk0")}) {
      for (const std::string& suite : suites()) {
        const std::string name = "Noise_" + std::string(pat.name) + mod + "_" + suite;
        CAPTURE(name);
        Session s(name, 7);
        start(s);
        const std::uint64_t dh_before = gw::crypto::dh_operations_on_this_thread();
        const auto messages = run(s);
        // Each DH token is computed once by each side, and nothing else is.
        CHECK(gw::crypto::dh_operations_on_this_thread() - dh_before == 2 * dh_tokens(pat));
        // The peer's static key, where the pattern gives one.
        // By the naming rules: the first letter is the initiator's static key,
        // the letter after it (and its "1") the responder's; N means none.
        const char init = pat.name[0];
        const char resp = pat.one_way ? 'K' : pat.name[pat.name[1] == '1' ? 2 : 1];
        const bool r_learns = init != 'N';
        const bool i_learns = resp != 'N';
        CHECK(s.i.remote_static().has_value() == i_learns);
        CHECK(s.r.remote_static().has_value() == r_learns);
        if (i_learns) CHECK(*s.i.remote_static() == s.s_r.public_key);
        if (r_learns) CHECK(*s.r.remote_static() == s.s_i.public_key);
        // Both saw each other's ephemeral key (one-way: only the responder).
        REQUIRE(s.r.remote_ephemeral().has_value());
        CHECK(std::equal(s.r.remote_ephemeral()->begin(), s.r.remote_ephemeral()->end(),
                         messages[0].begin()));
        CHECK(s.i.remote_ephemeral().has_value() == !pat.one_way);
        finish(s);
      }
    }
  }
}

TEST_CASE("HandshakeState: handshakes with random ephemerals give different hashes") {
  Session a("Noise_NN_25519_ChaChaPoly_BLAKE2b", 1), b("Noise_NN_25519_ChaChaPoly_BLAKE2b", 2);
  start(a);
  start(b);
  const auto ma = run(a), mb = run(b);
  CHECK(ma[0] != mb[0]);
  CHECK(to_hex(a.i.handshake_hash()) != to_hex(b.i.handshake_hash()));
}

TEST_CASE("HandshakeState: one-way X refuses the directions it does not have") {
  Session s("Noise_X_25519_ChaChaPoly_SHA256");
  start(s);
  CHECK(s.r.action() == Action::read_message);
  Buf out(200);
  std::size_t written = 0;
  // The responder never writes, the initiator never reads.
  CHECK(s.r.write_message({}, out, written) == Error::wrong_state);
  CHECK(s.i.read_message(out, out, written) == Error::wrong_state);
  const Buf msg = write(s.i, as_bytes("one way"));
  CHECK(s.i.action() == Action::split);
  CHECK(s.i.write_message({}, out, written) == Error::wrong_state);
  CHECK(read(s.r, msg) == Buf{'o', 'n', 'e', ' ', 'w', 'a', 'y'});
  CHECK(s.r.write_message({}, out, written) == Error::wrong_state);
  auto [ti, tr] = finish(s);
  CHECK(ti.send.usable());
  CHECK(tr.receive.usable());
  CHECK(*tr.remote_static == s.s_i.public_key);
  CHECK(*ti.remote_static == s.s_r.public_key);
}

TEST_CASE("HandshakeState: action and message_index follow the pattern") {
  Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  CHECK(s.i.action() == Action::setup);
  CHECK(s.r.action() == Action::setup);
  CHECK(s.i.role() == Role::initiator);
  CHECK(s.r.role() == Role::responder);
  CHECK(s.i.protocol().name() == "Noise_XX_25519_ChaChaPoly_BLAKE2b");
  CHECK(s.i.next_message_size(0) == 0);  // not writing yet
  start(s);
  CHECK(s.i.message_index() == 0);
  const Buf m1 = write(s.i, {});
  CHECK(s.i.action() == Action::read_message);
  CHECK(s.i.message_index() == 1);
  CHECK(s.r.message_index() == 0);
  read(s.r, m1);
  CHECK(s.r.action() == Action::write_message);
  CHECK(s.r.message_index() == 1);
  read(s.i, write(s.r, {}));
  read(s.r, write(s.i, {}));
  CHECK(s.i.message_index() == 3);
  CHECK(s.i.action() == Action::split);
  CHECK(s.r.action() == Action::split);
}

TEST_CASE("HandshakeState: XX sends no static public key in clear") {
  for (const std::string& name : {std::string("Noise_XX_25519_ChaChaPoly_BLAKE2b"),
                                  std::string("Noise_XX_25519_ChaChaPoly_SHA256"),
                                  std::string("Noise_XXpsk3_25519_ChaChaPoly_SHA512")}) {
    CAPTURE(name);
    Session s(name);
    start(s);
    const auto messages = run(s);
    for (std::size_t m = 0; m < messages.size(); ++m) {
      CAPTURE(m);
      CHECK_FALSE(contains(messages[m], s.s_i.public_key));
      CHECK_FALSE(contains(messages[m], s.s_r.public_key));
      // Not even half of one.
      CHECK_FALSE(contains(messages[m], Bytes(s.s_i.public_key).first(16)));
      CHECK_FALSE(contains(messages[m], Bytes(s.s_r.public_key).last(16)));
    }
    // The search works: ephemeral keys are sent in clear.
    CHECK(contains(messages[0], *s.r.remote_ephemeral()));
    CHECK(contains(messages[1], *s.i.remote_ephemeral()));
  }
  // Contrast: IN sends the initiator's static key before any DH, in clear.
  Session in("Noise_IN_25519_ChaChaPoly_BLAKE2b");
  start(in);
  const auto m = run(in);
  CHECK(contains(m[0], in.s_i.public_key));
}

TEST_CASE("HandshakeState: set_ephemeral_for_testing makes the messages deterministic") {
  FakeRng eph(4242);
  const KeyPair e_i = KeyPair::generate(eph), e_r = KeyPair::generate(eph);
  std::vector<std::vector<Buf>> runs;
  std::vector<std::string> hashes;
  for (const std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}}) {
    // Different Rngs; same static keys (same key seed), same fixed ephemerals.
    Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b", seed);
    FakeRng same_keys(1);
    s.s_i = KeyPair::generate(same_keys);
    s.s_r = KeyPair::generate(same_keys);
    REQUIRE(s.i.set_ephemeral_for_testing(e_i) == Error::ok);
    REQUIRE(s.r.set_ephemeral_for_testing(e_r) == Error::ok);
    start(s);
    runs.push_back(run(s));
    hashes.push_back(to_hex(s.i.handshake_hash()));
    CHECK(s.rng_i.calls() == 0);  // nothing was drawn from the Rng
    CHECK(s.rng_r.calls() == 0);
    CHECK(std::equal(e_i.public_key.begin(), e_i.public_key.end(), runs.back()[0].begin()));
    CHECK(std::equal(e_r.public_key.begin(), e_r.public_key.end(), runs.back()[1].begin()));
    finish(s);
  }
  CHECK(runs[0] == runs[1]);
  CHECK(hashes[0] == hashes[1]);

  // Without fixed ephemerals the same setup differs from run to run.
  Session a("Noise_XX_25519_ChaChaPoly_BLAKE2b", 1), b("Noise_XX_25519_ChaChaPoly_BLAKE2b", 2);
  start(a);
  start(b);
  CHECK(run(a)[0] != run(b)[0]);
  CHECK(a.rng_i.calls() > 0);
}

TEST_CASE("HandshakeState: next_message_size is exact for every message and payload size") {
  for (const char* name :
       {"Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk3_25519_ChaChaPoly_SHA256",
        "Noise_IK_25519_ChaChaPoly_SHA512", "Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b",
        "Noise_X1X1_25519_ChaChaPoly_BLAKE2b", "Noise_N_25519_ChaChaPoly_SHA256"}) {
    for (const std::size_t payload_len : {std::size_t{0}, std::size_t{1}, std::size_t{1000}}) {
      CAPTURE(name);
      CAPTURE(payload_len);
      Session s(name);
      start(s);
      while (s.i.action() != Action::split) {
        HandshakeState& w = s.writer();
        const Buf payload(payload_len, 0x77);
        const std::size_t predicted = w.next_message_size(payload_len);
        CHECK(predicted >= payload_len);
        const Buf msg = write(w, payload);  // checks written == predicted
        CHECK(msg.size() == predicted);
        read(s.reader(), msg);
      }
    }
  }
  // Exact sizes for XX from the spec: e | e, ee, s, es | s, se.
  Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  start(s);
  CHECK(s.i.next_message_size(0) == 32);
  CHECK(s.i.next_message_size(5) == 37);
  read(s.r, write(s.i, {}));
  CHECK(s.r.next_message_size(0) == 32 + 48 + 16);
  read(s.i, write(s.r, {}));
  CHECK(s.i.next_message_size(3) == 48 + 3 + 16);
}

// --- Failure paths ---

TEST_CASE("HandshakeState: truncated messages fail and leave the reader intact") {
  struct Case {
    int id;
    const char* name;
    bool payloads;  // non-empty payloads: only where every payload is encrypted
  };
  static const Case kCases[] = {
      {1, "Noise_XX_25519_ChaChaPoly_BLAKE2b", false},
      {2, "Noise_NN_25519_ChaChaPoly_SHA256", false},
      {3, "Noise_XXpsk3_25519_ChaChaPoly_SHA512", false},
      {4, "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", true},
      {5, "Noise_IK_25519_ChaChaPoly_SHA256", true},
      {6, "Noise_KK_25519_ChaChaPoly_BLAKE2b", true},
      {7, "Noise_NNpsk0_25519_ChaChaPoly_SHA256", true},
      {8, "Noise_X_25519_ChaChaPoly_BLAKE2b", true},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    CAPTURE(c.name);
    Session s(c.name);
    start(s);
    while (s.i.action() != Action::split) {
      const std::size_t index = s.i.message_index();
      CAPTURE(index);
      const Buf payload = c.payloads ? payload_for(index + 1) : Buf{};
      HandshakeState& rd = s.reader();
      const Buf msg = write(s.writer(), payload);
      const Snapshot before = snapshot(rd);
      for (std::size_t len = 0; len < msg.size(); ++len) {
        CAPTURE(len);
        const Error err = try_read(rd, Bytes(msg).first(len));
        CHECK((err == Error::message_too_short || err == Error::decrypt_failed));
        check_unchanged(rd, before);
      }
      CHECK(read(rd, msg) == payload);
    }
    finish(s);
  }
}

TEST_CASE("HandshakeState: a flipped bit anywhere in an XX or XXpsk3 message is caught") {
  for (const char* name :
       {"Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk3_25519_ChaChaPoly_SHA256",
        "Noise_XXpsk3_25519_AESGCM_SHA512"}) {
    if (std::string(name).find("AESGCM") != std::string::npos &&
        !gw::crypto::aes256gcm_available()) {
      continue;
    }
    CAPTURE(name);
    Session s(name);
    start(s);
    while (s.i.action() != Action::split) {
      const std::size_t index = s.i.message_index();
      CAPTURE(index);
      HandshakeState& rd = s.reader();
      HandshakeState& wr = s.writer();  // reads the message after this one
      const Buf msg = write(wr, payload_for(index + 2));
      const Snapshot before = snapshot(rd);
      for (std::size_t pos = 0; pos < msg.size(); ++pos) {
        for (int bit = 0; bit < 8; ++bit) {
          CAPTURE(pos);
          CAPTURE(bit);
          Buf bad = msg;
          bad[pos] ^= static_cast<std::uint8_t>(1u << bit);
          if (s.protocol.psk_mode() || index > 0) {
            // Everything after the first "e" of a psk handshake, and every
            // message after the first, is authenticated on arrival.
            const Error err = try_read(rd, bad);
            CHECK((err == Error::decrypt_failed || err == Error::dh_failed));
            check_unchanged(rd, before);
          } else {
            // XX message 1 is not authenticated yet: the change shows up
            // when the initiator reads message 2, which then fails.
            HandshakeState responder = rd;
            HandshakeState initiator = wr;
            REQUIRE(try_read(responder, bad) == Error::ok);
            Buf m2(200);
            std::size_t written = 0;
            REQUIRE(responder.write_message({}, m2, written) == Error::ok);
            m2.resize(written);
            CHECK(try_read(initiator, m2) == Error::decrypt_failed);
          }
        }
      }
      read(rd, msg);
    }
    finish(s);
  }
}

TEST_CASE("HandshakeState: a wrong psk fails at the message that mixes it") {
  struct Case {
    int id;
    const char* pattern;
    std::size_t wrong_psk;  // which of the responder's psks is wrong
    std::size_t fails_at;   // the first message index that must fail
  };
  static const Case kCases[] = {
      {1, "NNpsk0", 0, 0},
      {2, "NNpsk2", 0, 1},
      {3, "XXpsk3", 0, 2},
      {4, "XXpsk0+psk1+psk2+psk3", 0, 0},
      {5, "XXpsk0+psk1+psk2+psk3", 1, 0},
      {6, "XXpsk0+psk1+psk2+psk3", 2, 1},
      {7, "XXpsk0+psk1+psk2+psk3", 3, 2},
      {8, "IKpsk2", 0, 1},
      {9, "KKpsk0", 0, 0},
      {10, "Npsk0", 0, 0},
      {11, "Xpsk1", 0, 0},
      {12, "NNpsk0+psk2", 1, 1},
      {13, "X1K1psk4", 0, 3},
  };
  for (const Case& c : kCases) {
    const std::string name = std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_BLAKE2b";
    CAPTURE(c.id);
    CAPTURE(name);
    Session s(name);
    Config cfg;
    for (std::size_t k = 0; k < s.protocol.psk_count; ++k) {
      cfg.psks_i.push_back(default_psk(k));
      Buf psk = default_psk(k);
      if (k == c.wrong_psk) psk[31] ^= 0x01;
      cfg.psks_r.push_back(psk);
    }
    start(s, cfg);
    for (std::size_t index = 0; index < c.fails_at; ++index) {
      CAPTURE(index);
      read(s.reader(), write(s.writer(), payload_for(index)));
    }
    HandshakeState& rd = s.reader();
    const Snapshot before = snapshot(rd);
    const Buf msg = write(s.writer(), payload_for(c.fails_at));
    CHECK(try_read(rd, msg) == Error::decrypt_failed);
    check_unchanged(rd, before);
  }
}

TEST_CASE("HandshakeState: a different prologue fails at the first authenticated message") {
  struct Case {
    int id;
    const char* pattern;
    std::size_t fails_at;
  };
  static const Case kCases[] = {
      {1, "NN", 1}, {2, "XX", 1}, {3, "NNpsk0", 0}, {4, "IK", 0}, {5, "N", 0}, {6, "XXpsk3", 0},
  };
  for (const Case& c : kCases) {
    const std::string name = std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_SHA256";
    CAPTURE(c.id);
    CAPTURE(name);
    for (int variant = 0; variant < 2; ++variant) {
      CAPTURE(variant);
      Session s(name);
      Config cfg;
      cfg.prologue_i = Buf{'v', '1'};
      // A different prologue, or none at all on one side.
      if (variant == 0) cfg.prologue_r = Buf{'v', '2'};
      start(s, cfg);
      for (std::size_t index = 0; index < c.fails_at; ++index) {
        read(s.reader(), write(s.writer(), payload_for(index)));
      }
      const Buf msg = write(s.writer(), payload_for(c.fails_at));
      CHECK(try_read(s.reader(), msg) == Error::decrypt_failed);
    }
  }
  // An empty prologue is the same as none.
  Session s("Noise_NN_25519_ChaChaPoly_SHA256");
  start(s, {Buf{}, std::nullopt, {}, {}});
  run(s);
  finish(s);
}

TEST_CASE("HandshakeState: a low-order remote ephemeral key makes read_message return dh_failed") {
  struct Case {
    int id;
    const char* name;
    std::size_t message;  // the message whose "e" is replaced
  };
  static const Case kCases[] = {
      {1, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1},     {2, "Noise_XX_25519_ChaChaPoly_SHA256", 1},
      {3, "Noise_IK_25519_ChaChaPoly_SHA512", 0},  // es on the responder
      {4, "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", 1}, {5, "Noise_N_25519_ChaChaPoly_SHA256", 0},
      {6, "Noise_KK_25519_ChaChaPoly_SHA256", 1},
  };
  for (const Case& c : kCases) {
    for (const PublicKey* point : {&kZeroPoint, &kOrder8Point, &kOnePoint}) {
      CAPTURE(c.id);
      CAPTURE(c.name);
      CAPTURE(to_hex(*point));
      Session s(c.name);
      start(s);
      for (std::size_t index = 0; index < c.message; ++index) {
        read(s.reader(), write(s.writer(), {}));
      }
      const Buf msg = write(s.writer(), as_bytes("payload"));
      Buf bad = msg;
      std::copy(point->begin(), point->end(), bad.begin());
      HandshakeState& rd = s.reader();
      const Snapshot before = snapshot(rd);
      CHECK(try_read(rd, bad) == Error::dh_failed);
      check_unchanged(rd, before);
      // Read is transactional: the genuine message still works.
      CHECK(read(rd, msg) == Buf{'p', 'a', 'y', 'l', 'o', 'a', 'd'});
      run(s);
      finish(s);
    }
  }
}

TEST_CASE("HandshakeState: a low-order ephemeral in NN message 1 fails the responder's write") {
  Session s("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  start(s);
  Buf msg = write(s.i, {});
  std::copy(kOrder8Point.begin(), kOrder8Point.end(), msg.begin());
  REQUIRE(try_read(s.r, msg) == Error::ok);  // no DH in message 1
  Buf out(100);
  std::size_t written = 99;
  CHECK(s.r.write_message({}, out, written) == Error::dh_failed);
  CHECK(written == 0);
  // A failed write ends the handshake.
  CHECK(s.r.action() == Action::failed);
  CHECK(s.r.write_message({}, out, written) == Error::wrong_state);
  CHECK(s.r.read_message(out, out, written) == Error::wrong_state);
  TransportState t;
  CHECK(s.r.split(t) == Error::wrong_state);
  CHECK(s.r.next_message_size(0) == 0);
}

TEST_CASE("HandshakeState: calls in the wrong order return wrong_state") {
  const KeyPair other = [] {
    FakeRng rng(99);
    return KeyPair::generate(rng);
  }();
  const Buf psk = default_psk(0);
  Buf out(500), payload(500);
  std::size_t written = 99;
  TransportState t;

  SUBCASE("before start: no reading, writing or splitting") {
    Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
    CHECK(s.i.write_message({}, out, written) == Error::wrong_state);
    CHECK(written == 0);
    CHECK(s.r.read_message(Buf(32, 1), payload, written) == Error::wrong_state);
    CHECK(s.i.split(t) == Error::wrong_state);
    CHECK(s.i.action() == Action::setup);
  }
  SUBCASE("out of turn") {
    Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
    start(s);
    CHECK(s.r.write_message({}, out, written) == Error::wrong_state);
    CHECK(s.i.read_message(Buf(32, 1), payload, written) == Error::wrong_state);
    const Buf m1 = write(s.i, {});
    CHECK(s.i.write_message({}, out, written) == Error::wrong_state);  // twice in a row
    // Its own message, read as message 2, is simply too short.
    CHECK(s.i.read_message(m1, payload, written) == Error::message_too_short);
    read(s.r, m1);
    CHECK(s.r.read_message(m1, payload, written) == Error::wrong_state);  // replayed
    // The states are still fine after all that.
    run(s);
    finish(s);
  }
  SUBCASE("setup calls after start, and start twice") {
    Session s("Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b");
    start(s);
    for (HandshakeState* hs : {&s.i, &s.r}) {
      CHECK(hs->set_prologue(as_bytes("late")) == Error::wrong_state);
      CHECK(hs->set_local_static(other) == Error::wrong_state);
      CHECK(hs->set_remote_static(other.public_key) == Error::wrong_state);
      CHECK(hs->set_remote_ephemeral(other.public_key) == Error::wrong_state);
      CHECK(hs->add_psk(psk) == Error::wrong_state);
      CHECK(hs->set_ephemeral_for_testing(other) == Error::wrong_state);
      CHECK(hs->start() == Error::wrong_state);
    }
    // None of it changed the handshake.
    run(s);
    auto [ti, tr] = finish(s);
    CHECK(*ti.remote_static == s.s_r.public_key);
  }
  SUBCASE("set_prologue twice") {
    Session s("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    CHECK(s.i.set_prologue(as_bytes("a")) == Error::ok);
    CHECK(s.i.set_prologue(as_bytes("a")) == Error::wrong_state);
  }
  SUBCASE("split before the handshake is done") {
    Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
    start(s);
    CHECK(s.i.split(t) == Error::wrong_state);
    read(s.r, write(s.i, {}));
    CHECK(s.i.split(t) == Error::wrong_state);
    CHECK(s.r.split(t) == Error::wrong_state);
    read(s.i, write(s.r, {}));
    CHECK(s.i.split(t) == Error::wrong_state);
    read(s.r, write(s.i, {}));
    finish(s);
  }
  SUBCASE("everything after split") {
    Session s("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    start(s);
    const auto messages = run(s);
    finish(s);
    for (HandshakeState* hs : {&s.i, &s.r}) {
      CHECK(hs->action() == Action::finished);
      CHECK(hs->split(t) == Error::wrong_state);
      CHECK(hs->write_message({}, out, written) == Error::wrong_state);
      CHECK(hs->read_message(messages[0], payload, written) == Error::wrong_state);
      CHECK(hs->read_message(messages[1], payload, written) == Error::wrong_state);
      CHECK(hs->start() == Error::wrong_state);
      CHECK(hs->set_prologue({}) == Error::wrong_state);
      CHECK(hs->set_local_static(other) == Error::wrong_state);
      CHECK(hs->add_psk(psk) == Error::wrong_state);
      CHECK(hs->set_ephemeral_for_testing(other) == Error::wrong_state);
      CHECK(hs->next_message_size(0) == 0);
      // The handshake hash stays readable for channel binding.
      CHECK(hs->handshake_hash().size() == 64);
    }
  }
}

TEST_CASE("HandshakeState: start() refuses missing keys") {
  struct Case {
    int id;
    const char* pattern;
    Role role;
    bool give_local, give_remote;
  };
  static const Case kCases[] = {
      {1, "XX", Role::initiator, false, false},  {2, "XX", Role::responder, false, false},
      {3, "IK", Role::initiator, true, false},   {4, "IK", Role::initiator, false, true},
      {5, "IK", Role::responder, false, false},  {6, "KK", Role::responder, true, false},
      {7, "KK", Role::initiator, false, true},   {8, "N", Role::initiator, false, false},
      {9, "N", Role::responder, false, false},   {10, "NK", Role::initiator, false, false},
      {11, "XN", Role::initiator, false, false}, {12, "K1N", Role::responder, false, false},
      {13, "X", Role::initiator, false, true},   {14, "NX", Role::responder, false, false},
  };
  FakeRng rng(3);
  const KeyPair local = KeyPair::generate(rng), remote = KeyPair::generate(rng);
  for (const Case& c : kCases) {
    const std::string name = std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_BLAKE2b";
    CAPTURE(c.id);
    CAPTURE(name);
    const Protocol p = protocol(name);
    HandshakeState hs(p, c.role, rng);
    if (c.give_local) REQUIRE(hs.set_local_static(local) == Error::ok);
    if (c.give_remote) REQUIRE(hs.set_remote_static(remote.public_key) == Error::ok);
    CHECK(hs.start() == Error::missing_key);
    CHECK(hs.action() == Action::setup);
    Buf out(200);
    std::size_t written = 0;
    CHECK(hs.write_message({}, out, written) == Error::wrong_state);
  }
  // With nothing needed, nothing is missing.
  HandshakeState nn(protocol("Noise_NN_25519_ChaChaPoly_BLAKE2b"), Role::initiator, rng);
  CHECK(nn.start() == Error::ok);
}

TEST_CASE("HandshakeState: remote keys the pattern does not use are refused") {
  FakeRng rng(8);
  const KeyPair k = KeyPair::generate(rng);
  struct Case {
    int id;
    const char* pattern;
    Role role;
  };
  static const Case kCases[] = {
      {1, "XX", Role::initiator}, {2, "XX", Role::responder}, {3, "NN", Role::initiator},
      {4, "NK", Role::responder}, {5, "IK", Role::responder}, {6, "N", Role::responder},
      {7, "KN", Role::initiator},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    const Protocol p = protocol(std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_SHA256");
    HandshakeState hs(p, c.role, rng);
    CHECK(hs.set_remote_static(k.public_key) == Error::unexpected_key);
    CHECK(hs.set_remote_ephemeral(k.public_key) == Error::unexpected_key);
    CHECK_FALSE(hs.remote_static().has_value());
    CHECK_FALSE(hs.remote_ephemeral().has_value());
  }
  // Where the pattern does use it, it is accepted.
  HandshakeState ik(protocol("Noise_IK_25519_ChaChaPoly_SHA256"), Role::initiator, rng);
  CHECK(ik.set_remote_static(k.public_key) == Error::ok);
  CHECK(ik.remote_static() == k.public_key);
  HandshakeState kn(protocol("Noise_KN_25519_ChaChaPoly_SHA256"), Role::responder, rng);
  CHECK(kn.set_remote_static(k.public_key) == Error::ok);
}

TEST_CASE("HandshakeState: the number of PSKs must match the pattern") {
  FakeRng rng(2);
  const Buf psk = default_psk(0);
  struct Case {
    int id;
    const char* pattern;
    std::size_t given;
  };
  static const Case kCases[] = {
      {1, "XXpsk3", 0},      {2, "XXpsk3", 2},      {3, "NN", 1},
      {4, "NNpsk0+psk2", 1}, {5, "NNpsk0+psk2", 3},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    const Protocol p = protocol(std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_BLAKE2b");
    for (const Role role : {Role::initiator, Role::responder}) {
      HandshakeState hs(p, role, rng);
      FakeRng keys(5);
      const KeyPair s = KeyPair::generate(keys);
      REQUIRE(hs.set_local_static(s) == Error::ok);
      for (std::size_t k = 0; k < c.given; ++k)
        REQUIRE(hs.add_psk(psk) == Error::ok);
      CHECK(hs.start() == Error::psk_count);
      CHECK(hs.action() == Action::setup);
    }
  }
  // Each PSK must be exactly 32 bytes.
  HandshakeState hs(protocol("Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b"), Role::initiator, rng);
  CHECK(hs.add_psk(Buf(31, 1)) == Error::psk_count);
  CHECK(hs.add_psk(Buf(33, 1)) == Error::psk_count);
  CHECK(hs.add_psk({}) == Error::psk_count);
  CHECK(hs.start() == Error::psk_count);  // none of those was added
  // No more than kMaxPsks.
  HandshakeState many(protocol("Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b"), Role::initiator, rng);
  for (std::size_t k = 0; k < gw::noise_impl::kMaxPsks; ++k)
    CHECK(many.add_psk(psk) == Error::ok);
  CHECK(many.add_psk(psk) == Error::psk_count);
}

TEST_CASE("HandshakeState: message size limits on read and write") {
  SUBCASE("reading more than 65535 bytes") {
    Session s("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    start(s);
    const Buf msg = write(s.i, {});
    Buf huge(kMaxMsg + 1, 0);
    std::copy(msg.begin(), msg.end(), huge.begin());
    const Snapshot before = snapshot(s.r);
    Buf out(huge.size());
    std::size_t written = 99;
    CHECK(s.r.read_message(huge, out, written) == Error::message_too_large);
    CHECK(written == 0);
    check_unchanged(s.r, before);
    read(s.r, msg);
    run(s);
    finish(s);
  }
  SUBCASE("reading and writing exactly 65535 bytes") {
    Session s("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    start(s);
    const Buf payload(kMaxMsg - 32, 0x61);
    const Buf msg = write(s.i, payload);
    CHECK(msg.size() == kMaxMsg);
    CHECK(read(s.r, msg) == payload);
    const Buf payload2(kMaxMsg - 32 - 16, 0x62);
    const Buf msg2 = write(s.r, payload2);
    CHECK(msg2.size() == kMaxMsg);
    CHECK(read(s.i, msg2) == payload2);
    finish(s);
  }
  SUBCASE("writing a payload that makes the message too large") {
    struct Case {
      const char* name;
      std::size_t overhead;  // message 1 size for an empty payload
    };
    for (const Case& c : {Case{"Noise_NN_25519_ChaChaPoly_BLAKE2b", 32},
                          Case{"Noise_IK_25519_ChaChaPoly_SHA256", 32 + 48 + 16},
                          Case{"Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", 32 + 16}}) {
      CAPTURE(c.name);
      Session s(c.name);
      start(s);
      REQUIRE(s.i.next_message_size(0) == c.overhead);
      const Buf payload(kMaxMsg - c.overhead + 1, 0x61);
      CHECK(s.i.next_message_size(payload.size()) == kMaxMsg + 1);
      Buf out(kMaxMsg + 100);
      std::size_t written = 99;
      CHECK(s.i.write_message(payload, out, written) == Error::message_too_large);
      CHECK(written == 0);
    }
  }
}

TEST_CASE("HandshakeState: output buffers that are too small") {
  SUBCASE("write_message") {
    for (const char* name :
         {"Noise_NN_25519_ChaChaPoly_BLAKE2b", "Noise_IK_25519_ChaChaPoly_SHA256"}) {
      CAPTURE(name);
      Session s(name);
      start(s);
      const Buf payload(10, 0x33);
      const std::size_t need = s.i.next_message_size(payload.size());
      Buf out(need);
      for (const std::size_t size : {std::size_t{0}, std::size_t{1}, need - 1}) {
        CAPTURE(size);
        std::size_t written = 99;
        CHECK(s.i.write_message(payload, MutBytes(out).first(size), written) ==
              Error::buffer_too_small);
        CHECK(written == 0);
      }
    }
  }
  SUBCASE("read_message: payload buffer too small, state kept") {
    Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
    start(s);
    read(s.r, write(s.i, {}));
    const Buf payload(40, 0x44);
    const Buf msg = write(s.r, payload);
    const Snapshot before = snapshot(s.i);
    Buf small(payload.size() - 1);
    std::size_t written = 99;
    CHECK(s.i.read_message(msg, small, written) == Error::buffer_too_small);
    CHECK(written == 0);
    check_unchanged(s.i, before);
    Buf exact(payload.size());
    REQUIRE(s.i.read_message(msg, exact, written) == Error::ok);
    CHECK(exact == payload);
    run(s);
    finish(s);
  }
  SUBCASE("read_message of a cleartext payload into a small buffer") {
    Session s("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    start(s);
    const Buf msg = write(s.i, Buf(8, 0x45));
    Buf small(7);
    std::size_t written = 99;
    CHECK(s.r.read_message(msg, small, written) == Error::buffer_too_small);
    CHECK(s.r.message_index() == 0);
    read(s.r, msg);
  }
}

TEST_CASE("HandshakeState: an XX initiator follows whichever responder answered") {
  // Message 1 carries no authentication, so two responders may answer it. The
  // initiator completes with the one whose message 2 it reads, learns that
  // responder's static key, and the other responder then rejects message 3.
  Session s("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  start(s);
  const Buf m1 = write(s.i, {});
  read(s.r, m1);
  (void)write(s.r, {});

  Session other("Noise_XX_25519_ChaChaPoly_BLAKE2b", 3);
  start(other);
  read(other.r, m1);
  const Buf m2_other = write(other.r, {});
  REQUIRE(other.s_r.public_key != s.s_r.public_key);
  read(s.i, m2_other);
  CHECK(s.i.remote_static() == other.s_r.public_key);

  const Buf m3 = write(s.i, as_bytes("to other"));
  const Snapshot before = snapshot(s.r);
  CHECK(try_read(s.r, m3) == Error::decrypt_failed);
  check_unchanged(s.r, before);
  CHECK(read(other.r, m3) == Buf{'t', 'o', ' ', 'o', 't', 'h', 'e', 'r'});
  CHECK(other.r.remote_static() == s.s_i.public_key);
  CHECK(to_hex(other.r.handshake_hash()) == to_hex(s.i.handshake_hash()));
}

TEST_CASE("HandshakeState: a start() that fails changes nothing, so it can be retried") {
  struct Case {
    int id;
    const char* pattern;
    Role role;
    const char* fix;  // what is supplied after the first start() failed
  };
  static const Case kCases[] = {
      {1, "IK", Role::initiator, "remote"},
      {2, "KK", Role::responder, "remote"},
      {3, "KK", Role::initiator, "local"},
      {4, "XXpsk3", Role::responder, "psk"},
      {5, "NNpsk0+psk2", Role::initiator, "psk"},
      {6, "KK", Role::initiator, "remote"},  // its own pre-message key comes first
  };
  for (const Case& c : kCases) {
    const std::string name = std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_SHA256";
    CAPTURE(c.id);
    CAPTURE(name);
    Session s(name);
    const std::string fix = c.fix;
    HandshakeState& hs = s.side(c.role);
    const Role peer_role = c.role == Role::initiator ? Role::responder : Role::initiator;
    const KeyPair& own = c.role == Role::initiator ? s.s_i : s.s_r;
    const KeyPair& peer = c.role == Role::initiator ? s.s_r : s.s_i;
    configure(s.side(peer_role), s.protocol, peer_role, peer, own, Buf{'p'}, {});
    // Everything but the missing piece.
    REQUIRE(hs.set_prologue(Buf{'p'}) == Error::ok);
    if (fix != "local" && s.protocol.needs_local_static(c.role)) {
      REQUIRE(hs.set_local_static(own) == Error::ok);
    }
    if (fix != "remote" && s.protocol.needs_remote_static(c.role)) {
      REQUIRE(hs.set_remote_static(peer.public_key) == Error::ok);
    }
    const std::size_t psks_up_front =
        fix == "psk" ? s.protocol.psk_count - 1u : s.protocol.psk_count;
    for (std::size_t k = 0; k < psks_up_front; ++k)
      REQUIRE(hs.add_psk(default_psk(k)) == Error::ok);
    const std::string h_before = to_hex(hs.handshake_hash());
    CHECK(hs.start() == (fix == "psk" ? Error::psk_count : Error::missing_key));
    CHECK(hs.action() == Action::setup);
    CHECK(to_hex(hs.handshake_hash()) == h_before);
    // Supply it and try again: the handshake must then work with the peer.
    if (fix == "local") REQUIRE(hs.set_local_static(own) == Error::ok);
    if (fix == "remote") REQUIRE(hs.set_remote_static(peer.public_key) == Error::ok);
    if (fix == "psk") REQUIRE(hs.add_psk(default_psk(psks_up_front)) == Error::ok);
    REQUIRE(hs.start() == Error::ok);
    run(s);
    finish(s);
  }
}

TEST_CASE(
    "HandshakeState: start() hashes the prologue, then the initiator's and the responder's "
    "pre-message keys") {
  // Computed here from the spec: h = HASH(name padded), then MixHash(prologue),
  // then MixHash of each pre-message public key, initiator first.
  auto mix = [](gw::crypto::HashAlg alg, const Buf& h, Bytes data) {
    gw::crypto::Hasher hasher(alg);
    hasher.update(h);
    hasher.update(data);
    Buf out(h.size());
    hasher.final(out);
    return out;
  };
  for (const char* pattern : {"KK", "NK", "KN", "K", "NN", "XX"}) {
    const std::string name = std::string("Noise_") + pattern + "_25519_ChaChaPoly_BLAKE2b";
    CAPTURE(name);
    Session s(name);
    start(s, {Buf{'p', 'r', 'e'}, Buf{'p', 'r', 'e'}, {}, {}});
    Buf h(64, 0);
    std::copy(name.begin(), name.end(), h.begin());
    h = mix(s.protocol.hash, h, as_bytes("pre"));
    if (s.protocol.pattern.pre_initiator.contains(Token::s))
      h = mix(s.protocol.hash, h, s.s_i.public_key);
    if (s.protocol.pattern.pre_responder.contains(Token::s))
      h = mix(s.protocol.hash, h, s.s_r.public_key);
    CHECK(to_hex(s.i.handshake_hash()) == to_hex(h));
    CHECK(to_hex(s.r.handshake_hash()) == to_hex(h));

    // Message 1 of the patterns that start with a bare "e" is e || payload in
    // clear, and h moves on by MixHash(e) then MixHash(payload).
    const auto& first = s.protocol.pattern.messages[0];
    if (first.size == 1 && first.tokens[0] == Token::e) {
      const Buf msg = write(s.i, as_bytes("hello"));
      REQUIRE(msg.size() == 37);
      CHECK(std::equal(msg.begin() + 32, msg.end(), as_bytes("hello").begin()));
      h = mix(s.protocol.hash, h, Bytes(msg).first(32));
      h = mix(s.protocol.hash, h, Bytes(msg).subspan(32));
      CHECK(to_hex(s.i.handshake_hash()) == to_hex(h));
      read(s.r, msg);
      CHECK(to_hex(s.r.handshake_hash()) == to_hex(h));
    }
  }
}

namespace {

// Hands out the PSK of one known key, and remembers what it was asked.
class OneKeyPsk final : public gw::noise::PskProvider {
 public:
  OneKeyPsk(PublicKey key, std::uint8_t fill) : key_(key) { psk_.bytes()[0] = fill; }
  bool provide_psk(const std::optional<PublicKey>& remote_static,
                   gw::crypto::Secret<32>& psk) override {
    asked = remote_static;
    if (!remote_static || *remote_static != key_) return false;
    psk = psk_;
    return true;
  }
  std::optional<PublicKey> asked;

 private:
  PublicKey key_;
  gw::crypto::Secret<32> psk_;
};

}  // namespace

TEST_CASE("a PSK provider supplies the responder's PSK once message 3 names the initiator") {
  const Protocol proto =
      *gw::noise::parse_protocol("Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b").protocol;
  for (const bool right_psk : {true, false}) {
    CAPTURE(right_psk);
    gw::test::FakeRng rng(41);
    const KeyPair is = KeyPair::generate(rng), rs = KeyPair::generate(rng);
    std::array<std::uint8_t, 32> psk{};
    psk[0] = right_psk ? 9 : 8;
    OneKeyPsk provider(is.public_key, 9);
    HandshakeState init(proto, Role::initiator, rng), resp(proto, Role::responder, rng);
    REQUIRE(init.set_local_static(is) == Error::ok);
    REQUIRE(init.add_psk(psk) == Error::ok);
    REQUIRE(resp.set_local_static(rs) == Error::ok);
    REQUIRE(resp.set_psk_provider(&provider) == Error::ok);
    REQUIRE(init.start() == Error::ok);
    REQUIRE(resp.start() == Error::ok);
    std::vector<std::uint8_t> msg(200), out(200);
    std::size_t n = 0, m = 0;
    REQUIRE(init.write_message({}, msg, n) == Error::ok);
    REQUIRE(resp.read_message({msg.data(), n}, out, m) == Error::ok);
    REQUIRE(resp.write_message({}, msg, n) == Error::ok);
    REQUIRE(init.read_message({msg.data(), n}, out, m) == Error::ok);
    REQUIRE(init.write_message({}, msg, n) == Error::ok);
    CHECK_FALSE(provider.asked.has_value());  // not asked before message 3
    const Error err = resp.read_message({msg.data(), n}, out, m);
    REQUIRE(provider.asked.has_value());
    CHECK(*provider.asked == is.public_key);  // asked with the key message 3 revealed
    CHECK(err == (right_psk ? Error::ok : Error::decrypt_failed));
    CHECK(resp.action() ==
          (right_psk ? HandshakeState::Action::split : HandshakeState::Action::read_message));
  }
}

TEST_CASE("a PSK provider that declines fails the message with missing_key") {
  const Protocol proto =
      *gw::noise::parse_protocol("Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b").protocol;
  gw::test::FakeRng rng(42);
  OneKeyPsk provider(PublicKey{}, 1);  // no handshake will show this key
  HandshakeState init(proto, Role::initiator, rng);
  REQUIRE(init.set_psk_provider(&provider) == Error::ok);
  REQUIRE(init.start() == Error::ok);
  std::vector<std::uint8_t> msg(200);
  std::size_t n = 0;
  CHECK(init.write_message({}, msg, n) == Error::missing_key);
  CHECK(init.action() == HandshakeState::Action::failed);
}

TEST_CASE("HandshakeState: a shared static key is used in place, never copied") {
  for (const char* name : {"Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_IK_25519_ChaChaPoly_SHA256",
                           "Noise_KK_25519_ChaChaPoly_SHA512"}) {
    CAPTURE(name);
    Session s(name, 61);
    const gw::crypto::LockedKeyPair shared_r(s.s_r);
    // A second responder on the same key, as gwd's pending handshakes are.
    FakeRng other_rng(62);
    HandshakeState other(s.protocol, Role::responder, other_rng);
    REQUIRE(s.r.set_local_static(shared_r) == Error::ok);
    REQUIRE(other.set_local_static(shared_r) == Error::ok);
    CHECK(s.r.local_static() == shared_r.get());
    CHECK(other.local_static() == shared_r.get());
    CHECK(shared_r.holders() == 3);
    // The initiator's copy, for comparison: its own storage.
    configure(s.i, s.protocol, Role::initiator, s.s_i, s.s_r, std::nullopt, {});
    REQUIRE(s.i.local_static() != nullptr);
    if (s.protocol.needs_remote_static(Role::responder)) {
      REQUIRE(s.r.set_remote_static(s.s_i.public_key) == Error::ok);
    }
    REQUIRE(s.r.start() == Error::ok);
    run(s);
    finish(s);
    // The ended handshake let go of the key; the other holders keep it intact.
    CHECK(s.r.local_static() == nullptr);
    CHECK(shared_r.holders() == 2);
    CHECK(shared_r->private_key == s.s_r.private_key);
  }
}
