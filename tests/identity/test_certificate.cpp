// SPDX-License-Identifier: MIT
// Certificates (include/gw/identity/certificate.hpp, docs/CERTIFICATES.md):
// the encoding checked against a second, naive writer of the documented
// layout; every refusal of decode(), sign() and dearmor(); the signature over
// every byte; each verify() outcome and their order; the revocation list; and
// a known-answer vector that catches any change of the format.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "gw/crypto/hash.hpp"
#include "gw/identity/certificate.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::identity::armor;
using gw::identity::ca_fingerprint;
using gw::identity::CaKey;
using gw::identity::CaPublicKey;
using gw::identity::CertError;
using gw::identity::Certificate;
using gw::identity::dearmor;
using gw::identity::decode;
using gw::identity::encode;
using gw::identity::Fingerprint;
using gw::identity::fingerprint;
using gw::identity::fingerprint_from_hex;
using gw::identity::RevocationList;
using gw::identity::sign;
using gw::identity::verify;
using gw::routing::Family;
using gw::routing::Prefix;
using gw::test::from_hex;
using Buf = std::vector<std::uint8_t>;

namespace {

constexpr std::int64_t kNotBefore = 1704067200;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kNotAfter = 1735689600;   // 2025-01-01T00:00:00Z

Prefix P(std::string_view text) {
  const auto p = Prefix::parse(text);
  REQUIRE_MESSAGE(p.has_value(), text);
  return *p;
}

CaKey ca_from_byte(std::uint8_t b) {
  gw::crypto::Secret<gw::identity::kCaSeedLen> seed;
  std::fill(seed.data(), seed.data() + seed.size(), b);
  return CaKey::from_seed(seed);
}

gw::crypto::PublicKey key_from_byte(std::uint8_t start) {
  gw::crypto::PublicKey k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(start + i);
  return k;
}

// Fields in no particular order: sign() sorts them.
Certificate sample() {
  Certificate c;
  c.name = "laptop-7";
  c.public_key = key_from_byte(0x40);
  c.addresses = {P("fd88::7/64"), P("10.88.0.7/24")};
  c.subnets = {P("fd02::/64"), P("10.2.0.0/24"), P("10.1.0.0/16")};
  c.groups = {"ops", "admins", "eu.west"};
  c.not_before = kNotBefore;
  c.not_after = kNotAfter;
  return c;
}

Certificate signed_sample(const CaKey& ca) {
  std::string error;
  auto c = sign(sample(), ca, &error);
  REQUIRE_MESSAGE(c.has_value(), error);
  return *c;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- a second writer of the documented layout, field by field ----

struct RawPrefix {
  std::uint8_t family = 4;
  Buf address;
  std::uint8_t length = 0;
};

RawPrefix raw_prefix(const Prefix& p) {
  const std::size_t n = p.family == Family::v4 ? 4 : 16;
  return {static_cast<std::uint8_t>(p.family),
          Buf(p.address.begin(), p.address.begin() + static_cast<std::ptrdiff_t>(n)), p.length};
}

// Every field as raw values, so that a test can set any of them to anything.
struct Raw {
  Buf magic = {'G', 'W', 'C'};
  std::uint8_t version = 1;
  std::string name;
  Buf key;
  std::vector<RawPrefix> addresses;
  std::vector<RawPrefix> subnets;
  std::vector<std::string> groups;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  Buf issuer;
  Buf signature;
  Buf trailing;

  static Raw of(const Certificate& c) {
    Raw r;
    r.version = c.version;
    r.name = c.name;
    r.key.assign(c.public_key.begin(), c.public_key.end());
    for (const Prefix& p : c.addresses)
      r.addresses.push_back(raw_prefix(p));
    for (const Prefix& p : c.subnets)
      r.subnets.push_back(raw_prefix(p));
    r.groups = c.groups;
    r.not_before = c.not_before;
    r.not_after = c.not_after;
    r.issuer.assign(c.issuer.begin(), c.issuer.end());
    r.signature.assign(c.signature.begin(), c.signature.end());
    return r;
  }

  Buf bytes() const {
    Buf out = magic;
    out.push_back(version);
    auto put_text = [&out](const std::string& s) {
      out.push_back(static_cast<std::uint8_t>(s.size()));
      for (char ch : s)
        out.push_back(static_cast<std::uint8_t>(ch));
    };
    auto put_prefixes = [&out](const std::vector<RawPrefix>& list) {
      out.push_back(static_cast<std::uint8_t>(list.size()));
      for (const RawPrefix& p : list) {
        out.push_back(p.family);
        out.insert(out.end(), p.address.begin(), p.address.end());
        out.push_back(p.length);
      }
    };
    auto put_i64 = [&out](std::int64_t v) {
      for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> shift));
    };
    put_text(name);
    out.insert(out.end(), key.begin(), key.end());
    put_prefixes(addresses);
    put_prefixes(subnets);
    out.push_back(static_cast<std::uint8_t>(groups.size()));
    for (const std::string& g : groups)
      put_text(g);
    put_i64(not_before);
    put_i64(not_after);
    out.insert(out.end(), issuer.begin(), issuer.end());
    out.insert(out.end(), signature.begin(), signature.end());
    out.insert(out.end(), trailing.begin(), trailing.end());
    return out;
  }
};

std::string decode_error(const Buf& bytes) {
  std::string error;
  const auto c = decode(bytes, &error);
  CHECK_FALSE(c.has_value());
  CHECK_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("identity: a CA key from a seed is RFC 8032's Ed25519 key") {
  // RFC 8032, section 7.1, TEST 1.
  const gw::crypto::Secret<32> seed(
      from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  const CaKey ca = CaKey::from_seed(seed);
  CHECK(gw::test::to_hex(ca.public_key) ==
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  CHECK(ca.seed == seed);
  Fingerprint expected{};
  gw::crypto::hash(gw::crypto::HashAlg::sha256, ca.public_key, expected);
  CHECK(ca_fingerprint(ca.public_key) == expected);

  const CaKey a = CaKey::generate();
  const CaKey b = CaKey::generate();
  CHECK(a.public_key != b.public_key);
  CHECK_FALSE(a.seed.is_zero());
  CHECK(CaKey::from_seed(a.seed).public_key == a.public_key);
}

TEST_CASE("identity: sign sorts the fields, sets the issuer, and verify accepts the result") {
  const CaKey ca = ca_from_byte(1);
  const Certificate c = signed_sample(ca);
  CHECK(c.issuer == ca_fingerprint(ca.public_key));
  CHECK(c.addresses == std::vector<Prefix>{P("10.88.0.7/24"), P("fd88::7/64")});
  CHECK(c.subnets == std::vector<Prefix>{P("10.1.0.0/16"), P("10.2.0.0/24"), P("fd02::/64")});
  CHECK(c.groups == std::vector<std::string>{"admins", "eu.west", "ops"});
  CHECK(c.name == "laptop-7");
  CHECK(c.public_key == key_from_byte(0x40));

  const RevocationList none;
  CHECK(verify(c, {ca.public_key}, none, kNotBefore) == CertError::ok);
  CHECK(verify(c, {ca.public_key}, none, kNotBefore, key_from_byte(0x40)) == CertError::ok);

  // Ed25519 is deterministic: the same input signs to the same bytes.
  CHECK(*sign(sample(), ca) == c);
  // The same fields in another order give the same certificate.
  Certificate shuffled = sample();
  std::reverse(shuffled.addresses.begin(), shuffled.addresses.end());
  std::reverse(shuffled.subnets.begin(), shuffled.subnets.end());
  std::reverse(shuffled.groups.begin(), shuffled.groups.end());
  CHECK(*sign(shuffled, ca) == c);
  // A previous issuer and signature are replaced.
  Certificate resigned = c;
  resigned.issuer.fill(0xee);
  resigned.signature.fill(0xee);
  CHECK(*sign(resigned, ca) == c);
}

TEST_CASE("identity: encode and decode are inverse, and the layout is the documented one") {
  const CaKey ca = ca_from_byte(2);
  const Certificate c = signed_sample(ca);
  const Buf bytes = encode(c);
  CHECK(bytes == Raw::of(c).bytes());
  std::string error;
  const auto back = decode(bytes, &error);
  REQUIRE_MESSAGE(back.has_value(), error);
  CHECK(*back == c);
  CHECK(encode(*back) == bytes);

  Fingerprint f{};
  gw::crypto::hash(gw::crypto::HashAlg::sha256, bytes, f);
  CHECK(fingerprint(c) == f);

  SUBCASE("no addresses, subnets or groups; negative and extreme times") {
    Certificate bare;
    bare.name = "x";
    bare.not_before = std::numeric_limits<std::int64_t>::min();
    bare.not_after = -1;
    const auto s = sign(bare, ca);
    REQUIRE(s);
    const Buf b = encode(*s);
    CHECK(b == Raw::of(*s).bytes());
    CHECK(b.size() == 3 + 1 + 2 + 32 + 1 + 1 + 1 + 16 + 32 + 64);
    CHECK(decode(b) == s);
    CHECK(verify(*s, {ca.public_key}, {}, -2) == CertError::ok);
    CHECK(verify(*s, {ca.public_key}, {}, -1) == CertError::expired);
  }

  SUBCASE("every limit at its maximum still fits and round-trips") {
    Certificate big;
    big.name = std::string(gw::identity::kMaxName, 'n');
    for (std::size_t i = 0; i < gw::identity::kMaxAddresses; ++i)
      big.addresses.push_back(P("fd00::" + std::to_string(i + 1) + "/128"));
    for (std::size_t i = 0; i < gw::identity::kMaxSubnets; ++i)
      big.subnets.push_back(P("fd01:" + std::to_string(i + 1) + "::/32"));
    static constexpr std::string_view kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef";
    for (std::size_t i = 0; i < gw::identity::kMaxGroups; ++i)
      big.groups.push_back(std::string(gw::identity::kMaxGroupName - 1, 'g') + kLetters[i]);
    big.not_before = 0;
    big.not_after = std::numeric_limits<std::int64_t>::max();
    std::string e;
    const auto s = sign(big, ca, &e);
    REQUIRE_MESSAGE(s.has_value(), e);
    const Buf b = encode(*s);
    CHECK(b.size() == 3592);
    CHECK(b.size() <= gw::identity::kMaxCertificateSize);
    CHECK(decode(b) == s);
    CHECK(dearmor(armor(*s)) == s);
    CHECK(verify(*s, {ca.public_key}, {}, 0) == CertError::ok);
  }
}

TEST_CASE("identity: known-answer vector (a change of the format changes these bytes)") {
  // The CA is RFC 8032's TEST 1 key; every field is fixed; Ed25519 is deterministic.
  const CaKey ca = CaKey::from_seed(gw::crypto::Secret<32>(
      from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")));
  Certificate c;
  c.name = "gw-b";
  c.public_key = key_from_byte(0);
  c.addresses = {P("10.88.0.2/24"), P("fd88::2/64")};
  c.subnets = {P("10.2.0.0/24")};
  c.groups = {"ops"};
  c.not_before = kNotBefore;
  c.not_after = kNotAfter;
  const auto s = sign(c, ca);
  REQUIRE(s);
  const std::string expected =
      // "GWC", version 1, name "gw-b"
      "475743"
      "01"
      "04"
      "67772d62"
      // X25519 public key
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      // 2 addresses: 10.88.0.2/24, fd88::2/64
      "02"
      "04"
      "0a580002"
      "18"
      "06"
      "fd880000000000000000000000000002"
      "40"
      // 1 subnet: 10.2.0.0/24
      "01"
      "04"
      "0a020000"
      "18"
      // 1 group: "ops"
      "01"
      "03"
      "6f7073"
      // not_before, not_after
      "0000000065920080"
      "0000000067748580"
      // issuer: SHA-256 of the CA's public key
      "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
      // signature
      "1df94069262b04a6602e9a8c7150cb0a8fc0fb7e8fa8870bee8a27b0b1ab2adb"
      "3e455903aa0c5408410b92e9769194a8602a37f8b2ec1b8cd59547342b78cf05";
  CHECK(gw::test::to_hex(encode(*s)) == expected);
  CHECK(gw::identity::to_hex(s->issuer) ==
        "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9");
  CHECK(gw::identity::to_hex(fingerprint(*s)) ==
        "65e6ba51c5b0327361a3a843a6a77cc9ee49c9996f7a4e3ee1c5544337193b73");
  CHECK(verify(*s, {ca.public_key}, {}, kNotBefore) == CertError::ok);
}

TEST_CASE("identity: decode refuses every truncation of a valid encoding") {
  const Buf bytes = encode(signed_sample(ca_from_byte(3)));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    const std::string e =
        decode_error(Buf(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK(e.rfind("truncated: the input ends in ", 0) == 0);
  }
  CHECK(contains(decode_error({}), "ends in magic"));
  CHECK(contains(decode_error(Buf(bytes.begin(), bytes.end() - 1)), "ends in signature"));
  CHECK(contains(decode_error(Buf(bytes.begin(), bytes.end() - 64)), "ends in signature"));
  CHECK(contains(decode_error(Buf(bytes.begin(), bytes.end() - 65)), "ends in issuer"));
}

TEST_CASE("identity: decode refuses every field out of range, unsorted or repeated") {
  const Raw good = Raw::of(signed_sample(ca_from_byte(4)));
  REQUIRE(decode(good.bytes()).has_value());
  const RawPrefix v4 = raw_prefix(P("10.0.0.1/24"));
  const RawPrefix v6 = raw_prefix(P("fd00::1/64"));
  struct Case {
    std::string what;
    std::function<void(Raw&)> edit;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"bad magic",
       [](Raw& r) {
         r.magic = {'G', 'W', 'D'};
       },
       "magic: expected \"GWC\""},
      {"lowercase magic",
       [](Raw& r) {
         r.magic = {'g', 'w', 'c'};
       },
       "magic"},
      {"version 0", [](Raw& r) { r.version = 0; }, "version: 0, expected 1"},
      {"version 2", [](Raw& r) { r.version = 2; }, "version: 2, expected 1"},
      {"empty name", [](Raw& r) { r.name.clear(); }, "name: empty"},
      {"long name", [](Raw& r) { r.name = std::string(65, 'a'); }, "name: 65 bytes, at most 64"},
      {"space in name", [](Raw& r) { r.name = "lap top"; }, "name: character 0x20 at 3"},
      {"slash in name", [](Raw& r) { r.name = "a/b"; }, "name: character '/' at 1"},
      {"NUL in name", [](Raw& r) { r.name = std::string("a\0b", 3); }, "name: character 0x00"},
      {"UTF-8 in name", [](Raw& r) { r.name = "caf\xc3\xa9"; }, "name: character 0xc3"},
      {"9 addresses", [&](Raw& r) { r.addresses.assign(9, v4); },
       "addresses: 9 entries, at most 8"},
      {"family 5",
       [&](Raw& r) {
         r.addresses = {v4};
         r.addresses[0].family = 5;
       },
       "addresses[0]: family 5, expected 4 or 6"},
      {"family 0",
       [&](Raw& r) {
         r.addresses = {v4};
         r.addresses[0].family = 0;
       },
       "addresses[0]: family 0"},
      {"IPv4 /33",
       [&](Raw& r) {
         r.addresses = {v4};
         r.addresses[0].length = 33;
       },
       "addresses[0]: prefix length 33 exceeds 32"},
      {"IPv6 /129",
       [&](Raw& r) {
         r.addresses = {v4, v6};
         r.addresses[1].length = 129;
       },
       "addresses[1]: prefix length 129 exceeds 128"},
      {"IPv6 before IPv4",
       [&](Raw& r) {
         r.addresses = {v6, v4};
       },
       "addresses[1]: 10.0.0.1/24 is out of order"},
      {"addresses unsorted by address",
       [&](Raw& r) {
         r.addresses = {raw_prefix(P("10.0.0.2/24")), v4};
       },
       "addresses[1]: 10.0.0.1/24 is out of order"},
      {"addresses unsorted by length",
       [&](Raw& r) {
         r.addresses = {v4, raw_prefix(P("10.0.0.1/16"))};
       },
       "addresses[1]: 10.0.0.1/16 is out of order"},
      {"repeated address",
       [&](Raw& r) {
         r.addresses = {v4, v6, v6};
       },
       "addresses[2]: fd00::1/64 repeats addresses[1]"},
      {"65 subnets", [&](Raw& r) { r.subnets.assign(65, raw_prefix(P("10.0.0.0/8"))); },
       "subnets: 65 entries, at most 64"},
      {"255 subnets", [&](Raw& r) { r.subnets.assign(255, raw_prefix(P("10.0.0.0/8"))); },
       "subnets: 255 entries, at most 64"},
      {"subnet family 7",
       [&](Raw& r) {
         r.subnets = {v4};
         r.subnets[0].family = 7;
       },
       "subnets[0]: family 7, expected 4 or 6"},
      {"subnet /40",
       [&](Raw& r) {
         r.subnets = {raw_prefix(P("10.0.0.0/8"))};
         r.subnets[0].length = 40;
       },
       "subnets[0]: prefix length 40 exceeds 32"},
      {"host bits in IPv4 subnet",
       [&](Raw& r) {
         r.subnets = {raw_prefix(P("10.0.0.0/8")), raw_prefix(P("10.2.0.1/24"))};
       },
       "subnets[1]: host bits set in 10.2.0.1/24"},
      {"host bits in IPv6 subnet", [&](Raw& r) { r.subnets = {raw_prefix(P("fd02::1/64"))}; },
       "subnets[0]: host bits set in fd02::1/64"},
      {"host bits in /0", [&](Raw& r) { r.subnets = {raw_prefix(P("1.0.0.0/0"))}; },
       "subnets[0]: host bits set"},
      {"subnets unsorted",
       [&](Raw& r) {
         r.subnets = {raw_prefix(P("10.2.0.0/24")), raw_prefix(P("10.1.0.0/24"))};
       },
       "subnets[1]: 10.1.0.0/24 is out of order"},
      {"repeated subnet",
       [&](Raw& r) {
         r.subnets = {raw_prefix(P("10.2.0.0/24")), raw_prefix(P("10.2.0.0/24"))};
       },
       "subnets[1]: 10.2.0.0/24 repeats subnets[0]"},
      {"33 groups", [](Raw& r) { r.groups.assign(33, "g"); }, "groups: 33 entries, at most 32"},
      {"empty group", [](Raw& r) { r.groups = {""}; }, "groups[0]: empty"},
      {"long group",
       [](Raw& r) {
         r.groups = {"a", std::string(65, 'b')};
       },
       "groups[1]: 65 bytes, at most 64"},
      {"comma in group",
       [](Raw& r) {
         r.groups = {"a", "b,c"};
       },
       "groups[1]: character ','"},
      {"groups unsorted",
       [](Raw& r) {
         r.groups = {"ops", "admins"};
       },
       "groups[1]: \"admins\" is out of order"},
      {"uppercase sorts first",
       [](Raw& r) {
         r.groups = {"ops", "Ops"};
       },
       "groups[1]: \"Ops\" is out of order"},
      {"repeated group",
       [](Raw& r) {
         r.groups = {"ops", "ops"};
       },
       "groups[1]: \"ops\" repeats groups[0]"},
      {"not_before == not_after", [](Raw& r) { r.not_after = r.not_before; },
       "not_after: 1704067200 is not after not_before 1704067200"},
      {"not_before > not_after", [](Raw& r) { std::swap(r.not_before, r.not_after); },
       "not_after: "},
      {"a trailing byte", [](Raw& r) { r.trailing = {0}; }, "trailing bytes after the signature"},
      {"trailing bytes", [](Raw& r) { r.trailing = Buf(100, 0xff); },
       "trailing bytes after the signature"},
      {"larger than 4096 bytes", [](Raw& r) { r.trailing = Buf(4096, 0); }, "bytes, at most 4096"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Raw r = good;
    c.edit(r);
    const std::string e = decode_error(r.bytes());
    CHECK_MESSAGE(contains(e, c.error), e);
  }
}

TEST_CASE("identity: sign refuses what decode refuses, after sorting") {
  const CaKey ca = ca_from_byte(5);
  struct Case {
    std::string what;
    std::function<void(Certificate&)> edit;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"version 2", [](Certificate& c) { c.version = 2; }, "version: 2, expected 1"},
      {"empty name", [](Certificate& c) { c.name.clear(); }, "name: empty"},
      {"long name", [](Certificate& c) { c.name = std::string(65, 'a'); }, "name: 65 bytes"},
      {"name character", [](Certificate& c) { c.name = "a:b"; }, "name: character ':' at 1"},
      {"9 addresses",
       [](Certificate& c) {
         c.addresses.clear();
         for (int i = 1; i <= 9; ++i)
           c.addresses.push_back(P("10.0.0." + std::to_string(i) + "/24"));
       },
       "addresses: 9 entries, at most 8"},
      {"repeated address", [](Certificate& c) { c.addresses.push_back(P("10.88.0.7/24")); },
       "addresses[1]: 10.88.0.7/24 repeats addresses[0]"},
      {"bad family",
       [](Certificate& c) {
         c.addresses = {P("10.0.0.1/32")};
         c.addresses[0].family = static_cast<Family>(5);
       },
       "addresses[0]: family 5"},
      {"length beyond the family",
       [](Certificate& c) {
         c.addresses = {P("10.0.0.1/32")};
         c.addresses[0].length = 33;
       },
       "addresses[0]: prefix length 33 exceeds 32"},
      {"IPv4 with bytes beyond the fourth",
       [](Certificate& c) {
         c.addresses = {P("10.0.0.1/32")};
         c.addresses[0].address[4] = 1;
       },
       "addresses[0]: IPv4 address with bytes beyond the fourth"},
      {"host bits", [](Certificate& c) { c.subnets = {P("10.9.9.9/8")}; },
       "subnets[0]: host bits set in 10.9.9.9/8"},
      {"65 subnets",
       [](Certificate& c) {
         c.subnets.clear();
         for (int i = 0; i < 65; ++i)
           c.subnets.push_back(P("10." + std::to_string(i) + ".0.0/16"));
       },
       "subnets: 65 entries, at most 64"},
      {"repeated subnet", [](Certificate& c) { c.subnets.push_back(P("fd02::/64")); },
       "repeats subnets"},
      {"33 groups",
       [](Certificate& c) {
         c.groups.clear();
         for (int i = 0; i < 33; ++i)
           c.groups.push_back("g" + std::to_string(i));
       },
       "groups: 33 entries, at most 32"},
      {"repeated group", [](Certificate& c) { c.groups.push_back("ops"); },
       "groups[3]: \"ops\" repeats groups[2]"},
      {"empty group", [](Certificate& c) { c.groups.push_back(""); }, "groups[0]: empty"},
      {"group character", [](Certificate& c) { c.groups = {"a b"}; }, "groups[0]: character 0x20"},
      {"dates", [](Certificate& c) { c.not_after = c.not_before; }, "not_after: "},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Certificate c = sample();
    k.edit(c);
    std::string e;
    CHECK_FALSE(sign(c, ca, &e).has_value());
    CHECK_MESSAGE(contains(e, k.error), e);
    // encode() will not write such a struct either.
    CHECK_THROWS_AS(encode(c), std::invalid_argument);
  }

  // A CaKey whose public half is not its seed's.
  CaKey broken = ca_from_byte(5);
  broken.public_key = ca_from_byte(6).public_key;
  std::string e;
  CHECK_FALSE(sign(sample(), broken, &e).has_value());
  CHECK(contains(e, "ca: the public key does not belong to the seed"));
}

TEST_CASE("identity: the signature covers every byte") {
  const CaKey ca = ca_from_byte(6);
  const Certificate c = signed_sample(ca);
  const Buf bytes = encode(c);
  const std::size_t issuer_at = bytes.size() - 64 - 32;
  std::size_t decoded = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      CAPTURE(i);
      CAPTURE(static_cast<unsigned>(mask));
      Buf edited = bytes;
      edited[i] ^= mask;
      const auto d = decode(edited);
      if (!d) continue;
      ++decoded;
      const CertError r = verify(*d, {ca.public_key}, {}, kNotBefore);
      const bool in_issuer = i >= issuer_at && i < issuer_at + 32;
      CHECK(r == (in_issuer ? CertError::unknown_ca : CertError::bad_signature));
    }
  }
  // Most edits still decode (key, dates, issuer, signature bytes): they are
  // what the signature has to catch.
  CHECK(decoded > 300);
}

TEST_CASE("identity: verify reports each failure, in the documented order") {
  const CaKey ca = ca_from_byte(7);
  const CaKey other = ca_from_byte(8);
  const Certificate c = signed_sample(ca);
  const std::vector<CaPublicKey> trusted = {other.public_key, ca.public_key};
  const RevocationList none;
  RevocationList revoked;
  revoked.add(fingerprint(c));
  const gw::crypto::PublicKey key = c.public_key;
  const gw::crypto::PublicKey wrong = key_from_byte(0x41);

  SUBCASE("validity: [not_before, not_after)") {
    CHECK(verify(c, trusted, none, kNotBefore) == CertError::ok);
    CHECK(verify(c, trusted, none, kNotBefore - 1) == CertError::not_yet_valid);
    CHECK(verify(c, trusted, none, std::numeric_limits<std::int64_t>::min()) ==
          CertError::not_yet_valid);
    CHECK(verify(c, trusted, none, kNotAfter - 1) == CertError::ok);
    CHECK(verify(c, trusted, none, kNotAfter) == CertError::expired);
    CHECK(verify(c, trusted, none, std::numeric_limits<std::int64_t>::max()) == CertError::expired);
  }

  SUBCASE("revoked") {
    CHECK(verify(c, trusted, revoked, kNotBefore, key) == CertError::revoked);
    RevocationList others;
    others.add(fingerprint(signed_sample(other)));
    CHECK(verify(c, trusted, others, kNotBefore) == CertError::ok);
  }

  SUBCASE("unknown CA") {
    CHECK(verify(c, {}, none, kNotBefore) == CertError::unknown_ca);
    CHECK(verify(c, {other.public_key}, none, kNotBefore) == CertError::unknown_ca);
  }

  SUBCASE("bad signature: a tampered certificate") {
    Certificate t = c;
    t.name = "laptop-8";
    CHECK(verify(t, trusted, none, kNotBefore) == CertError::bad_signature);
    t = c;
    t.not_after = kNotAfter + 1;
    CHECK(verify(t, trusted, none, kNotBefore) == CertError::bad_signature);
    t = c;
    t.signature[10] ^= 1;
    CHECK(verify(t, trusted, none, kNotBefore) == CertError::bad_signature);
    // Another CA's signature under this CA's name.
    Certificate forged = signed_sample(other);
    forged.issuer = ca_fingerprint(ca.public_key);
    CHECK(verify(forged, trusted, none, kNotBefore) == CertError::bad_signature);
    // A struct no CA would sign: its encoding is not even defined.
    t = c;
    std::swap(t.groups[0], t.groups[1]);
    CHECK(verify(t, trusted, none, kNotBefore) == CertError::bad_signature);
    t = c;
    t.name = std::string(300, 'a');
    CHECK(verify(t, trusted, none, kNotBefore) == CertError::bad_signature);
  }

  SUBCASE("key mismatch") {
    CHECK(verify(c, trusted, none, kNotBefore, wrong) == CertError::key_mismatch);
    CHECK(verify(c, trusted, none, kNotBefore, key) == CertError::ok);
  }

  SUBCASE("the first failure in the order wins") {
    Certificate tampered = c;
    tampered.name = "laptop-8";
    // unknown_ca before bad_signature
    CHECK(verify(tampered, {other.public_key}, revoked, kNotAfter, wrong) == CertError::unknown_ca);
    // bad_signature before key_mismatch, revoked and the dates
    CHECK(verify(tampered, trusted, revoked, kNotAfter, wrong) == CertError::bad_signature);
    CHECK(verify(tampered, trusted, none, kNotBefore - 1) == CertError::bad_signature);
    // key_mismatch before revoked and the dates
    CHECK(verify(c, trusted, revoked, kNotAfter, wrong) == CertError::key_mismatch);
    // revoked before the dates
    CHECK(verify(c, trusted, revoked, kNotAfter) == CertError::revoked);
    CHECK(verify(c, trusted, revoked, kNotBefore - 1) == CertError::revoked);
  }
}

TEST_CASE("identity: each CertError has a sentence and a snake_case reason") {
  const std::vector<std::pair<CertError, std::string>> all = {
      {CertError::ok, "ok"},
      {CertError::expired, "expired"},
      {CertError::not_yet_valid, "not_yet_valid"},
      {CertError::revoked, "revoked"},
      {CertError::unknown_ca, "unknown_ca"},
      {CertError::bad_signature, "bad_signature"},
      {CertError::key_mismatch, "key_mismatch"},
  };
  std::vector<std::string> sentences;
  for (const auto& [e, name] : all) {
    CHECK(gw::identity::reason(e) == name);
    const std::string s = gw::identity::to_string(e);
    CHECK(s.rfind("the certificate", 0) == 0);
    CHECK(s.back() != '.');
    sentences.push_back(s);
  }
  CHECK(std::string(gw::identity::to_string(CertError::expired)) == "the certificate has expired");
  std::sort(sentences.begin(), sentences.end());
  CHECK(std::adjacent_find(sentences.begin(), sentences.end()) == sentences.end());
}

TEST_CASE("identity: armour round trip and its tolerances") {
  const Certificate c = signed_sample(ca_from_byte(9));
  const std::string text = armor(c);
  CHECK(text.rfind("-----BEGIN GW CERTIFICATE-----\n", 0) == 0);
  CHECK(text.size() > 30);
  CHECK(text.substr(text.size() - 29) == "-----END GW CERTIFICATE-----\n");
  // Lines of 64 but the last.
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find('\n', pos);
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  REQUIRE(lines.size() >= 4);
  for (std::size_t i = 1; i + 2 < lines.size(); ++i)
    CHECK(lines[i].size() == 64);
  CHECK(lines[lines.size() - 2].size() <= 64);
  CHECK(lines[lines.size() - 2].size() >= 1);

  std::string e;
  CHECK(dearmor(text, &e) == c);
  std::string crlf;
  for (char ch : text) {
    if (ch == '\n') crlf += '\r';
    crlf += ch;
  }
  CHECK(dearmor(crlf, &e) == c);
  CHECK(dearmor("\n\n  \t" + text + "\n\n  ", &e) == c);
  CHECK(dearmor(text.substr(0, text.size() - 1), &e) == c);  // no final newline
}

TEST_CASE("identity: dearmor refuses anything else") {
  const Certificate c = signed_sample(ca_from_byte(10));
  const std::string text = armor(c);
  const std::size_t first_body = text.find('\n') + 1;
  const std::string begin = "-----BEGIN GW CERTIFICATE-----\n";
  const std::string end = "-----END GW CERTIFICATE-----\n";
  // The body as one string without line breaks.
  std::string b64;
  for (std::size_t pos = first_body; pos < text.size() - end.size(); ++pos) {
    if (text[pos] != '\n') b64 += text[pos];
  }
  auto wrap = [&](const std::string& body, std::size_t width) {
    std::string out = begin;
    for (std::size_t i = 0; i < body.size(); i += width)
      out += body.substr(i, width) + "\n";
    return out + end;
  };
  REQUIRE(wrap(b64, 64) == text);

  // Base64 of an encoding that decode() refuses.
  Buf trailing = encode(c);
  trailing.push_back(0);
  std::string bad_b64(sodium_base64_encoded_len(trailing.size(), sodium_base64_VARIANT_ORIGINAL),
                      '\0');
  sodium_bin2base64(bad_b64.data(), bad_b64.size(), trailing.data(), trailing.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  bad_b64.pop_back();

  struct Case {
    std::string what;
    std::string text;
    const char* error;
  };
  // Of two encodings one byte apart, at least one needs padding.
  const std::string padded = b64.find('=') != std::string::npos ? b64 : bad_b64;
  REQUIRE(padded.find('=') != std::string::npos);
  // The character before the padding has spare low bits, which must be zero.
  std::string non_canonical = padded;
  {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char& last = non_canonical[non_canonical.find('=') - 1];
    last = kAlphabet[kAlphabet.find(last) | 1];
  }
  const std::vector<Case> cases = {
      {"empty", "", "line 1: expected -----BEGIN GW CERTIFICATE-----"},
      {"blanks", " \n\r\n ", "line 1"},
      {"bare base64", b64, "line 1"},
      {"another label", "-----BEGIN GW KEY-----\n" + text.substr(first_body), "line 1"},
      {"no end line", text.substr(0, text.size() - end.size()), "expected -----END GW"},
      {"only the armour lines", begin + end, "expected -----END GW CERTIFICATE-----"},
      {"text after the end", text + "x\n", "expected -----END GW CERTIFICATE-----"},
      {"two certificates", text + text, "line "},
      {"a blank line inside", begin + "\n" + text.substr(first_body), "line 2: expected 64"},
      {"an indented line", begin + " " + text.substr(first_body), "line 2: expected 64"},
      {"a trailing blank on a line", wrap(b64, 64).insert(begin.size() + 64, " "),
       "line 2: expected 64 base64 characters, got 65"},
      {"lines of 76", wrap(b64, 76), "line 2: expected 64 base64 characters, got 76"},
      {"lines of 60", wrap(b64, 60), "line 2: expected 64 base64 characters, got 60"},
      {"one long line", wrap(b64, 10000), "line 2: expected 1 to 64 base64 characters, got"},
      {"a stray CR", wrap(b64, 64).insert(begin.size() + 10, "\r"), "line 2:"},
      {"URL-safe alphabet", begin + "-_" + text.substr(first_body + 2),
       "line 2: character '-' is not base64"},
      {"a NUL", begin + std::string(1, '\0') + text.substr(first_body + 1),
       "line 2: character 0x00 is not base64"},
      {"padding removed", wrap(padded.substr(0, padded.find('=')), 64),
       "not canonical padded base64"},
      {"padding in the middle", wrap("AA==" + b64.substr(4), 64), "not canonical padded base64"},
      {"non-canonical final bits", wrap(non_canonical, 64), "not canonical padded base64"},
      {"a valid base64 of a bad certificate", wrap(bad_b64, 64),
       "certificate: trailing bytes after the signature"},
      {"base64 of nothing valid", wrap("AAAA", 64), "certificate: magic"},
      {"far too many lines", begin + std::string(100, 'A') + std::string(200, '\n') + end,
       "more lines than any certificate has"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    std::string e;
    CHECK_FALSE(dearmor(k.text, &e).has_value());
    CHECK_MESSAGE(contains(e, k.error), e);
  }
}

TEST_CASE("identity: fingerprints in hex") {
  const Fingerprint f = fingerprint(signed_sample(ca_from_byte(11)));
  const std::string hex = gw::identity::to_hex(f);
  CHECK(hex.size() == 64);
  CHECK(hex == gw::test::to_hex(f));
  CHECK(fingerprint_from_hex(hex) == f);
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char ch) { return static_cast<char>(std::toupper(ch)); });
  for (const std::string& bad : {std::string(), hex.substr(1), hex + "0", " " + hex.substr(1),
                                 hex.substr(0, 63) + "g", upper, std::string(64, 'A')}) {
    CAPTURE(bad);
    CHECK_FALSE(fingerprint_from_hex(bad).has_value());
  }
}

TEST_CASE("identity: revocation lists") {
  const Fingerprint a = fingerprint(signed_sample(ca_from_byte(12)));
  const Fingerprint b = fingerprint(signed_sample(ca_from_byte(13)));
  const Fingerprint c = fingerprint(signed_sample(ca_from_byte(14)));
  const std::string ha = gw::identity::to_hex(a);
  const std::string hb = gw::identity::to_hex(b);
  const std::string hc = gw::identity::to_hex(c);

  SUBCASE("add, contains, to_text, parse") {
    RevocationList list;
    CHECK(list.size() == 0);
    CHECK(list.to_text().empty());
    CHECK(list.add(c));
    CHECK(list.add(a));
    CHECK(list.add(b));
    CHECK_FALSE(list.add(a));
    CHECK(list.size() == 3);
    CHECK(list.contains(a));
    CHECK(list.contains(b));
    CHECK(list.contains(c));
    CHECK_FALSE(list.contains(Fingerprint{}));
    std::vector<std::string> sorted = {ha, hb, hc};
    std::sort(sorted.begin(), sorted.end());
    CHECK(list.to_text() == sorted[0] + "\n" + sorted[1] + "\n" + sorted[2] + "\n");
    std::string e;
    const auto back = RevocationList::parse(list.to_text(), &e);
    REQUIRE_MESSAGE(back.has_value(), e);
    CHECK(back->to_text() == list.to_text());
    CHECK(back->size() == 3);
    CHECK(RevocationList::parse("", &e)->size() == 0);
  }

  SUBCASE("comments, blank lines, surrounding blanks, CRLF and repeats") {
    const std::string text = "# revoked by ops\n\n" + ha + "\n   \n\t" + hb +
                             "  # laptop stolen, 2024-03-02\r\n" + ha + "\r\n#" + hc + "\n" +
                             hc;  // no final newline
    std::string e;
    const auto list = RevocationList::parse(text, &e);
    REQUIRE_MESSAGE(list.has_value(), e);
    CHECK(list->size() == 3);
    CHECK(list->contains(a));
    CHECK(list->contains(b));
    CHECK(list->contains(c));
    const auto commented = RevocationList::parse("#" + ha + "\n", &e);
    REQUIRE(commented);
    CHECK(commented->size() == 0);
  }

  SUBCASE("refusals name the line") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"x\n", "line 1:"},
        {ha + "\n" + hb.substr(1) + "\n", "line 2:"},
        {"\n\n" + hb + "0\n", "line 3:"},
        {"# ok\n" + std::string(64, 'A') + "\n", "line 2:"},
        {ha + " " + hb + "\n", "line 1:"},
        {ha + "\n\n\n" + ha.substr(0, 63) + "g\n", "line 4:"},
        {"0x" + ha.substr(2) + "\n", "line 1:"},
        {ha + "; laptop\n", "line 1:"},
    };
    for (const auto& entry : cases) {
      const std::string& text =
          entry.first;  // not a structured binding: clang 14 cannot CAPTURE one
      const std::string& where = entry.second;
      CAPTURE(text);
      std::string e;
      CHECK_FALSE(RevocationList::parse(text, &e).has_value());
      CHECK(e.rfind(where, 0) == 0);
      CHECK(contains(e, "64 lowercase hex digits"));
    }
  }
}
