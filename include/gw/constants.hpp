// SPDX-License-Identifier: MIT
// Every protocol number in gw, in one place. Other files never repeat a number.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace gw {

// --- Specification constants: the Noise Protocol Framework, revision 34 ---
namespace noise_spec {
inline constexpr std::size_t kDhLen = 32;             // X25519 public key, shared secret
inline constexpr std::size_t kKeyLen = 32;            // cipher key
inline constexpr std::size_t kTagLen = 16;            // AEAD authentication tag
inline constexpr std::size_t kNonceLen = 12;          // AEAD nonce: 4 zero bytes + 64-bit counter
inline constexpr std::size_t kPskLen = 32;            // pre-shared symmetric key
inline constexpr std::size_t kMaxMessageLen = 65535;  // any Noise message, handshake or transport
inline constexpr std::size_t kMaxHashLen = 64;        // BLAKE2b and SHA-512
inline constexpr std::size_t kMaxBlockLen = 128;      // BLAKE2b and SHA-512 blocks
inline constexpr std::uint64_t kMaxNonce = ~std::uint64_t{0};  // reserved: 2^64-1, used by Rekey
}  // namespace noise_spec

// --- Implementation constants ---
namespace noise_impl {
inline constexpr std::size_t kMaxProtocolNameLen = 127;  // longest protocol name accepted
inline constexpr std::size_t kMaxPatternMessages = 6;    // handshake messages per pattern
inline constexpr std::size_t kMaxTokensPerMessage = 8;   // tokens in one message pattern
inline constexpr std::size_t kMaxPsks = 8;               // psk modifiers in one name
}  // namespace noise_impl

// --- Specification constants: gw's wire protocol (docs/PROTOCOL.md) ---
namespace wire_spec {
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kMacLen = 16;              // mac1, mac2, cookie, retry tag
inline constexpr std::size_t kHashLen = 32;             // HASH256: first_hash, MAC keys
inline constexpr std::size_t kMaxHandshakeSize = 1232;  // IPv6 minimum MTU 1280 less 48

// Initiation (type 1)
inline constexpr std::uint8_t kFlagPsk = 0x01;          // the pattern is XXpsk3
inline constexpr std::uint8_t kFlagRetried = 0x02;      // second attempt, after a retry
inline constexpr std::uint8_t kFlagCertificate = 0x04;  // send your certificate in message 2
inline constexpr std::size_t kInitiationHeaderSize = 8;
inline constexpr std::size_t kRetryBlockSize = kHashLen + kMacLen;  // first_hash || retry_tag
inline constexpr std::size_t kMaxOfferedSuites = 6;
inline constexpr std::size_t kOfferSize = 2 + kMaxOfferedSuites;  // version, count, suites

// Response (type 2), finish (type 3): header, then the Noise message, then mac1.
// Only initiations carry mac2 (the cookie).
inline constexpr std::size_t kResponseHeaderSize = 12;
inline constexpr std::size_t kFinishHeaderSize = 8;
inline constexpr std::size_t kMacsSize = 2 * kMacLen;
inline constexpr std::size_t kMinExtensionListSize = 2;  // version, count
// e || s+tag || payload+tag, and s+tag || payload+tag
inline constexpr std::size_t kResponseMinSize =
    kResponseHeaderSize + 32 + 48 + kMinExtensionListSize + 16 + kMacLen;
inline constexpr std::size_t kFinishMinSize =
    kFinishHeaderSize + 48 + kMinExtensionListSize + 16 + kMacLen;

// Initiation versions. Byte 3 is the version: version 1 writes 0 there (it was a
// reserved zero), a later version N writes N. Every version keeps bytes 0 and
// 3 where they are and ends with mac1 || mac2, so a receiver tells a later
// version apart before it knows its size (PROTOCOL.md 4.1).
inline constexpr std::size_t kInitiationVersionOffset = 3;
inline constexpr std::uint8_t kInitiationVersionV1 = 0;
inline constexpr std::size_t kMinInitiationAnyVersion = kInitiationHeaderSize + kMacsSize;

// Retry (type 4), cookie reply (type 5): fixed sizes
inline constexpr std::size_t kRetrySize = 8 + kMacLen + kMacLen;  // header, tag, mac1
inline constexpr std::size_t kCookieNonceSize = 24;               // XChaCha20-Poly1305
inline constexpr std::size_t kEncryptedCookieSize = kMacLen + 16;
inline constexpr std::size_t kCookieReplySize = 8 + kCookieNonceSize + kEncryptedCookieSize;

// Transport (type 6)
inline constexpr std::size_t kTransportHeaderSize = 16;  // type, reserved, index, counter
inline constexpr std::size_t kTransportMinSize = kTransportHeaderSize + 16;  // a keepalive
inline constexpr std::size_t kPaddingMultiple = 16;

// Extension list (payload of messages 2 and 3)
inline constexpr std::uint8_t kExtensionListVersion = 1;
inline constexpr std::size_t kExtensionHeaderSize = 5;  // type u16, flags u8, length u16
inline constexpr std::size_t kMaxExtensions = 16;
inline constexpr std::uint8_t kExtensionCritical = 0x01;
inline constexpr std::uint16_t kExtCertificate = 1;
inline constexpr std::uint16_t kExtSuites = 2;
inline constexpr std::uint16_t kExtFeatures = 3;
inline constexpr std::uint16_t kExtPadding = 4;  // zeros: the list's size to a few fixed sizes
// The sizes an extension list is padded to (docs/PROTOCOL.md, section 6).
inline constexpr std::size_t kExtensionListSizes[] = {64, 256, 512, 1024};
// Without a proven source address (a valid mac2) a responder sends at most
// this many times the initiation's size (RFC 9000, 8.1); a larger response is
// preceded by a cookie reply.
inline constexpr std::size_t kAmplificationFactor = 3;
inline constexpr std::size_t kNetworkKeyLen = 32;
inline constexpr std::size_t kFeaturesSize = 4;  // a bit set; none defined yet
// The largest certificate encoding (docs/CERTIFICATES.md): the longest
// certificate extension a receiver accepts. gwd sends at most 900 bytes.
inline constexpr std::size_t kMaxCertificateSize = 4096;
}  // namespace wire_spec

// --- Specification constants: sessions (WireGuard's values, DESIGN.md "Session") ---
namespace session_spec {
// A receiving keypair refuses counters from here on: 2^64 - 2^13 - 1, WireGuard's
// REJECT_AFTER_MESSAGES. The margin keeps every accepted counter well clear of
// Noise's reserved nonce 2^64 - 1, so counter + 1 never overflows.
inline constexpr std::uint64_t kRejectAfterMessages = ~std::uint64_t{0} - (std::uint64_t{1} << 13);
inline constexpr std::uint64_t kReplayWindowMin = 2048;  // DESIGN.md: at least 2048 packets
}  // namespace session_spec

// --- Specification constants: timers (WireGuard's values; docs/PROTOCOL.md section 9) ---
namespace timer_spec {
using std::chrono::milliseconds;
using std::chrono::seconds;
inline constexpr std::uint64_t kRekeyAfterMessages = std::uint64_t{1} << 60;
inline constexpr seconds kRekeyAfterTime{120};
inline constexpr seconds kRejectAfterTime{180};
inline constexpr seconds kRekeyAttemptTime{90};
inline constexpr seconds kRekeyTimeout{5};
inline constexpr milliseconds kRekeyTimeoutJitterMax{333};
inline constexpr seconds kKeepaliveTimeout{10};
// Receiving on a keypair we initiated this old starts a new handshake.
inline constexpr seconds kRekeyOnReceiveAge = kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout;
// Data sent and nothing received for this long starts a new handshake.
inline constexpr seconds kNewHandshakeTimeout = kKeepaliveTimeout + kRekeyTimeout;
inline constexpr seconds kZeroKeysAfter = kRejectAfterTime * 3;
}  // namespace timer_spec

namespace engine_impl {
// A responder's handshake waiting for message 3 is forgotten after this.
inline constexpr std::chrono::seconds kPendingHandshakeLifetime{10};
inline constexpr std::size_t kMaxPendingHandshakes = 4096;
// Pending handshakes one source (an IPv4 address, an IPv6 /64) may hold at
// once; a newer one from it replaces its oldest (PROTOCOL.md 7.5).
inline constexpr std::size_t kMaxPendingPerSource = 32;
// Pending handshakes kept for a peer's rekey from its session's endpoint,
// apart from the shared table: an established session never waits for room.
inline constexpr std::size_t kReservedPendingPerPeer = 2;
// An initiator's attempts kept answerable at once in one round: the first,
// and the second attempts its retries started (PROTOCOL.md 5.2). A forged
// retry therefore never ends the attempt a genuine response answers.
inline constexpr std::size_t kMaxLiveAttempts = 4;
// Initiations whose ephemeral keys are remembered against replay (PROTOCOL.md 7.4).
inline constexpr std::chrono::seconds kReplayCacheTime{180};
inline constexpr std::size_t kReplayCacheSize = 16384;
// Packets held per peer while its handshake is under way.
inline constexpr std::size_t kMaxStagedPackets = 128;
}  // namespace engine_impl

namespace session_impl {
// Replay window (RFC 6479): a ring of 64-bit words; one word is the slack the
// ring needs to slide, so the usable window is (words - 1) * 64 counters. 128
// words (1 KiB per keypair) give WireGuard's 8128: room for the reordering that
// parallel decryption on several workers causes. A power of two for a mask.
inline constexpr std::size_t kReplayRingWords = 128;
inline constexpr std::uint64_t kReplayWindow = (kReplayRingWords - 1) * 64;

// Index table: draws of a random receiver index before insert() gives up. With
// n indices in use a draw collides with probability n / 2^32, so only a broken
// Rng ever exhausts them.
inline constexpr unsigned kMaxIndexDraws = 64;

// Handshake-initiation rate limit per source address (IPv4 whole, IPv6 per
// /64), like WireGuard's ratelimiter: 20 per second with a burst of 5.
inline constexpr std::int64_t kHandshakesPerSecond = 20;
inline constexpr std::int64_t kHandshakeBurst = 5;
// Sources tracked at once; a new source beyond this is refused (fails closed).
inline constexpr std::size_t kMaxTrackedSources = 8192;
// A source idle this long is forgotten; by then its bucket is full again, so
// forgetting it changes no decision. Garbage collection runs at most this often.
inline constexpr std::int64_t kSourceIdleExpiryMs = 1000;
inline constexpr std::int64_t kRateLimiterGcIntervalMs = 1000;
}  // namespace session_impl

// --- Specification constants: DoS defences (docs/PROTOCOL.md, section 7) ---
namespace cookie_spec {
// Domain-separation labels, 8 ASCII bytes each (the arrays hold a trailing NUL
// that is not part of the label: use kLabelLen).
inline constexpr std::size_t kLabelLen = 8;
inline constexpr char kMac1Label[] = "mac1----";      // MAC1_KEY(K) = HASH256(label || K)
inline constexpr char kCookieLabel[] = "cookie--";    // COOKIE_KEY(K) = HASH256(label || K)
inline constexpr char kRetryKeyLabel[] = "retry---";  // RETRY_KEY = HASH256(label || secret)
inline constexpr char kRetryTagLabel[] = "gw-retry";  // retry_tag = MAC(RETRY_KEY, label || ...)
inline constexpr std::size_t kCookieSecretLen = 32;
inline constexpr std::int64_t kCookieSecretLifetimeS = 120;  // COOKIE_SECRET_LIFETIME
inline constexpr std::int64_t kCookieLifetimeS = 120;        // COOKIE_LIFETIME
inline constexpr std::int64_t kCookieLifetimeMarginS = 5;    // COOKIE_LIFETIME_MARGIN
// Under load: more than this many handshake messages in one window.
inline constexpr std::uint32_t kUnderLoadThreshold = 64;  // UNDER_LOAD_THRESHOLD, per second
inline constexpr std::int64_t kUnderLoadWindowMs = 1000;
}  // namespace cookie_spec

}  // namespace gw
