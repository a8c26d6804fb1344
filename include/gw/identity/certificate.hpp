// SPDX-License-Identifier: MIT
// Certificates: a CA's Ed25519 signature binding a name, an X25519 static
// public key, overlay addresses, routable subnets and groups for a span of
// time (docs/CERTIFICATES.md). A gateway that trusts the CA admits a peer
// that shows one, without being told about that peer.
//
// The binary encoding is canonical: one certificate has exactly one
// encoding, decode() refuses every other byte string (trailing bytes,
// out-of-range lengths or values, host bits in a subnet, unsorted or
// repeated entries), and encode(decode(b)) == b for every b it accepts. The
// signature covers a context string and every byte before it. Files hold
// certificates in a base64 text armour.
//
// Pure: no clock (the caller passes `now`), no files (the caller reads them).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/routing/allowed_ips.hpp"

namespace gw::identity {

inline constexpr std::uint8_t kCertificateVersion = 1;
inline constexpr std::size_t kMaxName = 64;
inline constexpr std::size_t kMaxAddresses = 8;
inline constexpr std::size_t kMaxSubnets = 64;
inline constexpr std::size_t kMaxGroups = 32;
inline constexpr std::size_t kMaxGroupName = 64;
inline constexpr std::size_t kSignatureLen = 64;    // crypto_sign_BYTES
inline constexpr std::size_t kCaPublicKeyLen = 32;  // crypto_sign_PUBLICKEYBYTES
inline constexpr std::size_t kCaSeedLen = 32;       // crypto_sign_SEEDBYTES
// The largest encoding decode() accepts.
inline constexpr std::size_t kMaxCertificateSize = wire_spec::kMaxCertificateSize;

using Fingerprint = std::array<std::uint8_t, 32>;  // SHA-256
using CaPublicKey = std::array<std::uint8_t, kCaPublicKeyLen>;

struct Certificate {
  std::uint8_t version = kCertificateVersion;
  std::string name;                        // 1..kMaxName of [A-Za-z0-9_.@+-]
  crypto::PublicKey public_key{};          // the holder's X25519 static key
  std::vector<routing::Prefix> addresses;  // overlay addresses (host bits set: "10.88.0.2/24")
  std::vector<routing::Prefix> subnets;    // networks it may route (host bits clear)
  std::vector<std::string> groups;         // each 1..kMaxGroupName of the name's characters
  std::int64_t not_before = 0;             // Unix seconds, inclusive
  std::int64_t not_after = 0;              // Unix seconds, exclusive; > not_before
  Fingerprint issuer{};                    // ca_fingerprint() of the signing CA
  std::array<std::uint8_t, kSignatureLen> signature{};

  friend bool operator==(const Certificate&, const Certificate&) = default;
};

// A CA: Ed25519. The private key is kept as its 32-byte seed.
struct CaKey {
  crypto::Secret<kCaSeedLen> seed;
  CaPublicKey public_key{};
  static CaKey generate();
  static CaKey from_seed(const crypto::Secret<kCaSeedLen>& seed);
};

// SHA-256 of a CA's public key: the certificate's `issuer`.
Fingerprint ca_fingerprint(const CaPublicKey& ca);
// SHA-256 of a certificate's whole encoding, signature included: what a
// revocation list names. Throws as encode() does.
Fingerprint fingerprint(const Certificate& cert);

// The canonical encoding (signature included) and its strict inverse. The
// error names the field ("subnets[2]: host bits set"). encode() throws
// std::invalid_argument for a certificate whose fields decode() would refuse
// (a programming error: certificates come from decode() or sign()).
std::vector<std::uint8_t> encode(const Certificate& cert);
std::optional<Certificate> decode(Bytes bytes, std::string* error = nullptr);

// Sorts addresses, subnets and groups, checks every field as decode() would,
// sets `issuer` and signs. nullopt (with `error`) if a field is out of range,
// repeated, or `ca.public_key` is not the seed's.
std::optional<Certificate> sign(Certificate cert, const CaKey& ca, std::string* error = nullptr);

// The text armour of a certificate file:
//   -----BEGIN GW CERTIFICATE-----
//   base64 of encode(), lines of 64
//   -----END GW CERTIFICATE-----
// armor() ends every line with "\n". dearmor() also takes CRLF line ends and
// whitespace around the whole block, nothing else (no blank or indented
// lines, no other line lengths, no second block).
std::string armor(const Certificate& cert);
std::optional<Certificate> dearmor(std::string_view text, std::string* error = nullptr);

// Why a certificate is not accepted; `ok` when it is.
enum class CertError : std::uint8_t {
  ok,
  expired,        // now >= not_after
  not_yet_valid,  // now < not_before
  revoked,        // its fingerprint is in the revocation list
  unknown_ca,     // no trusted CA has the issuer's fingerprint
  bad_signature,  // the issuer's CA did not sign these bytes
  key_mismatch,   // it binds another static key than the one the handshake proved
};
const char* to_string(CertError e) noexcept;
// The snake_case name for logs and counters: "expired", "key_mismatch", ...
const char* reason(CertError e) noexcept;

// A set of revoked certificate fingerprints. Text form: one lowercase hex
// fingerprint (64 characters) a line; '#' starts a comment; blank lines are
// ignored. parse() refuses anything else, naming the line. Blanks around a
// fingerprint, a comment after it and CRLF line ends are accepted; a
// fingerprint listed twice is one revocation.
class RevocationList {
 public:
  static std::optional<RevocationList> parse(std::string_view text, std::string* error = nullptr);
  bool contains(const Fingerprint& f) const;
  bool add(const Fingerprint& f);  // false if already there
  std::size_t size() const noexcept { return revoked_.size(); }
  std::string to_text() const;  // sorted, one a line, parse() reads it back

 private:
  std::vector<Fingerprint> revoked_;  // sorted
};

// Whether a peer that proved `proven_key` may be admitted with `cert`.
// Checked in this order, the first failure reported: unknown_ca,
// bad_signature (a forged certificate is reported as forged, whatever its
// dates), key_mismatch, revoked, not_yet_valid, expired. `trusted` are the
// CAs' public keys. A struct that decode() would refuse is bad_signature: no
// CA signs one.
CertError verify(const Certificate& cert, const std::vector<CaPublicKey>& trusted,
                 const RevocationList& revoked, std::int64_t now,
                 const std::optional<crypto::PublicKey>& proven_key = std::nullopt);

// Lowercase hex of a fingerprint, and back (exactly 64 lowercase hex digits).
std::string to_hex(const Fingerprint& f);
std::optional<Fingerprint> fingerprint_from_hex(std::string_view hex);

}  // namespace gw::identity
