// SPDX-License-Identifier: MIT
// libgw's handshake (include/gw/gw.hpp), driven in memory: every XX suite in
// fixed mode, every fundamental, one-way and deferred pattern, PSKs, trust by
// key and by certificate (expired, revoked, unknown CA), prologues, gw's suite
// negotiation (retry, no common suite, downgrade and retry tampering),
// forged messages that a handshake must survive, and calls out of order.
#include <doctest/doctest.h>

#include <gw/gw.hpp>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sodium.h>

#include "config/temp_dir.hpp"
#include "gw/crypto/random.hpp"
#include "gw/identity/certificate.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/wire/payloads.hpp"
#include "lib/status_checks.hpp"

namespace {

using Buf = std::vector<std::uint8_t>;
using gw::Errc;
using gw::Role;
using Next = gw::Handshake::Next;

bool aes_available() {
  return sodium_init() >= 0 && crypto_aead_aes256gcm_is_available() != 0;
}

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

gw::HandshakeOptions options(Role role, const std::string& protocol,
                             const gw::Identity& identity = {}, const gw::Trust& trust = {}) {
  gw::HandshakeOptions o;
  o.role = role;
  o.protocol = protocol;
  o.identity = identity;
  o.trust = trust;
  return o;
}

gw::Trust trusting(const gw::Key& key) {
  gw::Trust t;
  t.add_key(key);
  return t;
}

// What happened when two handshakes were pumped against each other.
struct Outcome {
  gw::Status status;            // the first failure; ok when both sides are done
  bool stuck = false;           // neither side could write, or too many messages
  bool failed_reading = false;  // the failure was a read (else a write)
  Role who = Role::initiator;   // the side whose call failed
  std::size_t step = 0;         // the index of the message whose write or read failed
  std::vector<Buf> messages;    // every message written, as sent (after tampering)

  bool done() const { return status.ok() && !stuck; }
};

using Tamper = std::function<void(std::size_t index, Buf& message)>;

// Moves messages from whichever side writes into the other, until both are
// done or a call fails. `tamper` may change each message in flight.
Outcome pump(gw::Handshake& init, gw::Handshake& resp, const Tamper& tamper = {}) {
  Outcome out;
  for (int round = 0; round < 12; ++round) {
    if (init.next() == Next::done && resp.next() == Next::done) return out;
    const bool init_writes = init.next() == Next::write;
    if (!init_writes && resp.next() != Next::write) break;
    gw::Handshake& writer = init_writes ? init : resp;
    gw::Handshake& reader = init_writes ? resp : init;
    Buf msg{0xee};  // write replaces it
    gw::Status st = writer.write(msg);
    if (!st) {
      out.status = st;
      out.who = init_writes ? Role::initiator : Role::responder;
      out.step = out.messages.size();
      return out;
    }
    CHECK(msg.size() <= 65535);
    if (tamper) tamper(out.messages.size(), msg);
    out.messages.push_back(msg);
    st = reader.read(msg);
    if (!st) {
      out.status = st;
      out.failed_reading = true;
      out.who = init_writes ? Role::responder : Role::initiator;
      out.step = out.messages.size() - 1;
      return out;
    }
  }
  out.stuck = true;
  return out;
}

// A sealed message from `from` opens on `to`, both ways, for a few sizes.
void exchange(gw::Channel& a, gw::Channel& b, int count = 8) {
  for (int i = 0; i < count; ++i) {
    Buf plain(static_cast<std::size_t>(i * 53 % 400));
    for (std::size_t j = 0; j < plain.size(); ++j)
      plain[j] = static_cast<std::uint8_t>(j * 7 + static_cast<std::size_t>(i));
    gw::Channel& from = i % 2 == 0 ? a : b;
    gw::Channel& to = i % 2 == 0 ? b : a;
    Buf sealed, opened;
    REQUIRE_OK(from.seal(plain, sealed));
    CHECK(sealed.size() == plain.size() + from.overhead());
    REQUIRE_OK(to.open(sealed, opened));
    CHECK(opened == plain);
  }
}

// Empty and largest plaintexts seal and open; one byte more is refused.
void limits(gw::Channel& from, gw::Channel& to) {
  Buf sealed, opened{1};
  REQUIRE_OK(from.seal(Buf{}, sealed));
  CHECK(sealed.size() == from.overhead());
  REQUIRE_OK(to.open(sealed, opened));
  CHECK(opened.empty());
  const Buf big(gw::Channel::kMaxPlaintext, 0xa5);
  REQUIRE_OK(from.seal(big, sealed));
  CHECK(sealed.size() <= 65535);
  REQUIRE_OK(to.open(sealed, opened));
  CHECK(opened == big);
  CHECK_STATUS(from.seal(Buf(gw::Channel::kMaxPlaintext + 1), sealed), Errc::invalid_argument);
}

// Creates both handshakes (both must be accepted) and runs them to the end.
Outcome run(const gw::HandshakeOptions& io, const gw::HandshakeOptions& ro, gw::Handshake& hi,
            gw::Handshake& hr, const Tamper& tamper = {}) {
  REQUIRE_OK(gw::Handshake::create(io, hi));
  REQUIRE_OK(gw::Handshake::create(ro, hr));
  CHECK(hi.next() == Next::write);
  CHECK(hr.next() == Next::read);
  return pump(hi, hr, tamper);
}

// A complete handshake: both channels established.
void establish(const gw::HandshakeOptions& io, const gw::HandshakeOptions& ro, gw::Channel& ci,
               gw::Channel& cr) {
  gw::Handshake hi, hr;
  const Outcome o = run(io, ro, hi, hr);
  INFO("handshake: ", o.status.message);
  REQUIRE(o.done());
  REQUIRE_OK(hi.finish(ci));
  REQUIRE_OK(hr.finish(cr));
  CHECK_FALSE(ci.empty());
  CHECK_FALSE(cr.empty());
  CHECK(ci.role() == Role::initiator);
  CHECK(cr.role() == Role::responder);
  CHECK(ci.protocol() == cr.protocol());
  CHECK(ci.handshake_hash() == cr.handshake_hash());
}

// A handshake that fails: neither side completes, and the failure is where
// `who` reads a message, with `code`.
void expect_read_failure(const Outcome& o, Role who, Errc code) {
  INFO("failure: ", o.status.message);
  REQUIRE_FALSE(o.done());
  CHECK_FALSE(o.stuck);
  CHECK(o.failed_reading);
  CHECK(o.who == who);
  CHECK(o.status.code == code);
  CHECK_FALSE(o.status.message.empty());
}

// Where the offer {version 1, count 2, ChaChaPoly_SHA256, ChaChaPoly_BLAKE2b}
// sits in an initiation (docs/LIBRARY.md places it in the header); size() if
// it is not there.
std::size_t offer_at(const Buf& initiation) {
  const Buf offer{1, 2, 3, 1, 0, 0, 0, 0};
  const auto it = std::search(initiation.begin(), initiation.end(), offer.begin(), offer.end());
  return static_cast<std::size_t>(it - initiation.begin());
}

std::size_t hash_len(const std::string& hash) {
  return hash == "SHA256" ? 32 : 64;
}

// Writes a signed certificate for `key` into `dir`; returns its path.
std::string write_certificate(const gw::test::TempDir& dir, const std::string& file,
                              const gw::identity::CaKey& ca, const gw::Key& key,
                              std::int64_t not_before, std::int64_t not_after,
                              gw::identity::Certificate* signed_out = nullptr) {
  gw::identity::Certificate c;
  c.name = "server-1";
  c.public_key = key;
  c.groups = {"servers"};
  c.not_before = not_before;
  c.not_after = not_after;
  std::string error;
  const std::optional<gw::identity::Certificate> s = gw::identity::sign(c, ca, &error);
  INFO(error);
  REQUIRE(s.has_value());
  if (signed_out != nullptr) *signed_out = *s;
  return dir.write(file, gw::identity::armor(*s), 0644);
}

std::string write_ca(const gw::test::TempDir& dir, const std::string& file,
                     const gw::identity::CaKey& ca) {
  return dir.write(file,
                   "-----BEGIN GW CA PUBLIC KEY-----\n" + gw::to_base64(ca.public_key) +
                       "\n-----END GW CA PUBLIC KEY-----\n",
                   0644);
}

}  // namespace

TEST_CASE("lib: every XX suite completes in fixed mode and both sides agree") {
  const bool aes = aes_available();
  for (const std::string cipher : {"ChaChaPoly", "AESGCM"}) {
    for (const std::string hash : {"BLAKE2b", "SHA256", "SHA512"}) {
      const std::string name = "Noise_XX_25519_" + cipher + "_" + hash;
      CAPTURE(name);
      const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
      REQUIRE_FALSE(a.empty());
      CHECK(a.public_key() != b.public_key());
      const auto io = options(Role::initiator, name, a, trusting(b.public_key()));
      const auto ro = options(Role::responder, name, b, trusting(a.public_key()));
      gw::Handshake hi, hr;
      const gw::Status created = gw::Handshake::create(io, hi);
      if (cipher == "AESGCM" && !aes) {
        CHECK(created.code == Errc::unsupported);
        continue;
      }
      REQUIRE_OK(created);
      REQUIRE_OK(gw::Handshake::create(ro, hr));
      CHECK(hi.protocol() == name);
      CHECK(hr.protocol() == name);
      CHECK_FALSE(hi.remote_key().has_value());
      const Outcome o = pump(hi, hr);
      INFO(o.status.message);
      REQUIRE(o.done());
      CHECK(o.messages.size() == 3);
      REQUIRE(hi.remote_key().has_value());
      REQUIRE(hr.remote_key().has_value());
      CHECK(*hi.remote_key() == b.public_key());
      CHECK(*hr.remote_key() == a.public_key());

      gw::Channel ci, cr;
      REQUIRE_OK(hi.finish(ci));
      REQUIRE_OK(hr.finish(cr));
      CHECK(ci.protocol() == name);
      CHECK(cr.protocol() == name);
      CHECK(ci.transport() == gw::Transport::stream);
      CHECK(ci.handshake_hash().size() == hash_len(hash));
      CHECK(ci.handshake_hash() == cr.handshake_hash());
      REQUIRE(ci.remote().has_value());
      REQUIRE(cr.remote().has_value());
      CHECK(ci.remote()->key == b.public_key());
      CHECK(cr.remote()->key == a.public_key());
      CHECK_FALSE(ci.remote()->certified);
      CHECK(ci.remote()->name.empty());
      CHECK(ci.remote()->not_after == 0);
      exchange(ci, cr, 40);
      limits(ci, cr);
      limits(cr, ci);
      exchange(ci, cr, 2);
    }
  }
}

TEST_CASE("lib: two handshakes between the same keys have different hashes") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  const auto io =
      options(Role::initiator, "Noise_XX_25519_ChaChaPoly_BLAKE2b", a, gw::Trust::any());
  const auto ro =
      options(Role::responder, "Noise_XX_25519_ChaChaPoly_BLAKE2b", b, gw::Trust::any());
  gw::Channel c1, c2, c3, c4;
  establish(io, ro, c1, c2);
  establish(io, ro, c3, c4);
  CHECK(c1.handshake_hash() != c3.handshake_hash());
}

TEST_CASE("lib: every fundamental, one-way and deferred pattern with the keys it needs") {
  const std::vector<std::string> patterns = {
      "N",    "K",   "X",   "NN",   "NK",   "NX",  "XN",  "XK",   "XX",  "KN",
      "KK",   "KX",  "IN",  "IK",   "IX",   "NK1", "NX1", "X1N",  "X1K", "XK1",
      "X1K1", "X1X", "XX1", "X1X1", "K1N",  "K1K", "KK1", "K1K1", "K1X", "KX1",
      "K1X1", "I1N", "I1K", "IK1",  "I1K1", "I1X", "IX1", "I1X1"};
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  for (const std::string& p : patterns) {
    const std::string name = "Noise_" + p + "_25519_ChaChaPoly_SHA256";
    CAPTURE(name);
    const bool one_way = p.size() == 1;
    const char il = p[0];  // the initiator's static key: N none, K known, X/I transmitted
    const std::size_t second = p.size() > 1 && p[1] == '1' ? 2 : 1;
    const char rl = one_way ? 'K' : p[second];  // the responder's static key

    auto io = options(Role::initiator, name);
    auto ro = options(Role::responder, name);
    if (il != 'N') io.identity = a;
    if (rl != 'N') ro.identity = b;
    if (rl == 'K') io.remote_key = b.public_key();
    if (il == 'K') ro.remote_key = a.public_key();
    if (rl == 'X') io.trust.add_key(b.public_key());
    if (il == 'X' || il == 'I') ro.trust.add_key(a.public_key());

    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    CHECK(ci.protocol() == name);
    CHECK(ci.handshake_hash().size() == 32);
    // The peer's identity: none when it has no static key; the transmitted
    // key when it sent one; and when reported at all, the right key.
    if (!one_way) {
      if (rl == 'N') CHECK_FALSE(ci.remote().has_value());
      if (rl == 'X') CHECK(ci.remote().has_value());
      if (ci.remote()) CHECK(ci.remote()->key == b.public_key());
    }
    if (il == 'N') CHECK_FALSE(cr.remote().has_value());
    if (il == 'X' || il == 'I') CHECK(cr.remote().has_value());
    if (cr.remote()) CHECK(cr.remote()->key == a.public_key());

    if (one_way) {
      Buf sealed, opened;
      const Buf plain{1, 2, 3};
      REQUIRE_OK(ci.seal(plain, sealed));
      REQUIRE_OK(cr.open(sealed, opened));
      CHECK(opened == plain);
      CHECK_STATUS(cr.seal(plain, sealed), Errc::wrong_state);
    } else {
      exchange(ci, cr, 4);
    }
  }
}

TEST_CASE("lib: options that do not fit the pattern are refused") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  gw::Handshake hs;
  const std::string xx = "Noise_XX_25519_ChaChaPoly_BLAKE2b";

  SUBCASE("XX needs an identity") {
    CHECK_STATUS(gw::Handshake::create(options(Role::initiator, xx, {}, gw::Trust::any()), hs),
                 Errc::invalid_argument);
    CHECK_STATUS(gw::Handshake::create(options(Role::responder, xx, {}, gw::Trust::any()), hs),
                 Errc::invalid_argument);
    CHECK(hs.next() == Next::failed);
  }
  SUBCASE("XX needs a trust on both sides: it learns the peer's key") {
    CHECK_STATUS(gw::Handshake::create(options(Role::initiator, xx, a), hs),
                 Errc::invalid_argument);
    CHECK_STATUS(gw::Handshake::create(options(Role::responder, xx, b), hs),
                 Errc::invalid_argument);
  }
  SUBCASE("XX takes no remote key: its pre-message holds none") {
    auto o = options(Role::initiator, xx, a, gw::Trust::any());
    o.remote_key = b.public_key();
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::invalid_argument);
  }
  SUBCASE("IK and NK need the responder's key in advance") {
    CHECK_STATUS(
        gw::Handshake::create(options(Role::initiator, "Noise_IK_25519_ChaChaPoly_BLAKE2b", a), hs),
        Errc::invalid_argument);
    CHECK_STATUS(
        gw::Handshake::create(options(Role::initiator, "Noise_NK_25519_ChaChaPoly_BLAKE2b"), hs),
        Errc::invalid_argument);
  }
  SUBCASE("NN never authenticates the peer: a trust is refused") {
    CHECK_STATUS(gw::Handshake::create(options(Role::initiator, "Noise_NN_25519_ChaChaPoly_BLAKE2b",
                                               {}, trusting(b.public_key())),
                                       hs),
                 Errc::invalid_argument);
    CHECK_STATUS(gw::Handshake::create(options(Role::responder, "Noise_NN_25519_ChaChaPoly_BLAKE2b",
                                               {}, gw::Trust::any()),
                                       hs),
                 Errc::invalid_argument);
    // NK's responder never learns the initiator's key either.
    CHECK_STATUS(gw::Handshake::create(options(Role::responder, "Noise_NK_25519_ChaChaPoly_BLAKE2b",
                                               b, trusting(a.public_key())),
                                       hs),
                 Errc::invalid_argument);
  }
  SUBCASE("a PSK pattern needs one PSK per psk token; other patterns take none") {
    auto o = options(Role::initiator, "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", a, gw::Trust::any());
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::invalid_argument);
    o.psks = {gw::Psk::generate(), gw::Psk::generate()};
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::invalid_argument);
    o.psks = {gw::Psk{}};  // an empty PSK is no PSK
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::invalid_argument);
    o.psks = {gw::Psk::generate()};
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::ok);
    auto plain = options(Role::initiator, xx, a, gw::Trust::any());
    plain.psks = {gw::Psk::generate()};
    CHECK_STATUS(gw::Handshake::create(plain, hs), Errc::invalid_argument);
  }
  SUBCASE("protocol names") {
    auto o = options(Role::initiator, "Noise_XX_448_ChaChaPoly_BLAKE2b", a, gw::Trust::any());
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::unsupported);
    o.protocol = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::unsupported);
    o.protocol = "garbage";
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::invalid_argument);
    o.protocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b_extra";
    CHECK_STATUS(gw::Handshake::create(o, hs), Errc::invalid_argument);
    CHECK(hs.next() == Next::failed);
  }
}

TEST_CASE("lib: XXpsk3 and multiple psk modifiers") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  const std::string name = "Noise_XXpsk3_25519_ChaChaPoly_SHA512";
  auto io = options(Role::initiator, name, a, trusting(b.public_key()));
  auto ro = options(Role::responder, name, b, trusting(a.public_key()));

  SUBCASE("the same PSK") {
    const gw::Psk psk = gw::Psk::generate();
    io.psks = {psk};
    ro.psks = {psk};
    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    CHECK(ci.protocol() == name);
    exchange(ci, cr);
  }
  SUBCASE("different PSKs: the responder's read of message 3 fails") {
    io.psks = {gw::Psk::generate()};
    ro.psks = {gw::Psk::generate()};
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr);
    expect_read_failure(o, Role::responder, Errc::authentication_failed);
    CHECK(o.step == 2);
    CHECK(hr.next() == Next::read);  // a failed read leaves the handshake as it was
    gw::Channel c;
    CHECK_STATUS(hr.finish(c), Errc::wrong_state);
  }
  SUBCASE("NNpsk0+psk2 takes two PSKs, in order") {
    const std::string nn = "Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b";
    const gw::Psk p1 = gw::Psk::generate(), p2 = gw::Psk::generate();
    auto i2 = options(Role::initiator, nn);
    auto r2 = options(Role::responder, nn);
    i2.psks = {p1, p2};
    r2.psks = {p1, p2};
    gw::Channel ci, cr;
    establish(i2, r2, ci, cr);
    exchange(ci, cr);

    r2.psks = {p2, p1};
    gw::Handshake hi, hr;
    const Outcome o = run(i2, r2, hi, hr);
    CHECK_FALSE(o.done());
    CHECK(o.status.code == Errc::authentication_failed);
  }
}

TEST_CASE("lib: trust decides who is admitted") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  const gw::Identity other = gw::Identity::generate();
  const std::string name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";

  SUBCASE("the initiator trusts another key: its read of message 2 is refused") {
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, trusting(other.public_key())),
                          options(Role::responder, name, b, trusting(a.public_key())), hi, hr);
    expect_read_failure(o, Role::initiator, Errc::peer_refused);
    CHECK(o.step == 1);
    CHECK(hi.next() == Next::failed);
    CHECK_FALSE(hi.remote_key().has_value());
    Buf msg;
    CHECK_FALSE(hi.write(msg).ok());
    gw::Channel c;
    CHECK_STATUS(hi.finish(c), Errc::wrong_state);
    CHECK(c.empty());
  }
  SUBCASE("the responder trusts another key: its read of message 3 is refused") {
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, trusting(b.public_key())),
                          options(Role::responder, name, b, trusting(other.public_key())), hi, hr);
    expect_read_failure(o, Role::responder, Errc::peer_refused);
    CHECK(o.step == 2);
    CHECK(hr.next() == Next::failed);
  }
  SUBCASE("Trust::any admits any key, and keys add up") {
    gw::Trust several;
    several.add_key(other.public_key());
    several.add_key(a.public_key());
    gw::Channel ci, cr;
    establish(options(Role::initiator, name, a, gw::Trust::any()),
              options(Role::responder, name, b, several), ci, cr);
    REQUIRE(ci.remote().has_value());
    CHECK(ci.remote()->key == b.public_key());
    CHECK_FALSE(ci.remote()->certified);
  }
  SUBCASE("IK: the right responder key works, a wrong one fails at the responder") {
    const std::string ik = "Noise_IK_25519_AESGCM_SHA256";
    if (!aes_available()) return;
    auto io = options(Role::initiator, ik, a);
    io.remote_key = b.public_key();
    const auto ro = options(Role::responder, ik, b, trusting(a.public_key()));
    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    REQUIRE(ci.remote().has_value());
    CHECK(ci.remote()->key == b.public_key());
    REQUIRE(cr.remote().has_value());
    CHECK(cr.remote()->key == a.public_key());
    exchange(ci, cr);

    io.remote_key = other.public_key();
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr);
    expect_read_failure(o, Role::responder, Errc::authentication_failed);
    CHECK(o.step == 0);
  }
  SUBCASE("NK: the initiator knows the responder; the responder learns nobody") {
    const std::string nk = "Noise_NK_25519_ChaChaPoly_BLAKE2b";
    auto io = options(Role::initiator, nk);
    io.remote_key = b.public_key();
    gw::Channel ci, cr;
    establish(io, options(Role::responder, nk, b), ci, cr);
    REQUIRE(ci.remote().has_value());
    CHECK(ci.remote()->key == b.public_key());
    CHECK_FALSE(cr.remote().has_value());
    exchange(ci, cr);
  }
  SUBCASE("NN: no identities, no remote") {
    const std::string nn = "Noise_NN_25519_ChaChaPoly_BLAKE2b";
    gw::Channel ci, cr;
    establish(options(Role::initiator, nn), options(Role::responder, nn), ci, cr);
    CHECK_FALSE(ci.remote().has_value());
    CHECK_FALSE(cr.remote().has_value());
    exchange(ci, cr);
  }
}

TEST_CASE("lib: the prologue is authenticated") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  const std::string name = "Noise_XX_25519_ChaChaPoly_SHA256";
  auto io = options(Role::initiator, name, a, gw::Trust::any());
  auto ro = options(Role::responder, name, b, gw::Trust::any());
  io.prologue = {'a', 'p', 'p', '/', '1'};
  ro.prologue = io.prologue;
  gw::Channel ci, cr;
  establish(io, ro, ci, cr);
  exchange(ci, cr);

  ro.prologue = {'a', 'p', 'p', '/', '2'};
  gw::Handshake hi, hr;
  const Outcome o = run(io, ro, hi, hr);
  // Message 1 of XX carries nothing encrypted; message 2's static key is.
  expect_read_failure(o, Role::initiator, Errc::authentication_failed);
  CHECK(o.step == 1);
}

TEST_CASE("lib: certificates admit a peer whose CA is trusted") {
  const gw::test::TempDir dir;
  const gw::identity::CaKey ca = gw::identity::CaKey::generate();
  const std::string ca_file = write_ca(dir, "ca.pub", ca);
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  const std::string name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  const std::int64_t t = now();

  gw::Trust by_ca;
  REQUIRE_OK(by_ca.add_ca_file(ca_file));
  CHECK_FALSE(by_ca.empty());
  CHECK_FALSE(by_ca.admits_any());

  SUBCASE("a valid certificate, both ways") {
    gw::Identity server = b, client = a;
    CHECK_FALSE(server.has_certificate());
    REQUIRE_OK(server.load_certificate(
        write_certificate(dir, "server.crt", ca, b.public_key(), t - 60, t + 3600)));
    CHECK(server.has_certificate());
    CHECK_FALSE(b.has_certificate());  // a copy changed after creation; the original did not
    REQUIRE_OK(client.load_certificate(
        write_certificate(dir, "client.crt", ca, a.public_key(), t - 60, t + 7200)));

    gw::Channel ci, cr;
    establish(options(Role::initiator, name, client, by_ca),
              options(Role::responder, name, server, by_ca), ci, cr);
    REQUIRE(ci.remote().has_value());
    CHECK(ci.remote()->key == b.public_key());
    CHECK(ci.remote()->certified);
    CHECK(ci.remote()->name == "server-1");
    CHECK(ci.remote()->groups == std::vector<std::string>{"servers"});
    CHECK(ci.remote()->not_after == t + 3600);
    REQUIRE(cr.remote().has_value());
    CHECK(cr.remote()->key == a.public_key());
    CHECK(cr.remote()->certified);
    CHECK(cr.remote()->not_after == t + 7200);
    exchange(ci, cr);
  }
  SUBCASE("a certificate also works where the pattern sends the key in clear (NX)") {
    const std::string nx = "Noise_NX_25519_ChaChaPoly_SHA256";
    gw::Identity server = b;
    REQUIRE_OK(server.load_certificate(
        write_certificate(dir, "server.crt", ca, b.public_key(), t - 60, t + 3600)));
    gw::Channel ci, cr;
    establish(options(Role::initiator, nx, {}, by_ca), options(Role::responder, nx, server), ci,
              cr);
    REQUIRE(ci.remote().has_value());
    CHECK(ci.remote()->certified);
  }
  SUBCASE("a certificate that binds another key is refused by load_certificate") {
    gw::Identity server = b;
    const std::string file =
        write_certificate(dir, "other.crt", ca, a.public_key(), t - 60, t + 3600);
    const gw::Status st = server.load_certificate(file);
    INFO(st.message);
    CHECK_FALSE(st.ok());
    CHECK_FALSE(st.message.empty());
    CHECK_FALSE(server.has_certificate());
  }
  SUBCASE("a certificate file that is missing or not a certificate") {
    gw::Identity server = b;
    const std::string missing = dir.file("missing.crt");
    const gw::Status st = server.load_certificate(missing);
    CHECK(st.code == Errc::file);
    CHECK(st.message.find(missing) != std::string::npos);
    CHECK_FALSE(server.load_certificate(dir.write("junk.crt", "not a certificate\n")).ok());
    CHECK_FALSE(server.has_certificate());
  }
  SUBCASE("a server without a certificate is refused by a CA-only trust") {
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, by_ca),
                          options(Role::responder, name, b, gw::Trust::any()), hi, hr);
    expect_read_failure(o, Role::initiator, Errc::peer_refused);
  }
  SUBCASE("an expired certificate is refused") {
    gw::Identity server = b;
    REQUIRE_OK(server.load_certificate(
        write_certificate(dir, "old.crt", ca, b.public_key(), t - 7200, t - 3600)));
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, by_ca),
                          options(Role::responder, name, server, gw::Trust::any()), hi, hr);
    expect_read_failure(o, Role::initiator, Errc::peer_refused);
    CHECK(hi.next() == Next::failed);
  }
  SUBCASE("a certificate not yet valid is refused") {
    gw::Identity server = b;
    REQUIRE_OK(server.load_certificate(
        write_certificate(dir, "new.crt", ca, b.public_key(), t + 3600, t + 7200)));
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, by_ca),
                          options(Role::responder, name, server, gw::Trust::any()), hi, hr);
    expect_read_failure(o, Role::initiator, Errc::peer_refused);
  }
  SUBCASE("a revoked certificate is refused") {
    gw::identity::Certificate cert;
    gw::Identity server = b;
    REQUIRE_OK(server.load_certificate(
        write_certificate(dir, "server.crt", ca, b.public_key(), t - 60, t + 3600, &cert)));
    // A list that names another certificate changes nothing.
    REQUIRE_OK(by_ca.load_revocations(
        dir.write("unrelated.txt", "# nothing of ours\n" + std::string(64, 'a') + "\n", 0644)));
    {
      gw::Channel ci, cr;
      establish(options(Role::initiator, name, a, by_ca),
                options(Role::responder, name, server, gw::Trust::any()), ci, cr);
    }
    REQUIRE_OK(by_ca.load_revocations(dir.write(
        "revoked.txt", gw::identity::to_hex(gw::identity::fingerprint(cert)) + "\n", 0644)));
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, by_ca),
                          options(Role::responder, name, server, gw::Trust::any()), hi, hr);
    expect_read_failure(o, Role::initiator, Errc::peer_refused);
    // The listed key still admits it: keys and CAs add up.
    gw::Trust both = by_ca;
    both.add_key(b.public_key());
    gw::Channel ci, cr;
    establish(options(Role::initiator, name, a, both),
              options(Role::responder, name, server, gw::Trust::any()), ci, cr);
  }
  SUBCASE("a certificate of an unknown CA is refused") {
    const gw::identity::CaKey other_ca = gw::identity::CaKey::generate();
    gw::Identity server = b;
    REQUIRE_OK(server.load_certificate(
        write_certificate(dir, "foreign.crt", other_ca, b.public_key(), t - 60, t + 3600)));
    gw::Handshake hi, hr;
    const Outcome o = run(options(Role::initiator, name, a, by_ca),
                          options(Role::responder, name, server, gw::Trust::any()), hi, hr);
    expect_read_failure(o, Role::initiator, Errc::peer_refused);
  }
  SUBCASE("bad CA and revocation files") {
    gw::Trust t2;
    const std::string missing = dir.file("nope.pub");
    const gw::Status st = t2.add_ca_file(missing);
    CHECK(st.code == Errc::file);
    CHECK(st.message.find(missing) != std::string::npos);
    CHECK_FALSE(t2.add_ca_file(dir.write("bad.pub", "not base64!\n", 0644)).ok());
    // A CA public key as one base64 line (before CA key files named their kind) is refused.
    CHECK_FALSE(
        t2.add_ca_file(dir.write("old.pub", gw::to_base64(ca.public_key) + "\n", 0644)).ok());
    CHECK(t2.empty());
    CHECK_FALSE(t2.load_revocations(dir.write("bad.txt", "xyz\n", 0644)).ok());
    CHECK_STATUS(t2.load_revocations(dir.file("nope.txt")), Errc::file);
  }
}

TEST_CASE("lib: negotiated mode") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  auto io = options(Role::initiator, "", a, trusting(b.public_key()));
  auto ro = options(Role::responder, "", b, trusting(a.public_key()));

  SUBCASE("default suites") {
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr);
    INFO(o.status.message);
    REQUIRE(o.done());
    CHECK(o.messages.size() == 3);
    gw::Channel ci, cr;
    REQUIRE_OK(hi.finish(ci));
    REQUIRE_OK(hr.finish(cr));
    CHECK(ci.protocol() == "Noise_XX_25519_ChaChaPoly_BLAKE2b");
    CHECK(cr.protocol() == "Noise_XX_25519_ChaChaPoly_BLAKE2b");
    CHECK(ci.handshake_hash() == cr.handshake_hash());
    REQUIRE(ci.remote().has_value());
    CHECK(ci.remote()->key == b.public_key());
    exchange(ci, cr);
  }
  SUBCASE("datagram transport") {
    io.transport = ro.transport = gw::Transport::datagram;
    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    CHECK(ci.transport() == gw::Transport::datagram);
    CHECK(ci.overhead() == 24);
    exchange(ci, cr);
  }
  SUBCASE("the responder's policy differs: a retry, then its suite") {
    io.suites = {"ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b"};
    ro.suites = {"ChaChaPoly_BLAKE2b"};
    gw::Handshake hi, hr;
    REQUIRE_OK(gw::Handshake::create(io, hi));
    REQUIRE_OK(gw::Handshake::create(ro, hr));
    CHECK(hi.protocol() == "Noise_XX_25519_ChaChaPoly_SHA256");
    const Outcome o = pump(hi, hr);
    INFO(o.status.message);
    REQUIRE(o.done());
    REQUIRE(o.messages.size() == 5);
    CHECK(o.messages[1] == Buf{0x04, 0x01});  // retry: suite 1, ChaChaPoly_BLAKE2b
    CHECK(hi.protocol() == "Noise_XX_25519_ChaChaPoly_BLAKE2b");
    gw::Channel ci, cr;
    REQUIRE_OK(hi.finish(ci));
    REQUIRE_OK(hr.finish(cr));
    CHECK(ci.protocol() == "Noise_XX_25519_ChaChaPoly_BLAKE2b");
    CHECK(cr.protocol() == "Noise_XX_25519_ChaChaPoly_BLAKE2b");
    CHECK(ci.handshake_hash() == cr.handshake_hash());
    exchange(ci, cr);
  }
  SUBCASE("the responder picks the first of its own suites that the offer holds") {
    io.suites = {"ChaChaPoly_BLAKE2b", "ChaChaPoly_SHA256"};
    ro.suites = {"ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b"};
    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    CHECK(ci.protocol() == "Noise_XX_25519_ChaChaPoly_SHA256");
    CHECK(ci.handshake_hash().size() == 32);
  }
  SUBCASE("AESGCM_SHA256 where the CPU runs it") {
    if (!aes_available()) return;
    io.suites = ro.suites = {"AESGCM_SHA256"};
    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    CHECK(ci.protocol() == "Noise_XX_25519_AESGCM_SHA256");
    exchange(ci, cr);
  }
  SUBCASE("no common suite: the responder's read of the initiation fails") {
    io.suites = {"ChaChaPoly_SHA256"};
    ro.suites = {"ChaChaPoly_BLAKE2b"};
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr);
    expect_read_failure(o, Role::responder, Errc::negotiation_failed);
    CHECK(o.step == 0);
    CHECK(hr.next() == Next::failed);
  }
  SUBCASE("a PSK makes the pattern XXpsk3") {
    const gw::Psk psk = gw::Psk::generate();
    io.psks = ro.psks = {psk};
    gw::Channel ci, cr;
    establish(io, ro, ci, cr);
    CHECK(ci.protocol().find("XXpsk3") != std::string::npos);
    exchange(ci, cr);

    ro.psks = {gw::Psk::generate()};
    gw::Handshake hi, hr;
    CHECK_FALSE(run(io, ro, hi, hr).done());
  }
  SUBCASE("a PSK on one side only fails") {
    io.psks = {gw::Psk::generate()};
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr);
    CHECK_FALSE(o.done());
    CHECK_FALSE(o.stuck);
  }
  SUBCASE("bad option mixes") {
    gw::Handshake hs;
    io.suites = {"ChaChaPoly_BLAKE2s"};
    CHECK_STATUS(gw::Handshake::create(io, hs), Errc::invalid_argument);
    io.suites = {"ChaChaPoly_BLAKE2b", "ChaChaPoly_BLAKE2b"};
    CHECK_FALSE(gw::Handshake::create(io, hs).ok());
    io.suites = {};
    io.psks = {gw::Psk::generate(), gw::Psk::generate()};
    CHECK_STATUS(gw::Handshake::create(io, hs), Errc::invalid_argument);
    io.psks = {};
    io.identity = {};
    CHECK_STATUS(gw::Handshake::create(io, hs), Errc::invalid_argument);
    io.identity = a;
    io.trust = {};
    CHECK_STATUS(gw::Handshake::create(io, hs), Errc::invalid_argument);
  }
}

TEST_CASE("lib: negotiation resists downgrades and tampered retries") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  auto io = options(Role::initiator, "", a, trusting(b.public_key()));
  auto ro = options(Role::responder, "", b, trusting(a.public_key()));
  io.suites = {"ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b"};

  SUBCASE("the responder's favourite suite removed from the offer") {
    ro.suites = {"ChaChaPoly_BLAKE2b", "ChaChaPoly_SHA256"};
    bool tampered = false;
    const Tamper drop_favourite = [&tampered](std::size_t index, Buf& m) {
      if (index != 0) return;
      const std::size_t at = offer_at(m);
      REQUIRE(at < m.size());
      m[at + 1] = 1;  // count
      m[at + 3] = 0;  // ChaChaPoly_BLAKE2b gone
      tampered = true;
    };
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr, drop_favourite);
    CHECK(tampered);
    // The responder settles for suite 3; the initiator's transcript holds the
    // genuine offer, so message 2 does not decrypt.
    expect_read_failure(o, Role::initiator, Errc::authentication_failed);
    CHECK(o.step == 1);
  }
  SUBCASE("the offer reordered") {
    ro.suites = {"ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b"};
    const Tamper reorder = [](std::size_t index, Buf& m) {
      if (index != 0) return;
      const std::size_t at = offer_at(m);
      REQUIRE(at < m.size());
      std::swap(m[at + 2], m[at + 3]);
    };
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr, reorder);
    CHECK_FALSE(o.done());
    CHECK_FALSE(o.stuck);
  }
  SUBCASE("the retry's suite changed") {
    ro.suites = {"ChaChaPoly_BLAKE2b"};
    // The suite just tried, suites not in the offer, and no suite at all: the
    // initiator refuses the retry.
    const std::uint8_t suites[] = {0, 2, 3, 4, 0xff};
    for (const std::uint8_t suite : suites) {
      CAPTURE(static_cast<int>(suite));
      const Tamper change = [suite](std::size_t index, Buf& m) {
        if (index == 1 && m.size() == 2 && m[0] == 0x04) m[1] = suite;
      };
      gw::Handshake hi, hr;
      const Outcome o = run(io, ro, hi, hr, change);
      expect_read_failure(o, Role::initiator, Errc::negotiation_failed);
      CHECK(o.step == 1);
      CHECK(hi.next() == Next::failed);
    }
  }
  SUBCASE("the retry names another offered suite than the responder's pick") {
    if (!aes_available()) return;
    io.suites = {"ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b", "AESGCM_SHA256"};
    ro.suites = {"ChaChaPoly_BLAKE2b"};
    const Tamper change = [](std::size_t index, Buf& m) {
      if (index == 1 && m.size() == 2 && m[0] == 0x04) m[1] = 2;  // AESGCM_SHA256
    };
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr, change);
    // The initiator tries AESGCM_SHA256; the responder did not pick it.
    expect_read_failure(o, Role::responder, Errc::negotiation_failed);
    CHECK(o.step == 2);
  }
  SUBCASE("different prologues") {
    ro.suites = {"ChaChaPoly_SHA256"};  // no retry
    io.prologue = {1, 2, 3};
    ro.prologue = {1, 2, 4};
    gw::Handshake hi, hr;
    const Outcome o = run(io, ro, hi, hr);
    expect_read_failure(o, Role::initiator, Errc::authentication_failed);
    CHECK(o.step == 1);
  }
  SUBCASE("the initiation's header changed") {
    ro.suites = {"ChaChaPoly_BLAKE2b", "ChaChaPoly_SHA256"};
    for (std::size_t at = 0; at < 4; ++at) {
      CAPTURE(at);
      const Tamper flip = [at](std::size_t index, Buf& m) {
        if (index == 0) m[at] ^= 0x02;
      };
      gw::Handshake hi, hr;
      const Outcome o = run(io, ro, hi, hr, flip);
      INFO(o.status.message);
      CHECK_FALSE(o.done());
    }
  }
}

TEST_CASE("lib: a forged or stray handshake message is ignored") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  for (const std::string protocol : {"Noise_XX_25519_ChaChaPoly_BLAKE2b", ""}) {
    CAPTURE(protocol);
    auto io = options(Role::initiator, protocol, a, trusting(b.public_key()));
    auto ro = options(Role::responder, protocol, b, trusting(a.public_key()));
    io.transport = ro.transport = gw::Transport::datagram;
    gw::Handshake hi, hr;
    REQUIRE_OK(gw::Handshake::create(io, hi));
    REQUIRE_OK(gw::Handshake::create(ro, hr));

    const auto forgeries = [](const Buf& genuine) {
      std::vector<Buf> out;
      out.push_back({});
      out.push_back(Buf(5, 0x42));
      out.push_back(Buf(genuine.begin(), genuine.end() - 1));
      Buf longer = genuine;
      longer.push_back(0);
      out.push_back(longer);
      for (std::size_t at : {genuine.size() - 1, genuine.size() / 2, std::size_t{40}}) {
        Buf flipped = genuine;
        flipped[at] ^= 0x80;
        out.push_back(flipped);
      }
      Buf noise(genuine.size());
      for (std::size_t i = 0; i < noise.size(); ++i)
        noise[i] = static_cast<std::uint8_t>(i * 131 + 7);
      out.push_back(noise);
      return out;
    };
    const auto reject_all = [&forgeries](gw::Handshake& reader, const Buf& genuine) {
      for (const Buf& f : forgeries(genuine)) {
        CAPTURE(f.size());
        const gw::Status st = reader.read(f);
        INFO(st.message);
        CHECK((st.code == Errc::malformed || st.code == Errc::authentication_failed));
        CHECK_FALSE(st.message.empty());
        CHECK(reader.next() == Next::read);
      }
    };

    Buf m1, m2, m3;
    REQUIRE_OK(hi.write(m1));
    // Message 1 of XX has no encrypted part: only a wrong size is detectable.
    for (const Buf& f : {Buf{}, Buf(5, 0x42), Buf(m1.begin(), m1.begin() + 20)}) {
      CAPTURE(f.size());
      const gw::Status st = hr.read(f);
      CHECK(st.code == Errc::malformed);
      CHECK(hr.next() == Next::read);
    }
    // Nor is its payload authenticated: a forged one must not end the handshake.
    {
      gw::Handshake other;
      REQUIRE_OK(gw::Handshake::create(ro, other));
      Buf padded = m1;
      padded.insert(padded.end(), 7, 0xff);
      const gw::Status st1 = other.read(padded);
      INFO(st1.message);
      CHECK((st1.code == Errc::malformed || st1.code == Errc::authentication_failed));
      CHECK(other.next() == Next::read);
      if (other.next() == Next::read) CHECK_STATUS(other.read(m1), Errc::ok);
    }
    REQUIRE_OK(hr.read(m1));
    REQUIRE_OK(hr.write(m2));
    REQUIRE(hi.next() == Next::read);
    reject_all(hi, m2);
    REQUIRE_OK(hi.read(m2));
    REQUIRE_OK(hi.write(m3));
    reject_all(hr, m3);
    REQUIRE_OK(hr.read(m3));
    REQUIRE(hi.next() == Next::done);
    REQUIRE(hr.next() == Next::done);
    gw::Channel ci, cr;
    REQUIRE_OK(hi.finish(ci));
    REQUIRE_OK(hr.finish(cr));
    exchange(ci, cr);
  }
}

TEST_CASE("lib: extension lists follow the table gwd checks (docs/PROTOCOL.md, section 6)") {
  // The initiator is gw's Noise core, so message 3 carries any payload.
  const gw::Identity b = gw::Identity::generate();
  const gw::crypto::KeyPair a = gw::crypto::KeyPair::generate(gw::crypto::system_rng());
  const std::string name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  const gw::noise::ParseResult protocol = gw::noise::parse_protocol(name);
  REQUIRE(protocol.protocol);
  const auto list = [](std::uint16_t type, std::uint8_t flags, const Buf& value) {
    Buf out(64);
    gw::wire::ExtensionWriter w(out);
    REQUIRE(w.add(type, flags, value));
    out.resize(w.size());
    return out;
  };
  struct Case {
    const char* what;
    Buf payload;
    Errc want;
    std::string message;
  };
  const Case cases[] = {
      {"a certificate marked critical", list(1, 1, Buf(40, 7)), Errc::ok, ""},
      {"features of 4 bytes, critical", list(3, 1, Buf(4, 0)), Errc::ok, ""},
      {"features of 3 bytes", list(3, 0, Buf(3, 0)), Errc::malformed,
       "message 3: features extension of 3 bytes, expected 4"},
      {"suites of 7 bytes", list(2, 0, Buf(7, 1)), Errc::malformed,
       "message 3: suites extension of 7 bytes, expected 1 to 6"},
      {"an empty certificate", list(1, 0, {}), Errc::malformed,
       "message 3: certificate extension of 0 bytes, expected 1 to 4096"},
      {"an unknown type marked critical", list(0x4242, 1, Buf(1, 0)), Errc::malformed,
       "message 3: unknown critical extension 16962"},
  };
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    gw::Handshake hr;
    REQUIRE_OK(
        gw::Handshake::create(options(Role::responder, name, b, trusting(a.public_key)), hr));
    gw::noise::HandshakeState hs(*protocol.protocol, gw::noise::Role::initiator,
                                 gw::crypto::system_rng());
    REQUIRE(hs.set_local_static(a) == gw::noise::Error::ok);
    REQUIRE(hs.start() == gw::noise::Error::ok);
    Buf m1(64), m2, m3(256), payload(256);
    std::size_t n = 0;
    REQUIRE(hs.write_message({}, m1, n) == gw::noise::Error::ok);
    m1.resize(n);
    REQUIRE_OK(hr.read(m1));
    REQUIRE_OK(hr.write(m2));
    REQUIRE(hs.read_message(m2, payload, n) == gw::noise::Error::ok);
    REQUIRE(hs.write_message(c.payload, m3, n) == gw::noise::Error::ok);
    m3.resize(n);
    const gw::Status st = hr.read(m3);
    CHECK(st.code == c.want);
    CHECK(st.message == c.message);
    CHECK(hr.next() == (c.want == Errc::ok ? Next::done : Next::read));
  }
}

TEST_CASE("lib: handshake calls out of order") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  const std::string name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  Buf msg;
  gw::Channel ch;

  SUBCASE("an empty handshake") {
    gw::Handshake hs;
    CHECK(hs.next() == Next::failed);
    CHECK_STATUS(hs.write(msg), Errc::wrong_state);
    CHECK_STATUS(hs.read(Buf(48)), Errc::wrong_state);
    CHECK_STATUS(hs.finish(ch), Errc::wrong_state);
    CHECK(ch.empty());
    CHECK_FALSE(hs.remote_key().has_value());
  }
  SUBCASE("write on the peer's turn, read on ours, finish too early, finish twice") {
    gw::Handshake hi, hr;
    REQUIRE_OK(gw::Handshake::create(options(Role::initiator, name, a, gw::Trust::any()), hi));
    REQUIRE_OK(gw::Handshake::create(options(Role::responder, name, b, gw::Trust::any()), hr));
    CHECK_STATUS(hr.write(msg), Errc::wrong_state);
    CHECK_STATUS(hi.read(Buf(96)), Errc::wrong_state);
    CHECK_STATUS(hi.finish(ch), Errc::wrong_state);
    CHECK_STATUS(hr.finish(ch), Errc::wrong_state);
    CHECK(ch.empty());
    // None of that disturbed the handshake; a moved handshake carries on.
    gw::Handshake moved = std::move(hi);
    const Outcome o = pump(moved, hr);
    INFO(o.status.message);
    REQUIRE(o.done());
    CHECK_STATUS(moved.write(msg), Errc::wrong_state);
    CHECK_STATUS(moved.read(o.messages[1]), Errc::wrong_state);
    gw::Channel ci, cr;
    REQUIRE_OK(moved.finish(ci));
    REQUIRE_OK(hr.finish(cr));
    gw::Channel again;
    CHECK_FALSE(moved.finish(again).ok());
    CHECK(again.empty());
    exchange(ci, cr);
  }
}
