// SPDX-License-Identifier: MIT
// HMAC (include/gw/crypto/hmac.hpp): RFC 4231 for SHA-256 and SHA-512, and
// HMAC-BLAKE2b against an RFC 2104 computation written out here.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <sodium.h>

#include "gw/crypto/hmac.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::crypto::HashAlg;
using gw::crypto::Hmac;
using gw::test::as_bytes;
using gw::test::counting_bytes;
using gw::test::from_hex;
using gw::test::to_hex;

namespace {

constexpr HashAlg kAllHashes[] = {HashAlg::blake2b, HashAlg::sha256, HashAlg::sha512};

std::string hmac_hex(HashAlg alg, Bytes key, Bytes data) {
  std::array<std::uint8_t, 64> out{};
  gw::crypto::hmac(alg, key, data, out);
  return to_hex(Bytes(out).first(gw::crypto::hash_len(alg)));
}

// BLAKE2b-512, unkeyed, of the concatenation of `a` and `b`, in one call.
std::vector<std::uint8_t> blake2b(Bytes a, Bytes b = {}) {
  std::vector<std::uint8_t> in(a.begin(), a.end());
  in.insert(in.end(), b.begin(), b.end());
  std::vector<std::uint8_t> out(64);
  crypto_generichash(out.data(), out.size(), in.data(), in.size(), nullptr, 0);
  return out;
}

// RFC 2104, section 2, with B = 128 and L = 64, written independently of
// src/crypto/hmac.cpp: H(K ^ opad, H(K ^ ipad, text)).
std::vector<std::uint8_t> reference_hmac_blake2b(Bytes key, Bytes text) {
  std::vector<std::uint8_t> k(key.begin(), key.end());
  if (k.size() > 128) k = blake2b(k);
  k.resize(128, 0x00);
  std::vector<std::uint8_t> ipad_key(128), opad_key(128);
  for (std::size_t i = 0; i < 128; ++i) {
    ipad_key[i] = static_cast<std::uint8_t>(k[i] ^ 0x36);
    opad_key[i] = static_cast<std::uint8_t>(k[i] ^ 0x5c);
  }
  const auto inner = blake2b(ipad_key, text);
  return blake2b(opad_key, inner);
}

}  // namespace

TEST_CASE("HMAC: RFC 4231 test cases 1, 2, 6 and 7 for SHA-256 and SHA-512") {
  struct Case {
    int id;  // RFC 4231 test case number
    std::vector<std::uint8_t> key;
    std::string data;
    const char* sha256;
    const char* sha512;
  };
  const Case cases[] = {
      {1, std::vector<std::uint8_t>(20, 0x0b), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
       "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
      {2, std::vector<std::uint8_t>{'J', 'e', 'f', 'e'}, "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      // Key longer than the block of both hashes.
      {6, std::vector<std::uint8_t>(131, 0xaa),
       "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
       "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
      {7, std::vector<std::uint8_t>(131, 0xaa),
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
       "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.id);
    CHECK(hmac_hex(HashAlg::sha256, c.key, as_bytes(c.data)) == c.sha256);
    CHECK(hmac_hex(HashAlg::sha512, c.key, as_bytes(c.data)) == c.sha512);
  }
}

TEST_CASE("HMAC-BLAKE2b: equals an RFC 2104 computation for every key length class") {
  // Key lengths around the 128-byte block: shorter keys are padded, a key of
  // exactly 128 bytes is used as is, longer keys are hashed first.
  const std::size_t key_lengths[] = {0, 1, 20, 32, 63, 64, 65, 127, 128, 129, 131, 200, 256, 1000};
  const std::size_t data_lengths[] = {0, 1, 8, 127, 128, 129, 500};
  for (const std::size_t klen : key_lengths) {
    for (const std::size_t dlen : data_lengths) {
      CAPTURE(klen);
      CAPTURE(dlen);
      const auto key = counting_bytes(klen, static_cast<std::uint8_t>(klen));
      const auto data = counting_bytes(dlen, 0x5a);
      CHECK(hmac_hex(HashAlg::blake2b, key, data) == to_hex(reference_hmac_blake2b(key, data)));
    }
  }
}

TEST_CASE("HMAC-BLAKE2b: fixed answers (computed with Python's hmac and hashlib.blake2b)") {
  CHECK(hmac_hex(HashAlg::blake2b, std::vector<std::uint8_t>(20, 0x0b), as_bytes("Hi There")) ==
        "358a6a184924894fc34bee5680eedf57d84a37bb38832f288e3b27dc63a98cc8"
        "c91e76da476b508bc6b2d408a248857452906e4a20b48c6b4b55d2df0fe1dd24");
  CHECK(hmac_hex(HashAlg::blake2b, counting_bytes(128), as_bytes("exactly one block of key")) ==
        "627a036ea054239fb9949ca91a664f83ba687e2d032bd2832e86b99b52455ca8"
        "9f4d1a69eedef488c45d3505095d4654b5086d6266df42e491c4b4a76590c371");
  CHECK(hmac_hex(HashAlg::blake2b, std::vector<std::uint8_t>(131, 0xaa),
                 as_bytes("Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "a54b2943b2a20227d41ca46c0945af09bc1faefb2f49894c23aebc557fb79c48"
        "89dca74408dc865086667aedee4a3185c53a49c80b814c4c5813ea0c8b38a8f8");
}

TEST_CASE("HMAC-BLAKE2b: is not libsodium's keyed BLAKE2b") {
  for (const std::size_t klen : {std::size_t{16}, std::size_t{32}, std::size_t{64}}) {
    CAPTURE(klen);
    const auto key = counting_bytes(klen, 1);
    const auto data = as_bytes("some data");
    std::vector<std::uint8_t> keyed(64);
    crypto_generichash(keyed.data(), keyed.size(), data.data(), data.size(), key.data(),
                       key.size());
    CHECK(hmac_hex(HashAlg::blake2b, key, data) != to_hex(keyed));
  }
}

TEST_CASE("HMAC: incremental updates equal one-shot, and a prepared Hmac can be copied") {
  const auto key = counting_bytes(40, 0x11);
  const auto data = counting_bytes(300, 0x22);
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    const std::size_t len = gw::crypto::hash_len(alg);
    const std::string expected = hmac_hex(alg, key, data);
    for (const std::size_t split :
         {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{128},
          std::size_t{129}, std::size_t{300}}) {
      CAPTURE(split);
      Hmac mac(alg, key);
      mac.update(Bytes(data).first(split));
      mac.update(Bytes(data).subspan(split));
      std::array<std::uint8_t, 64> out{};
      mac.final(out);
      CHECK(to_hex(Bytes(out).first(len)) == expected);
    }

    // One key absorbed once, two messages computed from copies.
    const Hmac prepared(alg, key);
    Hmac a = prepared;
    a.update(data);
    Hmac b(prepared);
    b.update(as_bytes("other"));
    Hmac c(HashAlg::sha256, {});
    c = prepared;
    c.update(data);
    std::array<std::uint8_t, 64> ra{}, rb{}, rc{};
    a.final(ra);
    b.final(rb);
    c.final(rc);
    CHECK(to_hex(Bytes(ra).first(len)) == expected);
    CHECK(to_hex(Bytes(rb).first(len)) == hmac_hex(alg, key, as_bytes("other")));
    CHECK(to_hex(Bytes(rc).first(len)) == expected);
  }
}

TEST_CASE("HMAC: every key and data byte matters") {
  const auto key = counting_bytes(33, 1);
  const auto data = counting_bytes(17, 2);
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    const std::string base = hmac_hex(alg, key, data);
    for (std::size_t i = 0; i < key.size(); ++i) {
      CAPTURE(i);
      auto k = key;
      k[i] ^= 0x01;
      CHECK(hmac_hex(alg, k, data) != base);
    }
    for (std::size_t i = 0; i < data.size(); ++i) {
      CAPTURE(i);
      auto d = data;
      d[i] ^= 0x01;
      CHECK(hmac_hex(alg, key, d) != base);
    }
    // A key padded with a zero byte is the same HMAC key (RFC 2104), as long as
    // it stays within the block.
    auto padded = key;
    padded.push_back(0);
    CHECK(hmac_hex(alg, padded, data) == base);
  }
}

TEST_CASE("HMAC: an empty key is a valid key (padded with zeros)") {
  // Computed with Python's hmac module.
  const std::vector<std::uint8_t> empty;
  CHECK(hmac_hex(HashAlg::sha256, empty, as_bytes("abc")) ==
        "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351");
  CHECK(hmac_hex(HashAlg::sha512, empty, as_bytes("abc")) ==
        "29689f6b79a8dd686068c2eeae97fd8769ad3ba65cb5381f838358a8045a358e"
        "e3ba1739c689c7805e31734fb6072f87261d1256995370d55725cba00d10bdd0");
  CHECK(hmac_hex(HashAlg::blake2b, empty, as_bytes("abc")) ==
        "c23d7eb81509be346bab43f60e2b889e86301b0c029b3843ebbccac591a047e7"
        "04566cddda2f068c3ca504182a25e11ca9933911cd696eebe0f1df7ca8d98158");
  // A key of zero bytes equals no key at all (RFC 2104 pads with zeros).
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    CHECK(hmac_hex(alg, empty, as_bytes("abc")) ==
          hmac_hex(alg, std::vector<std::uint8_t>(20, 0), as_bytes("abc")));
  }
}
