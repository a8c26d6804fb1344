// SPDX-License-Identifier: MIT
// AEAD (include/gw/crypto/aead.hpp): ChaCha20-Poly1305 (RFC 8439) and
// AES-256-GCM (McGrew-Viega, "The Galois/Counter Mode of Operation", test case 16).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gw/crypto/aead.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::crypto::AeadKey;
using gw::crypto::AeadKeyBytes;
using gw::crypto::CipherAlg;
using gw::crypto::Nonce;
using gw::test::array_from_hex;
using gw::test::as_bytes;
using gw::test::counting_bytes;
using gw::test::from_hex;
using gw::test::to_hex;

namespace {

struct KnownAnswer {
  const char* name;
  CipherAlg alg;
  std::string key;
  std::string nonce;
  std::string ad;
  std::vector<std::uint8_t> plaintext;
  std::string ciphertext_and_tag;
};

// RFC 8439 section 2.8.2.
KnownAnswer rfc8439_vector() {
  const std::string_view text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  return {
      "RFC 8439 2.8.2",
      CipherAlg::chachapoly,
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
      "070000004041424344454647",
      "50515253c0c1c2c3c4c5c6c7",
      std::vector<std::uint8_t>(text.begin(), text.end()),
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116"
      "1ae10b594f09e26a7e902ecbd0600691",  // tag
  };
}

// The GCM specification (McGrew and Viega), test case 16: AES-256, 96-bit IV, AAD.
KnownAnswer gcm_test_case_16() {
  return {
      "GCM test case 16",
      CipherAlg::aesgcm,
      "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
      "cafebabefacedbaddecaf888",
      "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      from_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
               "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"),
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b",  // tag
  };
}

AeadKeyBytes key_from_hex(std::string_view hex) {
  const auto bytes = from_hex(hex);
  return AeadKeyBytes(Bytes(bytes));
}

// Every cipher this machine can run.
std::vector<CipherAlg> available_ciphers() {
  std::vector<CipherAlg> algs{CipherAlg::chachapoly};
  if (gw::crypto::aes256gcm_available()) algs.push_back(CipherAlg::aesgcm);
  return algs;
}

const char* name_of(CipherAlg alg) {
  return alg == CipherAlg::chachapoly ? "ChaChaPoly" : "AESGCM";
}

void check_known_answer(const KnownAnswer& v) {
  CAPTURE(v.name);
  const AeadKey key(v.alg, key_from_hex(v.key));
  CHECK(key.alg() == v.alg);
  const Nonce nonce = array_from_hex<12>(v.nonce);
  const auto ad = from_hex(v.ad);

  // Seal into a separate buffer.
  std::vector<std::uint8_t> ct(v.plaintext.size() + 16);
  REQUIRE(key.seal(nonce, ad, v.plaintext, ct) == ct.size());
  CHECK(to_hex(ct) == v.ciphertext_and_tag);

  // Open into a separate buffer.
  std::vector<std::uint8_t> pt(v.plaintext.size());
  std::size_t written = 99;
  REQUIRE(key.open(nonce, ad, ct, pt, written));
  CHECK(written == v.plaintext.size());
  CHECK(pt == v.plaintext);

  // In place, both ways.
  std::vector<std::uint8_t> buf(v.plaintext.size() + 16);
  std::copy(v.plaintext.begin(), v.plaintext.end(), buf.begin());
  REQUIRE(key.seal(nonce, ad, Bytes(buf.data(), v.plaintext.size()), buf) == buf.size());
  CHECK(to_hex(buf) == v.ciphertext_and_tag);
  REQUIRE(key.open(nonce, ad, buf, buf, written));
  CHECK(written == v.plaintext.size());
  CHECK(std::equal(v.plaintext.begin(), v.plaintext.end(), buf.begin()));
}

}  // namespace

TEST_CASE("AEAD: ChaCha20-Poly1305 matches RFC 8439 section 2.8.2") {
  check_known_answer(rfc8439_vector());
}

TEST_CASE("AEAD: AES-256-GCM matches GCM test case 16, or is refused without AES-NI") {
  const KnownAnswer v = gcm_test_case_16();
  if (gw::crypto::aes256gcm_available()) {
    check_known_answer(v);
  } else {
    MESSAGE("AES-256-GCM not available on this CPU: checking that it is refused");
    CHECK_THROWS_AS(AeadKey(CipherAlg::aesgcm, key_from_hex(v.key)), std::runtime_error);
  }
}

TEST_CASE("AEAD: key_bytes returns the key; copies and moves keep working") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(name_of(alg));
    const auto raw = counting_bytes(32, 0x40);
    const AeadKeyBytes kb{Bytes(raw)};
    AeadKey key(alg, kb);
    CHECK(key.key_bytes() == kb);

    const Nonce nonce{};
    const auto msg = as_bytes("copy me");
    std::vector<std::uint8_t> ct1(msg.size() + 16), ct2(msg.size() + 16), ct3(msg.size() + 16);
    REQUIRE(key.seal(nonce, {}, msg, ct1) == ct1.size());

    const AeadKey copy(key);
    REQUIRE(copy.seal(nonce, {}, msg, ct2) == ct2.size());
    CHECK(ct1 == ct2);

    AeadKey assigned(CipherAlg::chachapoly, AeadKeyBytes{});
    assigned = copy;
    CHECK(assigned.alg() == alg);
    REQUIRE(assigned.seal(nonce, {}, msg, ct3) == ct3.size());
    CHECK(ct1 == ct3);

    AeadKey moved(std::move(key));
    std::fill(ct3.begin(), ct3.end(), 0);
    REQUIRE(moved.seal(nonce, {}, msg, ct3) == ct3.size());
    CHECK(ct1 == ct3);
  }
}

TEST_CASE("AEAD: empty plaintext gives a bare tag that authenticates the AD") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(name_of(alg));
    const AeadKey key(alg, AeadKeyBytes(Bytes(counting_bytes(32, 1))));
    const Nonce nonce = array_from_hex<12>("000000000102030405060708");
    const auto ad = as_bytes("header");
    std::vector<std::uint8_t> tag(16);
    REQUIRE(key.seal(nonce, ad, {}, tag) == 16);
    std::size_t written = 99;
    std::vector<std::uint8_t> none;
    CHECK(key.open(nonce, ad, tag, none, written));
    CHECK(written == 0);
    CHECK_FALSE(key.open(nonce, as_bytes("headex"), tag, none, written));
  }
}

TEST_CASE("AEAD: changing any single byte of ciphertext, tag, AD or nonce fails") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(name_of(alg));
    const AeadKey key(alg, AeadKeyBytes(Bytes(counting_bytes(32, 7))));
    const Nonce nonce = array_from_hex<12>("000000001122334455667788");
    const auto ad = counting_bytes(21, 0x30);
    const auto pt = counting_bytes(37, 0x90);
    std::vector<std::uint8_t> ct(pt.size() + 16);
    REQUIRE(key.seal(nonce, ad, pt, ct) == ct.size());
    std::vector<std::uint8_t> out(pt.size());
    std::size_t written = 0;
    REQUIRE(key.open(nonce, ad, ct, out, written));
    REQUIRE(out == pt);

    for (std::size_t i = 0; i < ct.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        CAPTURE(i);
        CAPTURE(bit);
        auto bad = ct;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        CHECK_FALSE(key.open(nonce, ad, bad, out, written));
      }
    }
    for (std::size_t i = 0; i < ad.size(); ++i) {
      CAPTURE(i);
      auto bad = ad;
      bad[i] ^= 0x01;
      CHECK_FALSE(key.open(nonce, bad, ct, out, written));
    }
    for (std::size_t i = 0; i < nonce.size(); ++i) {
      CAPTURE(i);
      Nonce bad = nonce;
      bad[i] ^= 0x80;
      CHECK_FALSE(key.open(bad, ad, ct, out, written));
    }
    // Truncated, extended, missing AD, other key.
    CHECK_FALSE(key.open(nonce, ad, Bytes(ct).first(ct.size() - 1), out, written));
    auto longer = ct;
    longer.push_back(0);
    std::vector<std::uint8_t> big(longer.size());
    CHECK_FALSE(key.open(nonce, ad, longer, big, written));
    CHECK_FALSE(key.open(nonce, {}, ct, out, written));
    const AeadKey other(alg, AeadKeyBytes(Bytes(counting_bytes(32, 8))));
    CHECK_FALSE(other.open(nonce, ad, ct, out, written));
    // After all that, the genuine message still opens.
    CHECK(key.open(nonce, ad, ct, out, written));
  }
}

TEST_CASE("AEAD: output buffers that are too small are refused") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(name_of(alg));
    const AeadKey key(alg, AeadKeyBytes(Bytes(counting_bytes(32, 3))));
    const Nonce nonce{};
    const auto pt = counting_bytes(40);
    std::vector<std::uint8_t> ct(pt.size() + 16, 0xee);

    // seal: 0 for every size below plaintext + 16, and nothing is written.
    for (std::size_t size = 0; size < ct.size(); ++size) {
      CAPTURE(size);
      CHECK(key.seal(nonce, {}, pt, gw::MutBytes(ct.data(), size)) == 0);
    }
    CHECK(std::all_of(ct.begin(), ct.end(), [](std::uint8_t b) { return b == 0xee; }));
    REQUIRE(key.seal(nonce, {}, pt, ct) == ct.size());

    // open: false for every size below ciphertext - 16.
    std::vector<std::uint8_t> out(pt.size());
    std::size_t written = 99;
    for (std::size_t size = 0; size < out.size(); ++size) {
      CAPTURE(size);
      CHECK_FALSE(key.open(nonce, {}, ct, gw::MutBytes(out.data(), size), written));
      CHECK(written == 0);
    }
    // A larger buffer than needed is fine.
    std::vector<std::uint8_t> roomy(pt.size() + 100);
    CHECK(key.open(nonce, {}, ct, roomy, written));
    CHECK(written == pt.size());
  }
}

TEST_CASE("AEAD: ciphertexts shorter than the tag are refused") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(name_of(alg));
    const AeadKey key(alg, AeadKeyBytes(Bytes(counting_bytes(32, 3))));
    std::vector<std::uint8_t> out(64);
    for (std::size_t len = 0; len < 16; ++len) {
      CAPTURE(len);
      const std::vector<std::uint8_t> ct(len, 0x11);
      std::size_t written = 99;
      CHECK_FALSE(key.open(Nonce{}, {}, ct, out, written));
      CHECK(written == 0);
    }
  }
}

TEST_CASE("AEAD: the two ciphers are different functions") {
  if (!gw::crypto::aes256gcm_available()) return;
  const AeadKeyBytes kb(Bytes(counting_bytes(32, 1)));
  const AeadKey chacha(CipherAlg::chachapoly, kb);
  const AeadKey aes(CipherAlg::aesgcm, kb);
  const auto pt = as_bytes("same key, same nonce");
  std::vector<std::uint8_t> a(pt.size() + 16), b(pt.size() + 16);
  REQUIRE(chacha.seal(Nonce{}, {}, pt, a) == a.size());
  REQUIRE(aes.seal(Nonce{}, {}, pt, b) == b.size());
  CHECK(a != b);
  std::vector<std::uint8_t> out(pt.size());
  std::size_t written = 0;
  CHECK_FALSE(aes.open(Nonce{}, {}, a, out, written));
  CHECK_FALSE(chacha.open(Nonce{}, {}, b, out, written));
}
