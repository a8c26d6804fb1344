// SPDX-License-Identifier: MIT
// The DoS defences (include/gw/session/cookie.hpp): mac1, mac2 and cookies,
// cookie replies, retry tags and the under-load detector, driven by a fake
// clock (`now` is an Instant the test picks) and a deterministic Rng.
#include <doctest/doctest.h>

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "gw/constants.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/session/cookie.hpp"
#include "gw/session/endpoint.hpp"
#include "gw/time.hpp"
#include "gw/wire/messages.hpp"
#include "support/fake_rng.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::Instant;
using gw::MutBytes;
using gw::crypto::PublicKey;
using gw::session::CookieChecker;
using gw::session::CookieJar;
using gw::session::Endpoint;
using gw::session::Hash256;
using gw::session::Mac;
using gw::test::FakeRng;
using gw::wire_spec::kCookieReplySize;
using gw::wire_spec::kMacLen;
using gw::wire_spec::kMacsSize;

namespace {

Instant at(std::int64_t seconds) {
  return Instant{} + std::chrono::seconds(seconds);
}

PublicKey key_of(std::uint8_t start) {
  PublicKey k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(start + 3 * i);
  return k;
}

const PublicKey kResponder = key_of(0x10);
const PublicKey kOtherResponder = key_of(0x20);
const Endpoint kSource = Endpoint::ipv4({192, 0, 2, 1}, 51820);

// An 80-byte initiation-shaped datagram (the MACs are the last 32 bytes).
std::vector<std::uint8_t> initiation(std::uint8_t start = 0) {
  std::vector<std::uint8_t> m = gw::test::counting_bytes(80, start);
  m[0] = 1;
  return m;
}

// A 40-byte retry-shaped datagram (mac1 is the last 16 bytes, no mac2).
std::vector<std::uint8_t> retry_message() {
  std::vector<std::uint8_t> m = gw::test::counting_bytes(gw::wire_spec::kRetrySize, 0x40);
  m[0] = 4;
  return m;
}

Bytes mac1_of(const std::vector<std::uint8_t>& m) {
  return Bytes(m).subspan(m.size() - kMacsSize, kMacLen);
}

// An initiation to kResponder with mac1 and, from `cookie`, mac2.
std::vector<std::uint8_t> stamped(const std::optional<Mac>& cookie, std::uint8_t start = 0) {
  std::vector<std::uint8_t> m = initiation(start);
  gw::session::stamp_mac1(m, gw::session::mac1_key(kResponder), true);
  gw::session::stamp_mac2(m, cookie);
  return m;
}

// Writes a cookie reply answering `answered` and parses it.
std::array<std::uint8_t, kCookieReplySize> reply_bytes(CookieChecker& checker,
                                                       const std::vector<std::uint8_t>& answered,
                                                       const Endpoint& source, Instant now,
                                                       gw::crypto::Rng& rng) {
  std::array<std::uint8_t, kCookieReplySize> out{};
  REQUIRE(checker.write_cookie_reply(out, 0x01020304, mac1_of(answered), source, now, rng) ==
          kCookieReplySize);
  return out;
}

gw::wire::CookieReply parsed(const std::array<std::uint8_t, kCookieReplySize>& bytes) {
  gw::wire::CookieReply reply;
  REQUIRE(gw::wire::parse_cookie_reply(bytes, reply) == gw::wire::ParseStatus::ok);
  return reply;
}

// The whole exchange: an initiation, the checker's reply, a jar that keeps it.
Mac obtain_cookie(CookieChecker& checker, const Endpoint& source, Instant now,
                  gw::crypto::Rng& rng) {
  const std::vector<std::uint8_t> sent = stamped(std::nullopt);
  const auto bytes = reply_bytes(checker, sent, source, now, rng);
  CookieJar jar;
  REQUIRE(
      jar.consume_reply(parsed(bytes), gw::session::cookie_key(kResponder), mac1_of(sent), now));
  const std::optional<Mac> cookie = jar.cookie(now);
  REQUIRE(cookie.has_value());
  return *cookie;
}

bool mac2_passes(CookieChecker& checker, const std::optional<Mac>& cookie, const Endpoint& source,
                 Instant now, gw::crypto::Rng& rng) {
  return checker.mac2_valid(stamped(cookie), source, now, rng);
}

void flip(MutBytes m, std::size_t bit) {
  m[bit / 8] = static_cast<std::uint8_t>(m[bit / 8] ^ (1u << (bit % 8)));
}

// HASH256(label || data), straight from libsodium.
Hash256 reference_hash256(const char* label, Bytes data) {
  std::vector<std::uint8_t> input(label, label + 8);
  input.insert(input.end(), data.begin(), data.end());
  Hash256 out{};
  crypto_generichash(out.data(), out.size(), input.data(), input.size(), nullptr, 0);
  return out;
}

}  // namespace

// --- Keys and primitives ---

TEST_CASE("cookie: the constants are PROTOCOL.md's") {
  CHECK(gw::cookie_spec::kCookieSecretLifetimeS == 120);
  CHECK(gw::cookie_spec::kCookieLifetimeS == 120);
  CHECK(gw::cookie_spec::kCookieLifetimeMarginS == 5);
  CHECK(gw::cookie_spec::kUnderLoadThreshold == 64);
  CHECK(gw::cookie_spec::kCookieSecretLen == 32);
}

TEST_CASE("cookie: mac1_key, cookie_key, keyed_mac and first_hash follow their definitions") {
  CHECK(gw::session::mac1_key(kResponder) == reference_hash256("mac1----", kResponder));
  CHECK(gw::session::cookie_key(kResponder) == reference_hash256("cookie--", kResponder));
  CHECK(gw::session::mac1_key(kResponder) != gw::session::mac1_key(kOtherResponder));

  const std::vector<std::uint8_t> data = gw::test::counting_bytes(50);
  const Hash256 key = gw::session::cookie_key(kResponder);
  Mac expected{};
  crypto_generichash(expected.data(), expected.size(), data.data(), data.size(), key.data(),
                     key.size());
  CHECK(gw::session::keyed_mac(key, data) == expected);

  const std::vector<std::uint8_t> m = stamped(std::nullopt);
  Hash256 first{};
  crypto_generichash(first.data(), first.size(), m.data(), m.size() - kMacsSize, nullptr, 0);
  CHECK(gw::session::first_hash(m) == first);
}

TEST_CASE("cookie: keyed_mac refuses keys outside 16..64 bytes; short datagrams are refused") {
  const std::vector<std::uint8_t> data(10, 1);
  CHECK_THROWS_AS(gw::session::keyed_mac({}, data), std::invalid_argument);
  CHECK_THROWS_AS(gw::session::keyed_mac(std::vector<std::uint8_t>(15), data),
                  std::invalid_argument);
  CHECK_THROWS_AS(gw::session::keyed_mac(std::vector<std::uint8_t>(65), data),
                  std::invalid_argument);
  CHECK_NOTHROW(gw::session::keyed_mac(std::vector<std::uint8_t>(16), data));
  CHECK_NOTHROW(gw::session::keyed_mac(std::vector<std::uint8_t>(64), data));

  std::vector<std::uint8_t> tiny(kMacsSize - 1);
  const Hash256 key = gw::session::mac1_key(kResponder);
  CHECK_THROWS_AS(gw::session::first_hash(tiny), std::invalid_argument);
  CHECK_THROWS_AS(gw::session::stamp_mac1(tiny, key, true), std::invalid_argument);
  CHECK_THROWS_AS(gw::session::stamp_mac2(tiny, std::nullopt), std::invalid_argument);
  CHECK_FALSE(gw::session::mac1_valid(tiny, key, true));
  CHECK_FALSE(gw::session::mac1_valid(Bytes(tiny).first(kMacLen - 1), key, false));
}

// --- mac1 ---

TEST_CASE("mac1: round trip, and every flipped bit of the covered bytes or of mac1 fails") {
  const Hash256 key = gw::session::mac1_key(kResponder);
  for (const bool has_mac2 : {true, false}) {
    CAPTURE(has_mac2);
    std::vector<std::uint8_t> m = has_mac2 ? initiation() : retry_message();
    gw::session::stamp_mac1(m, key, has_mac2);
    REQUIRE(gw::session::mac1_valid(m, key, has_mac2));
    const std::size_t mac1_end = m.size() - (has_mac2 ? kMacLen : 0);
    int accepted = 0;
    for (std::size_t bit = 0; bit < 8 * mac1_end; ++bit) {
      flip(m, bit);
      accepted += gw::session::mac1_valid(m, key, has_mac2) ? 1 : 0;
      flip(m, bit);
    }
    CHECK(accepted == 0);
    CHECK(gw::session::mac1_valid(m, key, has_mac2));
  }
}

TEST_CASE("mac1: mac2 is not covered by mac1, and stamping mac2 leaves mac1 valid") {
  const Hash256 key = gw::session::mac1_key(kResponder);
  std::vector<std::uint8_t> m = stamped(std::nullopt);
  CHECK(gw::session::mac1_valid(m, key, true));
  m.back() ^= 0xff;
  CHECK(gw::session::mac1_valid(m, key, true));
  CHECK(std::vector<std::uint8_t>(m.end() - 16, m.end() - 1) == std::vector<std::uint8_t>(15, 0));
}

TEST_CASE("mac1: keyed with another key fails") {
  const std::vector<std::uint8_t> m = stamped(std::nullopt);
  CHECK(gw::session::mac1_valid(m, gw::session::mac1_key(kResponder), true));
  CHECK_FALSE(gw::session::mac1_valid(m, gw::session::mac1_key(kOtherResponder), true));
  // The cookie key of the right responder is not its mac1 key either.
  CHECK_FALSE(gw::session::mac1_valid(m, gw::session::cookie_key(kResponder), true));
  CHECK(CookieChecker(kResponder).mac1_valid(m, true));
  CHECK_FALSE(CookieChecker(kOtherResponder).mac1_valid(m, true));
  // Read as a message without mac2, the MAC sits in the wrong place.
  CHECK_FALSE(CookieChecker(kResponder).mac1_valid(m, false));
}

// --- mac2 and cookies ---

TEST_CASE("mac2: the cookie is MAC(secret, address || port little-endian)") {
  FakeRng rng(7);
  FakeRng twin(7);  // draws the same secret as the checker's first draw
  CookieChecker checker(kResponder);
  const Mac cookie = obtain_cookie(checker, kSource, at(0), rng);

  std::array<std::uint8_t, 32> secret{};
  twin.fill(secret);
  const std::array<std::uint8_t, 6> input = {192, 0, 2, 1, 51820 & 0xff, 51820 >> 8};
  CHECK(cookie == gw::session::keyed_mac(secret, input));
}

TEST_CASE("mac2: the right cookie passes; another address or port, or no cookie, fails") {
  FakeRng rng(1);
  CookieChecker checker(kResponder);
  const Mac cookie = obtain_cookie(checker, kSource, at(0), rng);

  CHECK(mac2_passes(checker, cookie, kSource, at(1), rng));
  CHECK_FALSE(mac2_passes(checker, cookie, Endpoint::ipv4({192, 0, 2, 2}, 51820), at(1), rng));
  CHECK_FALSE(mac2_passes(checker, cookie, Endpoint::ipv4({192, 0, 2, 1}, 51821), at(1), rng));
  std::array<std::uint8_t, 16> v6{192, 0, 2, 1};
  CHECK_FALSE(mac2_passes(checker, cookie, Endpoint::ipv6(v6, 51820), at(1), rng));
  CHECK_FALSE(mac2_passes(checker, std::nullopt, kSource, at(1), rng));
  CHECK_FALSE(mac2_passes(checker, cookie, Endpoint{}, at(1), rng));

  // Another responder's cookie, for the same source, does not pass.
  CookieChecker other(kResponder);
  FakeRng other_rng(2);
  const Mac foreign = obtain_cookie(other, kSource, at(0), other_rng);
  CHECK(foreign != cookie);
  CHECK_FALSE(mac2_passes(checker, foreign, kSource, at(1), rng));
}

TEST_CASE("mac2: covers mac1 and every byte before it") {
  FakeRng rng(3);
  CookieChecker checker(kResponder);
  const Mac cookie = obtain_cookie(checker, kSource, at(0), rng);
  std::vector<std::uint8_t> m = stamped(cookie);
  REQUIRE(checker.mac2_valid(m, kSource, at(0), rng));
  int accepted = 0;
  for (std::size_t bit = 0; bit < 8 * m.size(); ++bit) {
    flip(m, bit);
    accepted += checker.mac2_valid(m, kSource, at(0), rng) ? 1 : 0;
    flip(m, bit);
  }
  CHECK(accepted == 0);
  CHECK_FALSE(checker.mac2_valid(Bytes(m).first(kMacsSize - 1), kSource, at(0), rng));
}

TEST_CASE("cookie: secret rotation at 120 s keeps one previous secret") {
  FakeRng rng(4);
  CookieChecker checker(kResponder);
  const Mac old_cookie = obtain_cookie(checker, kSource, at(0), rng);

  CHECK(mac2_passes(checker, old_cookie, kSource, at(119), rng));
  CHECK(mac2_passes(checker, old_cookie, kSource, at(120), rng));  // one rotation
  const Mac new_cookie = obtain_cookie(checker, kSource, at(120), rng);
  CHECK(new_cookie != old_cookie);
  CHECK(mac2_passes(checker, old_cookie, kSource, at(239), rng));
  CHECK(mac2_passes(checker, new_cookie, kSource, at(239), rng));
  CHECK_FALSE(mac2_passes(checker, old_cookie, kSource, at(240), rng));  // two rotations
  CHECK(mac2_passes(checker, new_cookie, kSource, at(240), rng));
  CHECK_FALSE(mac2_passes(checker, new_cookie, kSource, at(360), rng));
}

TEST_CASE("cookie: rotation keeps its schedule, and an idle gap replaces both secrets") {
  SUBCASE("late rotations stay on the 120 s slots") {
    FakeRng rng(5);
    CookieChecker checker(kResponder);
    const Mac cookie = obtain_cookie(checker, kSource, at(0), rng);
    CHECK(mac2_passes(checker, cookie, kSource, at(130), rng));  // rotated in slot 120
    CHECK_FALSE(mac2_passes(checker, cookie, kSource, at(240), rng));
  }
  SUBCASE("idle for two lifetimes") {
    FakeRng rng(6);
    CookieChecker checker(kResponder);
    const Mac cookie = obtain_cookie(checker, kSource, at(0), rng);
    CHECK_FALSE(mac2_passes(checker, cookie, kSource, at(250), rng));
    const Mac fresh = obtain_cookie(checker, kSource, at(250), rng);
    CHECK(mac2_passes(checker, fresh, kSource, at(369), rng));
    CHECK(mac2_passes(checker, fresh, kSource, at(370), rng));  // slot restarted at 250
  }
}

// --- Cookie replies and the jar ---

TEST_CASE("cookie reply: round trip through CookieJar makes mac2 pass") {
  FakeRng rng(8);
  CookieChecker checker(kResponder);
  const std::vector<std::uint8_t> sent = stamped(std::nullopt);
  REQUIRE(checker.mac1_valid(sent, true));
  CHECK_FALSE(checker.mac2_valid(sent, kSource, at(3), rng));

  const auto bytes = reply_bytes(checker, sent, kSource, at(3), rng);
  CHECK(bytes[0] == 5);
  const gw::wire::CookieReply reply = parsed(bytes);
  CHECK(reply.receiver_index == 0x01020304);

  CookieJar jar;
  CHECK_FALSE(jar.cookie(at(3)).has_value());
  REQUIRE(jar.consume_reply(reply, gw::session::cookie_key(kResponder), mac1_of(sent), at(3)));
  const std::vector<std::uint8_t> again = stamped(jar.cookie(at(4)), 1);
  CHECK(checker.mac1_valid(again, true));
  CHECK(checker.mac2_valid(again, kSource, at(4), rng));

  // Each reply draws a fresh nonce.
  const auto second = reply_bytes(checker, sent, kSource, at(3), rng);
  CHECK(gw::test::to_vector(Bytes(second).subspan(8, 24)) !=
        gw::test::to_vector(Bytes(bytes).subspan(8, 24)));
}

TEST_CASE("cookie reply: wrong ad, a tampered byte or another responder's key is refused") {
  FakeRng rng(9);
  CookieChecker checker(kResponder);
  const std::vector<std::uint8_t> sent = stamped(std::nullopt);
  auto bytes = reply_bytes(checker, sent, kSource, at(0), rng);
  CookieJar jar;

  SUBCASE("the ad is the mac1 of another message") {
    const std::vector<std::uint8_t> other = stamped(std::nullopt, 9);
    REQUIRE(gw::test::to_vector(mac1_of(other)) != gw::test::to_vector(mac1_of(sent)));
    CHECK_FALSE(jar.consume_reply(parsed(bytes), gw::session::cookie_key(kResponder),
                                  mac1_of(other), at(0)));
  }
  SUBCASE("every byte of the nonce and of the encrypted cookie") {
    int accepted = 0;
    for (std::size_t i = 8; i < bytes.size(); ++i) {
      bytes[i] ^= 0x01;
      accepted += jar.consume_reply(parsed(bytes), gw::session::cookie_key(kResponder),
                                    mac1_of(sent), at(0))
                      ? 1
                      : 0;
      bytes[i] ^= 0x01;
    }
    CHECK(accepted == 0);
  }
  SUBCASE("decrypted with another responder's key") {
    CHECK_FALSE(jar.consume_reply(parsed(bytes), gw::session::cookie_key(kOtherResponder),
                                  mac1_of(sent), at(0)));
  }
  SUBCASE("fields of the wrong size") {
    gw::wire::CookieReply reply = parsed(bytes);
    CHECK_FALSE(jar.consume_reply(reply, gw::session::cookie_key(kResponder),
                                  mac1_of(sent).first(15), at(0)));
    reply.nonce = reply.nonce.first(23);
    CHECK_FALSE(
        jar.consume_reply(reply, gw::session::cookie_key(kResponder), mac1_of(sent), at(0)));
  }
  CHECK_FALSE(jar.cookie(at(0)).has_value());
  CHECK(
      jar.consume_reply(parsed(bytes), gw::session::cookie_key(kResponder), mac1_of(sent), at(0)));
}

TEST_CASE("cookie reply: a refused reply leaves the stored cookie and its age alone") {
  FakeRng rng(10);
  CookieChecker checker(kResponder);
  const std::vector<std::uint8_t> sent = stamped(std::nullopt);
  CookieJar jar;
  REQUIRE(jar.consume_reply(parsed(reply_bytes(checker, sent, kSource, at(0), rng)),
                            gw::session::cookie_key(kResponder), mac1_of(sent), at(0)));
  const std::optional<Mac> before = jar.cookie(at(0));

  auto bad = reply_bytes(checker, sent, Endpoint::ipv4({198, 51, 100, 7}, 9), at(50), rng);
  bad.back() ^= 0x80;
  CHECK_FALSE(
      jar.consume_reply(parsed(bad), gw::session::cookie_key(kResponder), mac1_of(sent), at(50)));
  CHECK(jar.cookie(at(50)) == before);
  CHECK_FALSE(jar.cookie(at(115)).has_value());  // still aged from 0, not 50
}

TEST_CASE("cookie reply: the writer refuses bad arguments") {
  FakeRng rng(11);
  CookieChecker checker(kResponder);
  const std::vector<std::uint8_t> sent = stamped(std::nullopt);
  std::array<std::uint8_t, kCookieReplySize> out{};
  CHECK(checker.write_cookie_reply(MutBytes(out).first(kCookieReplySize - 1), 1, mac1_of(sent),
                                   kSource, at(0), rng) == 0);
  CHECK(checker.write_cookie_reply(out, 1, mac1_of(sent).first(15), kSource, at(0), rng) == 0);
  CHECK(checker.write_cookie_reply(out, 1, mac1_of(sent), Endpoint{}, at(0), rng) == 0);
}

TEST_CASE("cookie jar: a cookie is kept for 120 s less 5 s") {
  FakeRng rng(12);
  CookieChecker checker(kResponder);
  const std::vector<std::uint8_t> sent = stamped(std::nullopt);
  const auto bytes = reply_bytes(checker, sent, kSource, at(10), rng);
  CookieJar jar;
  REQUIRE(
      jar.consume_reply(parsed(bytes), gw::session::cookie_key(kResponder), mac1_of(sent), at(10)));
  CHECK(jar.cookie(at(10)).has_value());
  CHECK(jar.cookie(at(124)).has_value());
  CHECK(jar.cookie(at(10) + std::chrono::milliseconds(114'999)).has_value());
  CHECK_FALSE(jar.cookie(at(125)).has_value());  // 115 s old

  // A new reply starts the clock again; clear() forgets.
  REQUIRE(jar.consume_reply(parsed(bytes), gw::session::cookie_key(kResponder), mac1_of(sent),
                            at(200)));
  CHECK(jar.cookie(at(314)).has_value());
  jar.clear();
  CHECK_FALSE(jar.cookie(at(200)).has_value());
}

// --- Retry tags ---

TEST_CASE("retry: the tag is MAC(HASH256(\"retry---\" || secret), \"gw-retry\" || hash || suite)") {
  FakeRng rng(13);
  FakeRng twin(13);
  CookieChecker checker(kResponder);
  const Hash256 first = gw::session::first_hash(stamped(std::nullopt));
  const Mac tag = checker.retry_tag(first, 2, at(0), rng);

  std::array<std::uint8_t, 32> secret{};
  twin.fill(secret);
  const Hash256 retry_key = reference_hash256("retry---", secret);
  std::vector<std::uint8_t> input = gw::test::to_vector(gw::test::as_bytes("gw-retry"));
  input.insert(input.end(), first.begin(), first.end());
  input.push_back(2);
  CHECK(tag == gw::session::keyed_mac(retry_key, input));
}

TEST_CASE("retry: the tag is valid and bound to first_hash and suite") {
  FakeRng rng(14);
  CookieChecker checker(kResponder);
  const Hash256 first = gw::session::first_hash(stamped(std::nullopt));
  Mac tag = checker.retry_tag(first, 2, at(0), rng);
  CHECK(checker.retry_tag_valid(first, 2, tag, at(1), rng));
  CHECK_FALSE(checker.retry_tag_valid(first, 1, tag, at(1), rng));
  CHECK_FALSE(checker.retry_tag_valid(first, 3, tag, at(1), rng));
  CHECK_FALSE(checker.retry_tag_valid(gw::session::first_hash(stamped(std::nullopt, 1)), 2, tag,
                                      at(1), rng));
  Hash256 changed = first;
  int accepted = 0;
  for (std::size_t bit = 0; bit < 8 * changed.size(); ++bit) {
    flip(changed, bit);
    accepted += checker.retry_tag_valid(changed, 2, tag, at(1), rng) ? 1 : 0;
    flip(changed, bit);
  }
  CHECK(accepted == 0);
  flip(tag, 127);
  CHECK_FALSE(checker.retry_tag_valid(first, 2, tag, at(1), rng));
  flip(tag, 127);
  CHECK_FALSE(checker.retry_tag_valid(first, 2, Bytes(tag).first(15), at(1), rng));
  // Another responder (another secret) does not accept it.
  CookieChecker other(kResponder);
  CHECK_FALSE(other.retry_tag_valid(first, 2, tag, at(1), rng));
}

TEST_CASE("retry: a tag is valid across one rotation and not two") {
  FakeRng rng(15);
  CookieChecker checker(kResponder);
  const Hash256 first = gw::session::first_hash(stamped(std::nullopt));
  const Mac tag = checker.retry_tag(first, 1, at(0), rng);
  CHECK(checker.retry_tag_valid(first, 1, tag, at(119), rng));
  CHECK(checker.retry_tag_valid(first, 1, tag, at(120), rng));
  CHECK(checker.retry_tag(first, 1, at(120), rng) != tag);
  CHECK(checker.retry_tag_valid(first, 1, tag, at(239), rng));
  CHECK_FALSE(checker.retry_tag_valid(first, 1, tag, at(240), rng));
}

// --- Under load ---

TEST_CASE("under load: more than the threshold in one second") {
  CookieChecker checker(kResponder);
  checker.set_under_load_threshold(3);
  const Instant t = at(100);
  CHECK_FALSE(checker.under_load(t));
  CHECK_FALSE(checker.under_load(t + std::chrono::milliseconds(10)));
  CHECK_FALSE(checker.under_load(t + std::chrono::milliseconds(20)));
  CHECK(checker.under_load(t + std::chrono::milliseconds(30)));  // the 4th
  CHECK(checker.under_load(t + std::chrono::milliseconds(999)));
  // A new window starts one second after the last one began.
  CHECK_FALSE(checker.under_load(t + std::chrono::milliseconds(1000)));
  CHECK_FALSE(checker.under_load(t + std::chrono::milliseconds(1001)));
  CHECK_FALSE(checker.under_load(t + std::chrono::milliseconds(1002)));
  CHECK(checker.under_load(t + std::chrono::milliseconds(1003)));
  CHECK_FALSE(checker.under_load(t + std::chrono::seconds(60)));
}

TEST_CASE("under load: the default threshold is 64 per second") {
  CookieChecker checker(kResponder);
  int under = 0;
  for (int i = 0; i < 64; ++i)
    under += checker.under_load(at(5)) ? 1 : 0;
  CHECK(under == 0);
  CHECK(checker.under_load(at(5)));
}

TEST_CASE("under load: always, when so configured; a threshold of 0 loads every message") {
  CookieChecker checker(kResponder);
  checker.set_always_under_load(true);
  CHECK(checker.under_load(at(0)));
  checker.set_always_under_load(false);
  CHECK_FALSE(checker.under_load(at(0)));
  checker.set_under_load_threshold(0);
  CHECK(checker.under_load(at(10)));
}
