// SPDX-License-Identifier: MIT
// HKDF as Noise defines it (include/gw/crypto/hkdf.hpp), checked against the
// definition of Noise section 4.3 computed here from hmac().
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gw/crypto/hkdf.hpp"
#include "gw/crypto/hmac.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::crypto::HashAlg;
using gw::test::counting_bytes;
using gw::test::to_hex;

namespace {

constexpr HashAlg kAllHashes[] = {HashAlg::blake2b, HashAlg::sha256, HashAlg::sha512};

std::vector<std::uint8_t> hmac_vec(HashAlg alg, Bytes key, Bytes data) {
  std::vector<std::uint8_t> out(gw::crypto::hash_len(alg));
  gw::crypto::hmac(alg, key, data, out);
  return out;
}

std::vector<std::uint8_t> concat(Bytes a, std::uint8_t b) {
  std::vector<std::uint8_t> out(a.begin(), a.end());
  out.push_back(b);
  return out;
}

// Noise section 4.3:
//   temp_key = HMAC-HASH(chaining_key, input_key_material)
//   output1 = HMAC-HASH(temp_key, byte(0x01))
//   output2 = HMAC-HASH(temp_key, output1 || byte(0x02))
//   output3 = HMAC-HASH(temp_key, output2 || byte(0x03))
struct Outputs {
  std::vector<std::uint8_t> o1, o2, o3;
};
Outputs reference_hkdf(HashAlg alg, Bytes ck, Bytes ikm) {
  const auto temp_key = hmac_vec(alg, ck, ikm);
  const std::uint8_t one = 0x01;
  Outputs r;
  r.o1 = hmac_vec(alg, temp_key, Bytes(&one, 1));
  r.o2 = hmac_vec(alg, temp_key, concat(r.o1, 0x02));
  r.o3 = hmac_vec(alg, temp_key, concat(r.o2, 0x03));
  return r;
}

}  // namespace

TEST_CASE("HKDF: two and three outputs equal the Noise definition, for every hash") {
  const std::size_t ikm_lengths[] = {0, 1, 32, 64, 200};
  for (const HashAlg alg : kAllHashes) {
    const std::size_t len = gw::crypto::hash_len(alg);
    for (const std::size_t ikm_len : ikm_lengths) {
      CAPTURE(gw::crypto::to_string(alg));
      CAPTURE(ikm_len);
      const auto ck = counting_bytes(len, 0x70);
      const auto ikm = counting_bytes(ikm_len, 0x01);
      const Outputs ref = reference_hkdf(alg, ck, ikm);

      std::vector<std::uint8_t> a1(len), a2(len);
      gw::crypto::hkdf(alg, ck, ikm, a1, a2);
      CHECK(to_hex(a1) == to_hex(ref.o1));
      CHECK(to_hex(a2) == to_hex(ref.o2));

      std::vector<std::uint8_t> b1(len), b2(len), b3(len);
      gw::crypto::hkdf(alg, ck, ikm, b1, b2, b3);
      CHECK(to_hex(b1) == to_hex(ref.o1));
      CHECK(to_hex(b2) == to_hex(ref.o2));
      CHECK(to_hex(b3) == to_hex(ref.o3));

      CHECK(a1 != a2);
      CHECK(b2 != b3);
    }
  }
}

TEST_CASE("HKDF: fixed answers (computed with Python's hmac module)") {
  struct Case {
    int id;
    HashAlg alg;
    const char* o1;
    const char* o2;
    const char* o3;
  };
  static const Case kCases[] = {
      {1, HashAlg::blake2b,
       "bb1fe18452e9c3c965e492200539a1339827c462b19abcc0932659fac595bc95"
       "b37b6c83d787c0414f01665919350340230449e79aa32649d71a6a0a38600719",
       "581a7f06a015075cb84b855618e800e743fced2ab0beab3baedc714c8e6a0e25"
       "0478cb0e80720feb1634038c168ae3773fd3cadfb7ede97c4b4fdd1a4db14ecf",
       "9af7ceadf5bc6b113509ee5cf00ce39ece8ba4537a9ed839e3747ed420949459"
       "7b1306727e6aa64c81c667d1638ee58d23ec3476cb4977cdf7eb5cb3253cffc7"},
      {2, HashAlg::sha256, "2607f5d05b268e0057684567787ed2f250fdb6e5b0572df9ef57a29539e5b5f8",
       "ccc538566c93ab32f7106fbee1e0e9fa5501f6363b63ce894b3a27385f13c86c",
       "f72d032483792781ae9b50b273a57a44b0f8c47ff9ca121e5443eb7a9dd62e74"},
      {3, HashAlg::sha512,
       "a2e1186406485faf357ba619c6c75481090bc4ecac98b06043d5c197fe38b2c0"
       "30e784a8caee5dfc30806bebd283238ffb12d46695bb980a3a1f500fe7614234",
       "153b57648abaffad3bdafa297b215a55172a805eb05fc42bb62d260e76ea18da"
       "c29dd26caa41d2468a598d215420939b6f13bdecadd32a8e399f7198dfa02372",
       "28c113392002886423268ed78e61caad5e02f8dc5a5985b64ef8ce021c8630c4"
       "5181e9de26dcac22e16c9e04a70f16bbd41e6d012a62e33c467b9ec8ef4b6246"},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    const std::size_t len = gw::crypto::hash_len(c.alg);
    // chaining key 00 01 .. (HASHLEN-1), input key material 20 21 .. 3f.
    const auto ck = counting_bytes(len, 0x00);
    const auto ikm = counting_bytes(32, 0x20);
    std::vector<std::uint8_t> o1(len), o2(len), o3(len);
    gw::crypto::hkdf(c.alg, ck, ikm, o1, o2, o3);
    CHECK(to_hex(o1) == c.o1);
    CHECK(to_hex(o2) == c.o2);
    CHECK(to_hex(o3) == c.o3);
  }
}

TEST_CASE("HKDF: outputs depend on every byte of the chaining key and the input") {
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    const std::size_t len = gw::crypto::hash_len(alg);
    const auto ck = counting_bytes(len, 3);
    const auto ikm = counting_bytes(32, 4);
    std::vector<std::uint8_t> base1(len), base2(len);
    gw::crypto::hkdf(alg, ck, ikm, base1, base2);
    for (std::size_t i = 0; i < len; ++i) {
      CAPTURE(i);
      auto c = ck;
      c[i] ^= 0x80;
      std::vector<std::uint8_t> o1(len), o2(len);
      gw::crypto::hkdf(alg, c, ikm, o1, o2);
      CHECK(o1 != base1);
      CHECK(o2 != base2);
    }
    for (std::size_t i = 0; i < ikm.size(); ++i) {
      CAPTURE(i);
      auto k = ikm;
      k[i] ^= 0x80;
      std::vector<std::uint8_t> o1(len), o2(len);
      gw::crypto::hkdf(alg, ck, k, o1, o2);
      CHECK(o1 != base1);
      CHECK(o2 != base2);
    }
  }
}

TEST_CASE("HKDF: writes exactly HASHLEN bytes per output") {
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    const std::size_t len = gw::crypto::hash_len(alg);
    // Outputs are given 64 bytes (as gw's Secret<kMaxHashLen> blocks are).
    std::vector<std::uint8_t> o1(64, 0xcc), o2(64, 0xcc), o3(64, 0xcc);
    const auto ck = counting_bytes(len);
    gw::crypto::hkdf(alg, ck, {}, o1, o2, o3);
    const Outputs ref = reference_hkdf(alg, ck, {});
    CHECK(to_hex(Bytes(o1).first(len)) == to_hex(ref.o1));
    CHECK(to_hex(Bytes(o2).first(len)) == to_hex(ref.o2));
    CHECK(to_hex(Bytes(o3).first(len)) == to_hex(ref.o3));
    for (std::size_t i = len; i < 64; ++i) {
      CAPTURE(i);
      CHECK(o1[i] == 0xcc);
      CHECK(o2[i] == 0xcc);
      CHECK(o3[i] == 0xcc);
    }
  }
}
