// SPDX-License-Identifier: MIT
#include "gw/session/cookie.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "gw/crypto/sodium.hpp"

namespace gw::session {

namespace {

using cookie_spec::kLabelLen;
using wire_spec::kCookieNonceSize;
using wire_spec::kCookieReplySize;
using wire_spec::kEncryptedCookieSize;
using wire_spec::kMacLen;

using Label = std::array<std::uint8_t, kLabelLen>;
using Cookie = crypto::Secret<kMacLen>;

constexpr std::chrono::seconds kSecretLifetime{cookie_spec::kCookieSecretLifetimeS};
constexpr std::chrono::seconds kCookieFreshFor{cookie_spec::kCookieLifetimeS -
                                               cookie_spec::kCookieLifetimeMarginS};
constexpr std::chrono::milliseconds kLoadWindow{cookie_spec::kUnderLoadWindowMs};

static_assert(kMacLen >= crypto_generichash_BYTES_MIN && kMacLen <= crypto_generichash_BYTES_MAX);
static_assert(kMacLen >= crypto_generichash_KEYBYTES_MIN);  // a cookie keys mac2
static_assert(wire_spec::kHashLen <= crypto_generichash_KEYBYTES_MAX);
static_assert(cookie_spec::kCookieSecretLen <= crypto_generichash_KEYBYTES_MAX);
static_assert(kCookieNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(wire_spec::kHashLen == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kEncryptedCookieSize == kMacLen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kCookieReplySize == 8 + kCookieNonceSize + kEncryptedCookieSize);

// An 8-character label as bytes; the array argument pins its length.
constexpr Label label(const char (&text)[kLabelLen + 1]) {
  Label out{};
  for (std::size_t i = 0; i < kLabelLen; ++i)
    out[i] = static_cast<std::uint8_t>(text[i]);
  return out;
}

constexpr Label kMac1Label = label(cookie_spec::kMac1Label);
constexpr Label kCookieLabel = label(cookie_spec::kCookieLabel);
constexpr Label kRetryKeyLabel = label(cookie_spec::kRetryKeyLabel);
constexpr Label kRetryTagLabel = label(cookie_spec::kRetryTagLabel);

constexpr std::size_t trailer_size(bool has_mac2) noexcept {
  return has_mac2 ? 2 * kMacLen : kMacLen;
}

// out (32 bytes) = HASH256(a || b). The state is wiped: b may be a secret.
void hash256_into(MutBytes out, Bytes a, Bytes b) noexcept {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, a.data(), a.size());
  crypto_generichash_update(&state, b.data(), b.size());
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof state);
}

Hash256 hash256(Bytes a, Bytes b) noexcept {
  Hash256 out{};
  hash256_into(out, a, b);
  return out;
}

// HASH256(label || NK || k), or HASH256(label || k) without a network key.
Hash256 derived_key(const Label& label, const crypto::PublicKey& k,
                    const NetworkKey* network) noexcept {
  if (network == nullptr) return hash256(label, k);
  Hash256 out{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, label.data(), label.size());
  crypto_generichash_update(&state, network->data(), network->size());
  crypto_generichash_update(&state, k.data(), k.size());
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof state);
  return out;
}

// out (16 bytes) = MAC(key, data); the key length is checked.
void mac_into(MutBytes out, Bytes key, Bytes data) {
  if (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX)
    throw std::invalid_argument("keyed_mac: key must be 16 to 64 bytes");
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), key.data(), key.size());
}

// Constant-time equality of two byte strings of public length.
bool equal_ct(Bytes a, Bytes b) noexcept {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// cookie = MAC(secret, source address || port).
void make_cookie(Bytes secret, const Endpoint& source, Cookie& out) {
  std::array<std::uint8_t, 18> input{};
  const std::size_t n = source.cookie_input(input);
  mac_into(out.bytes(), secret, Bytes(input).first(n));
}

// MAC(RETRY_KEY, "gw-retry" || first_hash || suite), RETRY_KEY = HASH256("retry---" || secret).
Mac make_retry_tag(Bytes secret, const Hash256& first, std::uint8_t suite) {
  crypto::Secret<wire_spec::kHashLen> retry_key;
  hash256_into(retry_key.bytes(), kRetryKeyLabel, secret);
  std::array<std::uint8_t, kLabelLen + wire_spec::kHashLen + 1> input{};
  std::copy(kRetryTagLabel.begin(), kRetryTagLabel.end(), input.begin());
  std::copy(first.begin(), first.end(), input.begin() + kLabelLen);
  input.back() = suite;
  Mac tag{};
  mac_into(tag, retry_key.bytes(), input);
  return tag;
}

}  // namespace

// --- Keys and primitives ---

Hash256 mac1_key(const crypto::PublicKey& k, const NetworkKey* network) noexcept {
  return derived_key(kMac1Label, k, network);
}

Hash256 cookie_key(const crypto::PublicKey& k, const NetworkKey* network) noexcept {
  return derived_key(kCookieLabel, k, network);
}

Mac keyed_mac(Bytes key, Bytes data) {
  Mac out{};
  mac_into(out, key, data);
  return out;
}

Hash256 first_hash(Bytes initiation) {
  if (initiation.size() < wire_spec::kMacsSize)
    throw std::invalid_argument("first_hash: shorter than mac1 || mac2");
  return hash256(initiation.first(initiation.size() - wire_spec::kMacsSize), {});
}

// --- mac1 and mac2 ---

void stamp_mac1(MutBytes datagram, const Hash256& key, bool has_mac2) {
  const std::size_t trailer = trailer_size(has_mac2);
  if (datagram.size() < trailer) throw std::invalid_argument("stamp_mac1: datagram too short");
  const std::size_t at = datagram.size() - trailer;
  const Mac mac = keyed_mac(key, datagram.first(at));
  std::copy(mac.begin(), mac.end(), datagram.begin() + static_cast<std::ptrdiff_t>(at));
}

void stamp_mac2(MutBytes datagram, const std::optional<Mac>& cookie) {
  if (datagram.size() < wire_spec::kMacsSize)
    throw std::invalid_argument("stamp_mac2: datagram too short");
  const std::size_t at = datagram.size() - kMacLen;
  Mac mac{};
  if (cookie) mac = keyed_mac(*cookie, datagram.first(at));
  std::copy(mac.begin(), mac.end(), datagram.begin() + static_cast<std::ptrdiff_t>(at));
}

bool mac1_valid(Bytes datagram, const Hash256& key, bool has_mac2) noexcept {
  const std::size_t trailer = trailer_size(has_mac2);
  if (datagram.size() < trailer) return false;
  const std::size_t at = datagram.size() - trailer;
  Mac expected{};
  mac_into(expected, key, datagram.first(at));  // a 32-byte key: never throws
  return equal_ct(expected, datagram.subspan(at, kMacLen));
}

// --- CookieChecker ---

CookieChecker::CookieChecker(const crypto::PublicKey& local_static, const NetworkKey* network)
    : mac1_key_(mac1_key(local_static, network)), cookie_key_(cookie_key(local_static, network)) {
  crypto::ensure_sodium();
}

bool CookieChecker::mac1_valid(Bytes datagram, bool has_mac2) const noexcept {
  return session::mac1_valid(datagram, mac1_key_, has_mac2);
}

void CookieChecker::refresh_secrets(Instant now, crypto::Rng& rng) {
  const bool expired = have_current_ && now - current_drawn_at_ >= kSecretLifetime;
  if (have_current_ && !expired) return;
  if (expired && now - current_drawn_at_ < 2 * kSecretLifetime) {
    // One rotation: keep the schedule, so that no secret is accepted more
    // than two lifetimes after its (scheduled) draw.
    previous_ = current_;
    have_previous_ = true;
    current_drawn_at_ += kSecretLifetime;
  } else {
    // First use, or idle for two lifetimes: both secrets are stale.
    previous_.wipe();
    have_previous_ = false;
    current_drawn_at_ = now;
  }
  rng.fill(current_.bytes());
  have_current_ = true;
}

bool CookieChecker::mac2_valid_under(const CookieSecret& secret, Bytes datagram,
                                     const Endpoint& source) const {
  Cookie cookie;
  make_cookie(secret.bytes(), source, cookie);
  const std::size_t at = datagram.size() - kMacLen;
  Mac expected{};
  mac_into(expected, cookie.bytes(), datagram.first(at));
  return equal_ct(expected, datagram.subspan(at));
}

bool CookieChecker::mac2_valid(Bytes datagram, const Endpoint& source, Instant now,
                               crypto::Rng& rng) {
  if (datagram.size() < wire_spec::kMacsSize || !source.valid()) return false;
  refresh_secrets(now, rng);
  const bool current_ok = mac2_valid_under(current_, datagram, source);
  const bool previous_ok = have_previous_ && mac2_valid_under(previous_, datagram, source);
  return current_ok || previous_ok;
}

std::size_t CookieChecker::write_cookie_reply(MutBytes out, std::uint32_t receiver_index,
                                              Bytes triggering_mac1, const Endpoint& source,
                                              Instant now, crypto::Rng& rng) {
  if (out.size() < kCookieReplySize || triggering_mac1.size() != kMacLen || !source.valid())
    return 0;
  refresh_secrets(now, rng);
  Cookie cookie;
  make_cookie(current_.bytes(), source, cookie);
  std::array<std::uint8_t, kCookieNonceSize> nonce{};
  rng.fill(nonce);
  std::array<std::uint8_t, kEncryptedCookieSize> sealed{};
  unsigned long long sealed_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      sealed.data(), &sealed_len, cookie.data(), cookie.size(), triggering_mac1.data(),
      triggering_mac1.size(), nullptr, nonce.data(), cookie_key_.data());
  return wire::write_cookie_reply(out, receiver_index, nonce, sealed);
}

Mac CookieChecker::retry_tag(const Hash256& first, std::uint8_t suite, Instant now,
                             crypto::Rng& rng) {
  refresh_secrets(now, rng);
  return make_retry_tag(current_.bytes(), first, suite);
}

bool CookieChecker::retry_tag_valid(const Hash256& first, std::uint8_t suite, Bytes tag,
                                    Instant now, crypto::Rng& rng) {
  if (tag.size() != kMacLen) return false;
  refresh_secrets(now, rng);
  const bool current_ok = equal_ct(make_retry_tag(current_.bytes(), first, suite), tag);
  const bool previous_ok =
      have_previous_ && equal_ct(make_retry_tag(previous_.bytes(), first, suite), tag);
  return current_ok || previous_ok;
}

bool CookieChecker::under_load(Instant now) noexcept {
  if (!window_open_ || now - window_start_ >= kLoadWindow) {
    window_open_ = true;
    window_start_ = now;
    window_count_ = 0;
  }
  if (window_count_ < std::numeric_limits<std::uint32_t>::max()) ++window_count_;
  return always_under_load_ || window_count_ > threshold_;
}

// --- CookieJar ---

CookieJar::CookieJar() {
  crypto::ensure_sodium();
}

bool CookieJar::consume_reply(const wire::CookieReply& reply, const Hash256& key,
                              Bytes last_sent_mac1, Instant now) {
  if (reply.nonce.size() != kCookieNonceSize ||
      reply.encrypted_cookie.size() != kEncryptedCookieSize || last_sent_mac1.size() != kMacLen)
    return false;
  Cookie opened;
  unsigned long long opened_len = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      opened.data(), &opened_len, nullptr, reply.encrypted_cookie.data(),
      reply.encrypted_cookie.size(), last_sent_mac1.data(), last_sent_mac1.size(),
      reply.nonce.data(), key.data());
  if (rc != 0 || opened_len != kMacLen) return false;
  cookie_ = opened;
  have_cookie_ = true;
  received_at_ = now;
  return true;
}

std::optional<Mac> CookieJar::cookie(Instant now) const {
  if (!have_cookie_ || now - received_at_ >= kCookieFreshFor) return std::nullopt;
  Mac out{};
  std::copy(cookie_.bytes().begin(), cookie_.bytes().end(), out.begin());
  return out;
}

void CookieJar::clear() noexcept {
  cookie_.wipe();
  have_cookie_ = false;
  received_at_ = Instant{};
}

}  // namespace gw::session
