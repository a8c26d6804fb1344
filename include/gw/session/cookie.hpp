// SPDX-License-Identifier: MIT
// Denial-of-service defences of the handshake (docs/PROTOCOL.md, section 7):
// mac1, mac2 and cookies, retry tags, and the "under load" detector.
//
//  * mac1 proves the sender knows the receiver's MAC1 key (section 7.1); it is
//    checked before any Diffie-Hellman.
//  * mac2 proves, under load, that the sender can receive at its source
//    address: it is keyed with a cookie the responder gave to that address
//    (section 7.2). CookieChecker is the responder's side, CookieJar the
//    initiator's (one per peer).
//  * The retry tag (section 4.4) lets a responder recognise, statelessly, the
//    second attempt of an initiation it answered with a retry.
//
// Built on libsodium only: keyed BLAKE2b (crypto_generichash) and
// XChaCha20-Poly1305. MACs are compared in constant time; secrets and cookies
// are wiped when no longer needed.
//
// Pure: `now` and the Rng come in as arguments; nothing here reads a clock.
// Not thread-safe: give each worker its own checker, or lock around it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/session/endpoint.hpp"
#include "gw/time.hpp"
#include "gw/wire/messages.hpp"

namespace gw::session {

using Mac = std::array<std::uint8_t, wire_spec::kMacLen>;
using Hash256 = std::array<std::uint8_t, wire_spec::kHashLen>;

// --- Keys and primitives ---

// A deployment's network key (docs/PROTOCOL.md 7.1): when its members share
// one, every mac1 and cookie key is derived from it as well, so that nobody
// without it can check or forge a mac1, or get any answer.
using NetworkKey = crypto::Secret<wire_spec::kNetworkKeyLen>;

// MAC1_KEY(k) = HASH256("mac1----" || k), or HASH256("mac1----" || NK || k)
// with a network key NK.
Hash256 mac1_key(const crypto::PublicKey& k, const NetworkKey* network = nullptr) noexcept;
// COOKIE_KEY(k) = HASH256("cookie--" || k), or HASH256("cookie--" || NK || k).
Hash256 cookie_key(const crypto::PublicKey& k, const NetworkKey* network = nullptr) noexcept;

// MAC(key, data): keyed BLAKE2b with a 16-byte output. `key` must hold
// crypto_generichash_KEYBYTES_MIN (16) to _MAX (64) bytes; any other length,
// the empty key included (that would be an unkeyed hash), throws
// std::invalid_argument.
Mac keyed_mac(Bytes key, Bytes data);

// HASH256 of an initiation's bytes up to its mac1 (excluded): all but the last
// 32 bytes (mac1 || mac2). Throws std::invalid_argument when `initiation` is
// shorter than 32 bytes; a parsed initiation never is.
Hash256 first_hash(Bytes initiation);

// --- mac1 and mac2 ---
//
// Handshake messages of types 1-3 end in mac1 || mac2 (`has_mac2` true); the
// retry (type 4) ends in mac1 alone (`has_mac2` false). mac1 covers every byte
// before it; mac2 every byte before it, mac1 included.

// Writes mac1 = MAC(key, bytes before mac1) into its place in `datagram`.
// Throws std::invalid_argument when `datagram` cannot hold the MACs.
void stamp_mac1(MutBytes datagram, const Hash256& key, bool has_mac2);
// Writes mac2 = MAC(cookie, bytes before mac2), or 16 zero bytes without a
// cookie, into the last 16 bytes of `datagram`. Stamp mac1 first: mac2 covers
// it. Throws std::invalid_argument when `datagram` cannot hold mac1 || mac2.
void stamp_mac2(MutBytes datagram, const std::optional<Mac>& cookie);
// Whether mac1 in `datagram` is MAC(key, bytes before it), in constant time.
// False for a datagram too short to hold the MACs.
bool mac1_valid(Bytes datagram, const Hash256& key, bool has_mac2) noexcept;

// --- The responder's side ---
//
// The cookie secret: 32 bytes from the Rng, drawn on the first call that takes
// `now`. Secrets live on a schedule of COOKIE_SECRET_LIFETIME (120 s) slots:
// the first call in a later slot draws a fresh secret and keeps the one it
// replaces as the previous secret, which is still accepted for cookies (mac2)
// and retry tags; after an idle gap of two slots or more both are replaced.
// So a secret is accepted for at most two slots after its slot began, and a
// cookie or retry tag for at least one full lifetime after it was made.
//
// mac2 and retry tags are accepted under the previous secret too (PROTOCOL.md
// 7.2). WireGuard keeps a single secret, so there a cookie
// minted just before a rotation fails and costs the initiator one more
// cookie-reply round trip, under load, when round trips are dearest. Keeping
// the previous secret saves it and makes the initiator's 115 s cookie
// lifetime always hold; the cookie stays bound to the source address and its
// validity at the responder stays bounded (240 s at most).
class CookieChecker {
 public:
  // `local_static`: this side's static public key, which keys mac1 of the
  // messages it receives and the cookie replies it sends (with `network`,
  // if the deployment has a network key).
  explicit CookieChecker(const crypto::PublicKey& local_static,
                         const NetworkKey* network = nullptr);

  // mac1 of a received initiation or finish (`has_mac2` true), keyed with
  // MAC1_KEY(local static public key).
  bool mac1_valid(Bytes datagram, bool has_mac2) const noexcept;

  // Whether mac2 (the last 16 bytes) is MAC(cookie, bytes before mac2) with
  // the cookie of `source` under the current or the previous secret. False
  // for a datagram too short for mac1 || mac2 and for an invalid `source`.
  bool mac2_valid(Bytes datagram, const Endpoint& source, Instant now, crypto::Rng& rng);

  // Writes a cookie reply (type 5) into `out`: a random 24-byte nonce, then
  // the cookie of `source` under the current secret encrypted with
  // XChaCha20-Poly1305 under COOKIE_KEY(local static public key), with
  // `triggering_mac1` (the mac1 of the message answered) as associated data.
  // Returns wire_spec::kCookieReplySize, or 0 (nothing usable written) when
  // `out` is too small, `triggering_mac1` is not 16 bytes or `source` is
  // invalid.
  std::size_t write_cookie_reply(MutBytes out, std::uint32_t receiver_index, Bytes triggering_mac1,
                                 const Endpoint& source, Instant now, crypto::Rng& rng);

  // retry_tag = MAC(RETRY_KEY, "gw-retry" || first_hash || suite) with
  // RETRY_KEY = HASH256("retry---" || current secret).
  Mac retry_tag(const Hash256& first_hash, std::uint8_t suite, Instant now, crypto::Rng& rng);
  // Whether `tag` is the retry tag of (first_hash, suite) under the current
  // or the previous secret, in constant time. False if `tag` is not 16 bytes.
  bool retry_tag_valid(const Hash256& first_hash, std::uint8_t suite, Bytes tag, Instant now,
                       crypto::Rng& rng);

  // Under-load detector (PROTOCOL.md 7.2). Time is cut into one-second
  // windows, each starting at the first message after the previous one ended.
  // under_load() records one handshake message and returns true when the
  // count in the current window exceeds the threshold, or always when so
  // configured. A threshold of 0 puts every message under load.
  void set_under_load_threshold(std::uint32_t per_second) noexcept { threshold_ = per_second; }
  void set_always_under_load(bool always) noexcept { always_under_load_ = always; }
  bool under_load(Instant now) noexcept;

 private:
  using CookieSecret = crypto::Secret<cookie_spec::kCookieSecretLen>;

  // Draws the first secret, or rotates when the current one has expired.
  void refresh_secrets(Instant now, crypto::Rng& rng);
  bool mac2_valid_under(const CookieSecret& secret, Bytes datagram, const Endpoint& source) const;

  Hash256 mac1_key_{};
  Hash256 cookie_key_{};  // encrypts the cookie replies we send
  CookieSecret current_;
  CookieSecret previous_;
  bool have_current_ = false;
  bool have_previous_ = false;
  Instant current_drawn_at_{};

  std::uint32_t threshold_ = cookie_spec::kUnderLoadThreshold;
  bool always_under_load_ = false;
  bool window_open_ = false;
  Instant window_start_{};
  std::uint32_t window_count_ = 0;
};

// --- The initiator's side ---
//
// One per peer: the latest cookie that peer's responder gave us, and when.
class CookieJar {
 public:
  CookieJar();

  // Decrypts `reply` with `key`, the responder's COOKIE_KEY, and, as
  // associated data, `last_sent_mac1`: the mac1 of the last handshake
  // message we sent to that responder. On success stores the cookie, received at `now`, in place
  // of any earlier one, and returns true. A reply that fails to decrypt (or
  // whose fields have the wrong sizes) is refused and changes nothing.
  // The caller checks first that reply.receiver_index names its handshake.
  [[nodiscard]] bool consume_reply(const wire::CookieReply& reply, const Hash256& key,
                                   Bytes last_sent_mac1, Instant now);

  // The stored cookie while it is younger than COOKIE_LIFETIME less
  // COOKIE_LIFETIME_MARGIN (115 s); nullopt otherwise.
  std::optional<Mac> cookie(Instant now) const;

  // Forgets (and wipes) the stored cookie.
  void clear() noexcept;

 private:
  crypto::Secret<wire_spec::kMacLen> cookie_;
  bool have_cookie_ = false;
  Instant received_at_{};
};

}  // namespace gw::session
