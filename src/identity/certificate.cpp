// SPDX-License-Identifier: MIT
// Certificates (docs/CERTIFICATES.md has the format byte by byte).
//
// One function, check(), holds every rule a certificate's fields obey; decode
// applies it after reading, sign before signing, encode and verify before
// they trust a struct that did not come from decode. The rules therefore
// cannot drift apart between the parser and the signer.
#include "gw/identity/certificate.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <tuple>

#include <sodium.h>

#include "gw/crypto/hash.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"

namespace gw::identity {

namespace {

using routing::Family;
using routing::Prefix;

static_assert(kSignatureLen == crypto_sign_BYTES);
static_assert(kCaPublicKeyLen == crypto_sign_PUBLICKEYBYTES);
static_assert(kCaSeedLen == crypto_sign_SEEDBYTES);

constexpr std::array<std::uint8_t, 3> kMagic = {'G', 'W', 'C'};
// Signed before the encoding, so that a gw CA signature can never be passed
// off as the signature of some other message format using the same key.
constexpr std::string_view kSignatureContext{"gw certificate v1\0", 18};
constexpr std::size_t kPublicKeyLen = std::tuple_size_v<crypto::PublicKey>;

// The largest encoding the limits allow; every valid certificate fits in
// kMaxCertificateSize, so that check only cuts off garbage early.
constexpr std::size_t kMaxPrefixEntry = 1 + 16 + 1;
constexpr std::size_t kLargestEncoding =
    kMagic.size() + 1 + 1 + kMaxName + kPublicKeyLen + 1 + kMaxAddresses * kMaxPrefixEntry + 1 +
    kMaxSubnets * kMaxPrefixEntry + 1 + kMaxGroups * (1 + kMaxGroupName) + 8 + 8 +
    std::tuple_size_v<Fingerprint> + kSignatureLen;
static_assert(kLargestEncoding <= kMaxCertificateSize);

constexpr std::string_view kArmorBegin = "-----BEGIN GW CERTIFICATE-----";
constexpr std::string_view kArmorEnd = "-----END GW CERTIFICATE-----";
constexpr std::size_t kArmorLine = 64;

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

bool is_name_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '@' || c == '+' || c == '-';
}

// A byte for an error message: printable ASCII as itself, anything else in hex.
std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[u >> 4] + kDigits[u & 0x0f];
}

// Names and groups share one alphabet; `field` is "name" or "groups[i]".
std::optional<std::string> check_label(std::string_view s, std::size_t max,
                                       const std::string& field) {
  if (s.empty()) return field + ": empty";
  if (s.size() > max) {
    return field + ": " + std::to_string(s.size()) + " bytes, at most " + std::to_string(max);
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_name_char(s[i])) {
      return field + ": character " + describe_char(s[i]) + " at " + std::to_string(i) +
             " is not one of A-Z a-z 0-9 _ . @ + -";
    }
  }
  return std::nullopt;
}

unsigned address_bytes(Family f) noexcept {
  return f == Family::v4 ? 4u : 16u;
}

// The canonical order of addresses and subnets: family, address bytes, length.
auto prefix_key(const Prefix& p) noexcept {
  return std::tie(p.family, p.address, p.length);
}

bool prefix_less(const Prefix& a, const Prefix& b) noexcept {
  return prefix_key(a) < prefix_key(b);
}

// `what` is "addresses" or "subnets"; subnets must have their host bits clear.
std::optional<std::string> check_prefixes(const std::vector<Prefix>& list, std::string_view what,
                                          std::size_t max, bool network) {
  const std::string field(what);
  if (list.size() > max) {
    return field + ": " + std::to_string(list.size()) + " entries, at most " + std::to_string(max);
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Prefix& p = list[i];
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (p.family != Family::v4 && p.family != Family::v6) {
      return at + ": family " + std::to_string(static_cast<unsigned>(p.family)) +
             ", expected 4 or 6";
    }
    if (p.length > routing::address_bits(p.family)) {
      return at + ": prefix length " + std::to_string(p.length) + " exceeds " +
             std::to_string(routing::address_bits(p.family));
    }
    // The encoding has 4 bytes for IPv4: anything beyond them would be lost.
    if (p.family == Family::v4 && std::any_of(p.address.begin() + 4, p.address.end(),
                                              [](std::uint8_t b) { return b != 0; })) {
      return at + ": IPv4 address with bytes beyond the fourth";
    }
    if (network && p.masked() != p) return at + ": host bits set in " + p.to_string();
    if (i > 0 && !prefix_less(list[i - 1], p)) {
      if (list[i - 1] == p) {
        return at + ": " + p.to_string() + " repeats " + field + "[" + std::to_string(i - 1) + "]";
      }
      return at + ": " + p.to_string() + " is out of order (sorted by family, address, length)";
    }
  }
  return std::nullopt;
}

// Every rule on a certificate's fields, in encoding order. nullopt: valid.
std::optional<std::string> check(const Certificate& c) {
  if (c.version != kCertificateVersion) {
    return "version: " + std::to_string(c.version) + ", expected " +
           std::to_string(kCertificateVersion);
  }
  if (auto e = check_label(c.name, kMaxName, "name")) return e;
  if (auto e = check_prefixes(c.addresses, "addresses", kMaxAddresses, false)) return e;
  if (auto e = check_prefixes(c.subnets, "subnets", kMaxSubnets, true)) return e;
  if (c.groups.size() > kMaxGroups) {
    return "groups: " + std::to_string(c.groups.size()) + " entries, at most " +
           std::to_string(kMaxGroups);
  }
  for (std::size_t i = 0; i < c.groups.size(); ++i) {
    const std::string at = "groups[" + std::to_string(i) + "]";
    if (auto e = check_label(c.groups[i], kMaxGroupName, at)) return e;
    if (i > 0 && !(c.groups[i - 1] < c.groups[i])) {
      if (c.groups[i - 1] == c.groups[i]) {
        return at + ": \"" + c.groups[i] + "\" repeats groups[" + std::to_string(i - 1) + "]";
      }
      return at + ": \"" + c.groups[i] + "\" is out of order (sorted bytewise)";
    }
  }
  if (c.not_before >= c.not_after) {
    return "not_after: " + std::to_string(c.not_after) + " is not after not_before " +
           std::to_string(c.not_before);
  }
  return std::nullopt;
}

// ---- writing ----

void put_u8(std::vector<std::uint8_t>& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_bytes(std::vector<std::uint8_t>& out, Bytes b) {
  out.insert(out.end(), b.begin(), b.end());
}

void put_i64(std::vector<std::uint8_t>& out, std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);  // two's complement, by C++20
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(u >> shift));
}

void put_prefix(std::vector<std::uint8_t>& out, const Prefix& p) {
  put_u8(out, static_cast<std::uint8_t>(p.family));
  put_bytes(out, Bytes(p.address.data(), address_bytes(p.family)));
  put_u8(out, p.length);
}

// Everything the signature covers, i.e. the encoding without its last 64 bytes.
// The fields must have passed check().
std::vector<std::uint8_t> encode_unsigned(const Certificate& c) {
  std::vector<std::uint8_t> out;
  out.reserve(kLargestEncoding);
  put_bytes(out, kMagic);
  put_u8(out, c.version);
  put_u8(out, c.name.size());
  for (char ch : c.name)
    out.push_back(static_cast<std::uint8_t>(ch));
  put_bytes(out, c.public_key);
  put_u8(out, c.addresses.size());
  for (const Prefix& p : c.addresses)
    put_prefix(out, p);
  put_u8(out, c.subnets.size());
  for (const Prefix& p : c.subnets)
    put_prefix(out, p);
  put_u8(out, c.groups.size());
  for (const std::string& g : c.groups) {
    put_u8(out, g.size());
    for (char ch : g)
      out.push_back(static_cast<std::uint8_t>(ch));
  }
  put_i64(out, c.not_before);
  put_i64(out, c.not_after);
  put_bytes(out, c.issuer);
  return out;
}

// The message the CA signs: the context string, then the unsigned encoding.
std::vector<std::uint8_t> signed_message(Bytes unsigned_encoding) {
  std::vector<std::uint8_t> m;
  m.reserve(kSignatureContext.size() + unsigned_encoding.size());
  for (char ch : kSignatureContext)
    m.push_back(static_cast<std::uint8_t>(ch));
  put_bytes(m, unsigned_encoding);
  return m;
}

// ---- reading ----

// A bounded big-endian cursor. Each read names the field it is for, so a
// truncated input reports where it ends.
class Cursor {
 public:
  explicit Cursor(Bytes data) noexcept : data_(data) {}

  bool bytes(std::size_t n, Bytes& out, std::string_view field) {
    if (data_.size() - pos_ < n) {
      error_ = "truncated: the input ends in " + std::string(field);
      return false;
    }
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool u8(std::uint8_t& out, std::string_view field) {
    Bytes b;
    if (!bytes(1, b, field)) return false;
    out = b[0];
    return true;
  }
  bool i64(std::int64_t& out, std::string_view field) {
    Bytes b;
    if (!bytes(8, b, field)) return false;
    std::uint64_t u = 0;
    for (std::uint8_t x : b)
      u = u << 8 | x;
    out = static_cast<std::int64_t>(u);  // two's complement, by C++20
    return true;
  }

  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::string& error() noexcept { return error_; }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
  std::string error_;
};

std::string read_string(Bytes b) {
  std::string s(b.size(), '\0');
  std::transform(b.begin(), b.end(), s.begin(),
                 [](std::uint8_t x) { return static_cast<char>(x); });
  return s;
}

// A counted list of prefixes. Values check() can test on the struct are left
// to it; here only what a Prefix cannot hold: a family byte other than 4 or 6
// and a length beyond the family's width.
bool read_prefixes(Cursor& r, std::vector<Prefix>& out, std::string_view what, std::size_t max) {
  const std::string field(what);
  std::uint8_t n = 0;
  if (!r.u8(n, field + " count")) return false;
  if (n > max) {
    r.error() = field + ": " + std::to_string(n) + " entries, at most " + std::to_string(max);
    return false;
  }
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    std::uint8_t family = 0;
    std::uint8_t length = 0;
    Bytes address;
    if (!r.u8(family, at)) return false;
    if (family != 4 && family != 6) {
      r.error() = at + ": family " + std::to_string(family) + ", expected 4 or 6";
      return false;
    }
    if (!r.bytes(family == 4 ? 4 : 16, address, at) || !r.u8(length, at)) return false;
    const auto p = Prefix::from_bytes(address, length);
    if (!p) {
      r.error() = at + ": prefix length " + std::to_string(length) + " exceeds " +
                  std::to_string(family == 4 ? 32 : 128);
      return false;
    }
    out.push_back(*p);
  }
  return true;
}

bool read_certificate(Cursor& r, Certificate& c) {
  Bytes b;
  if (!r.bytes(kMagic.size(), b, "magic")) return false;
  if (!std::equal(b.begin(), b.end(), kMagic.begin())) {
    r.error() = "magic: expected \"GWC\"";
    return false;
  }
  if (!r.u8(c.version, "version")) return false;
  if (c.version != kCertificateVersion) {
    r.error() = "version: " + std::to_string(c.version) + ", expected " +
                std::to_string(kCertificateVersion);
    return false;
  }
  std::uint8_t len = 0;
  if (!r.u8(len, "name") || !r.bytes(len, b, "name")) return false;
  c.name = read_string(b);
  if (!r.bytes(kPublicKeyLen, b, "public_key")) return false;
  std::copy(b.begin(), b.end(), c.public_key.begin());
  if (!read_prefixes(r, c.addresses, "addresses", kMaxAddresses) ||
      !read_prefixes(r, c.subnets, "subnets", kMaxSubnets)) {
    return false;
  }
  std::uint8_t n = 0;
  if (!r.u8(n, "groups count")) return false;
  if (n > kMaxGroups) {
    r.error() = "groups: " + std::to_string(n) + " entries, at most " + std::to_string(kMaxGroups);
    return false;
  }
  c.groups.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string at = "groups[" + std::to_string(i) + "]";
    if (!r.u8(len, at) || !r.bytes(len, b, at)) return false;
    c.groups.push_back(read_string(b));
  }
  if (!r.i64(c.not_before, "not_before") || !r.i64(c.not_after, "not_after")) return false;
  if (!r.bytes(c.issuer.size(), b, "issuer")) return false;
  std::copy(b.begin(), b.end(), c.issuer.begin());
  if (!r.bytes(c.signature.size(), b, "signature")) return false;
  std::copy(b.begin(), b.end(), c.signature.begin());
  if (r.remaining() != 0) {
    r.error() = "trailing bytes after the signature";
    return false;
  }
  return true;
}

// ---- text ----

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

bool is_lower_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

// ---- keys and fingerprints ----

CaKey CaKey::generate() {
  crypto::Secret<kCaSeedLen> seed;
  crypto::system_rng().fill(seed.bytes());
  return from_seed(seed);
}

CaKey CaKey::from_seed(const crypto::Secret<kCaSeedLen>& seed) {
  crypto::ensure_sodium();
  CaKey k;
  k.seed = seed;
  crypto::Secret<crypto_sign_SECRETKEYBYTES> sk;
  crypto_sign_seed_keypair(k.public_key.data(), sk.data(), seed.data());
  return k;
}

Fingerprint ca_fingerprint(const CaPublicKey& ca) {
  Fingerprint f{};
  crypto::hash(crypto::HashAlg::sha256, ca, f);
  return f;
}

Fingerprint fingerprint(const Certificate& cert) {
  Fingerprint f{};
  crypto::hash(crypto::HashAlg::sha256, encode(cert), f);
  return f;
}

std::string to_hex(const Fingerprint& f) {
  std::array<char, 2 * std::tuple_size_v<Fingerprint> + 1> buf{};
  sodium_bin2hex(buf.data(), buf.size(), f.data(), f.size());
  return std::string(buf.data(), buf.size() - 1);
}

std::optional<Fingerprint> fingerprint_from_hex(std::string_view hex) {
  // Lowercase only: one fingerprint has one spelling, as to_hex() prints it.
  if (hex.size() != 2 * std::tuple_size_v<Fingerprint> ||
      !std::all_of(hex.begin(), hex.end(), is_lower_hex)) {
    return std::nullopt;
  }
  Fingerprint f{};
  std::size_t len = 0;
  if (sodium_hex2bin(f.data(), f.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != f.size()) {
    return std::nullopt;
  }
  return f;
}

// ---- encoding ----

std::vector<std::uint8_t> encode(const Certificate& cert) {
  // Invalid fields would give bytes that decode refuses, or worse, bytes of
  // another certificate (a 300-byte name in a one-byte length): never write them.
  if (auto e = check(cert)) throw std::invalid_argument("certificate: " + *e);
  std::vector<std::uint8_t> out = encode_unsigned(cert);
  put_bytes(out, cert.signature);
  return out;
}

std::optional<Certificate> decode(Bytes bytes, std::string* error) {
  if (bytes.size() > kMaxCertificateSize) {
    set_error(error, "size: " + std::to_string(bytes.size()) + " bytes, at most " +
                         std::to_string(kMaxCertificateSize));
    return std::nullopt;
  }
  Cursor r(bytes);
  Certificate c;
  if (!read_certificate(r, c)) {
    set_error(error, std::move(r.error()));
    return std::nullopt;
  }
  if (auto e = check(c)) {
    set_error(error, std::move(*e));
    return std::nullopt;
  }
  return c;
}

std::optional<Certificate> sign(Certificate cert, const CaKey& ca, std::string* error) {
  std::sort(cert.addresses.begin(), cert.addresses.end(), prefix_less);
  std::sort(cert.subnets.begin(), cert.subnets.end(), prefix_less);
  std::sort(cert.groups.begin(), cert.groups.end());
  if (auto e = check(cert)) {
    set_error(error, std::move(*e));
    return std::nullopt;
  }
  crypto::ensure_sodium();
  CaPublicKey pk{};
  crypto::Secret<crypto_sign_SECRETKEYBYTES> sk;
  crypto_sign_seed_keypair(pk.data(), sk.data(), ca.seed.data());
  // A CaKey whose halves disagree would issue certificates nobody can verify.
  if (pk != ca.public_key) {
    set_error(error, "ca: the public key does not belong to the seed");
    return std::nullopt;
  }
  cert.issuer = ca_fingerprint(pk);
  const std::vector<std::uint8_t> m = signed_message(encode_unsigned(cert));
  crypto_sign_detached(cert.signature.data(), nullptr, m.data(), m.size(), sk.data());
  return cert;
}

// ---- armour ----

std::string armor(const Certificate& cert) {
  const std::vector<std::uint8_t> bin = encode(cert);
  const std::size_t len = sodium_base64_encoded_len(bin.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string b64(len, '\0');  // len counts the terminating NUL
  sodium_bin2base64(b64.data(), b64.size(), bin.data(), bin.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(len - 1);
  std::string out;
  out.reserve(b64.size() + b64.size() / kArmorLine + kArmorBegin.size() + kArmorEnd.size() + 4);
  out.append(kArmorBegin).push_back('\n');
  for (std::size_t i = 0; i < b64.size(); i += kArmorLine)
    out.append(b64, i, kArmorLine).push_back('\n');
  out.append(kArmorEnd).push_back('\n');
  return out;
}

std::optional<Certificate> dearmor(std::string_view text, std::string* error) {
  const std::size_t max_b64 =
      sodium_base64_encoded_len(kMaxCertificateSize, sodium_base64_VARIANT_ORIGINAL) - 1;
  const std::string_view body = trim(text);
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= body.size();) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF
    lines.push_back(line);
    pos = end + 1;
    // More lines than the largest certificate has: stop reading garbage.
    if (lines.size() > max_b64 / kArmorLine + 3) {
      set_error(error, "armour: more lines than any certificate has");
      return std::nullopt;
    }
  }
  if (lines.front() != kArmorBegin) {
    set_error(error, "line 1: expected " + std::string(kArmorBegin));
    return std::nullopt;
  }
  if (lines.size() < 3 || lines.back() != kArmorEnd) {
    set_error(error,
              "line " + std::to_string(lines.size()) + ": expected " + std::string(kArmorEnd));
    return std::nullopt;
  }
  std::string b64;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const bool last = i + 2 == lines.size();
    const std::string at = "line " + std::to_string(i + 1) + ": ";
    if (line.empty() || line.size() > kArmorLine || (!last && line.size() != kArmorLine)) {
      set_error(error, at + "expected " + (last ? "1 to " : "") + std::to_string(kArmorLine) +
                           " base64 characters, got " + std::to_string(line.size()));
      return std::nullopt;
    }
    const auto bad = std::find_if_not(line.begin(), line.end(), is_base64_char);
    if (bad != line.end()) {
      set_error(error, at + "character " + describe_char(*bad) + " is not base64");
      return std::nullopt;
    }
    b64.append(line);
  }
  std::vector<std::uint8_t> bin(b64.size() / 4 * 3 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bin.data(), bin.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size()) {
    set_error(error, "armour: not canonical padded base64");
    return std::nullopt;
  }
  bin.resize(len);
  std::string e;
  auto cert = decode(bin, &e);
  if (!cert) set_error(error, "certificate: " + e);
  return cert;
}

// ---- verification ----

const char* to_string(CertError e) noexcept {
  // No default: -Wswitch names an enumerator added without a text here.
  switch (e) {
    case CertError::ok:
      return "the certificate is valid";
    case CertError::expired:
      return "the certificate has expired";
    case CertError::not_yet_valid:
      return "the certificate is not valid yet";
    case CertError::revoked:
      return "the certificate has been revoked";
    case CertError::unknown_ca:
      return "the certificate was issued by a CA that is not trusted";
    case CertError::bad_signature:
      return "the certificate's signature is not valid";
    case CertError::key_mismatch:
      return "the certificate binds another static key than the peer proved";
  }
  return "the certificate is refused for an unknown reason";
}

const char* reason(CertError e) noexcept {
  switch (e) {
    case CertError::ok:
      return "ok";
    case CertError::expired:
      return "expired";
    case CertError::not_yet_valid:
      return "not_yet_valid";
    case CertError::revoked:
      return "revoked";
    case CertError::unknown_ca:
      return "unknown_ca";
    case CertError::bad_signature:
      return "bad_signature";
    case CertError::key_mismatch:
      return "key_mismatch";
  }
  return "unknown";
}

CertError verify(const Certificate& cert, const std::vector<CaPublicKey>& trusted,
                 const RevocationList& revoked, std::int64_t now,
                 const std::optional<crypto::PublicKey>& proven_key) {
  std::vector<const CaPublicKey*> issuers;
  for (const CaPublicKey& ca : trusted) {
    if (ca_fingerprint(ca) == cert.issuer) issuers.push_back(&ca);
  }
  if (issuers.empty()) return CertError::unknown_ca;
  // A struct that breaks the rules was not signed by any CA: sign() refuses
  // it, and its encoding is not defined.
  if (check(cert)) return CertError::bad_signature;
  crypto::ensure_sodium();
  const std::vector<std::uint8_t> unsigned_encoding = encode_unsigned(cert);
  const std::vector<std::uint8_t> m = signed_message(unsigned_encoding);
  // One fingerprint means one key (short of a SHA-256 collision); a key that
  // is listed twice is simply tried twice.
  const bool signed_by_issuer =
      std::any_of(issuers.begin(), issuers.end(), [&](const CaPublicKey* ca) {
        return crypto_sign_verify_detached(cert.signature.data(), m.data(), m.size(), ca->data()) ==
               0;
      });
  if (!signed_by_issuer) return CertError::bad_signature;
  if (proven_key && sodium_memcmp(proven_key->data(), cert.public_key.data(), kPublicKeyLen) != 0) {
    return CertError::key_mismatch;
  }
  std::vector<std::uint8_t> full = unsigned_encoding;
  put_bytes(full, cert.signature);
  Fingerprint f{};
  crypto::hash(crypto::HashAlg::sha256, full, f);
  if (revoked.contains(f)) return CertError::revoked;
  if (now < cert.not_before) return CertError::not_yet_valid;
  if (now >= cert.not_after) return CertError::expired;
  return CertError::ok;
}

// ---- revocation list ----

std::optional<RevocationList> RevocationList::parse(std::string_view text, std::string* error) {
  RevocationList list;
  std::size_t number = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    const std::size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);  // surrounding blanks and a CR of CRLF
    if (line.empty()) continue;
    const auto f = fingerprint_from_hex(line);
    if (!f) {
      set_error(error, "line " + std::to_string(number) +
                           ": expected a certificate fingerprint (64 lowercase hex digits)");
      return std::nullopt;
    }
    list.add(*f);  // a fingerprint listed twice is still one revocation
  }
  return list;
}

bool RevocationList::contains(const Fingerprint& f) const {
  return std::binary_search(revoked_.begin(), revoked_.end(), f);
}

bool RevocationList::add(const Fingerprint& f) {
  const auto it = std::lower_bound(revoked_.begin(), revoked_.end(), f);
  if (it != revoked_.end() && *it == f) return false;
  revoked_.insert(it, f);
  return true;
}

std::string RevocationList::to_text() const {
  std::string out;
  out.reserve(revoked_.size() * 65);
  for (const Fingerprint& f : revoked_)
    out.append(to_hex(f)).push_back('\n');
  return out;
}

}  // namespace gw::identity
