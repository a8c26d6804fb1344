// SPDX-License-Identifier: MIT
// Hashes (include/gw/crypto/hash.hpp): BLAKE2b-512 (RFC 7693 appendix A),
// SHA-256 and SHA-512 (FIPS 180-4 examples).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gw/crypto/hash.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::crypto::HashAlg;
using gw::crypto::Hasher;
using gw::test::as_bytes;
using gw::test::counting_bytes;
using gw::test::to_hex;

namespace {

constexpr HashAlg kAllHashes[] = {HashAlg::blake2b, HashAlg::sha256, HashAlg::sha512};

std::string hash_hex(HashAlg alg, Bytes data) {
  std::array<std::uint8_t, 64> out{};
  gw::crypto::hash(alg, data, out);
  return to_hex(Bytes(out).first(gw::crypto::hash_len(alg)));
}

}  // namespace

TEST_CASE("Hash: lengths, block sizes and names") {
  CHECK(gw::crypto::hash_len(HashAlg::blake2b) == 64);
  CHECK(gw::crypto::hash_len(HashAlg::sha256) == 32);
  CHECK(gw::crypto::hash_len(HashAlg::sha512) == 64);
  CHECK(gw::crypto::block_len(HashAlg::blake2b) == 128);
  CHECK(gw::crypto::block_len(HashAlg::sha256) == 64);
  CHECK(gw::crypto::block_len(HashAlg::sha512) == 128);
  CHECK(std::string(gw::crypto::to_string(HashAlg::blake2b)) == "BLAKE2b");
  CHECK(std::string(gw::crypto::to_string(HashAlg::sha256)) == "SHA256");
  CHECK(std::string(gw::crypto::to_string(HashAlg::sha512)) == "SHA512");
}

TEST_CASE("Hash: known answers for \"abc\" and the empty string") {
  struct Case {
    int id;
    HashAlg alg;
    const char* input;
    const char* digest;
  };
  static const Case kCases[] = {
      // RFC 7693 appendix A.
      {1, HashAlg::blake2b, "abc",
       "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
       "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"},
      // FIPS 180-4 examples (NIST "SHA256.pdf" / "SHA512.pdf").
      {2, HashAlg::sha256, "abc",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {3, HashAlg::sha512, "abc",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
      {4, HashAlg::sha256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      // Empty inputs.
      {5, HashAlg::sha256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {6, HashAlg::sha512, "",
       "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
       "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
      {7, HashAlg::blake2b, "",
       "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
       "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    CHECK(hash_hex(c.alg, as_bytes(c.input)) == c.digest);
  }
}

TEST_CASE("Hash: incremental hashing equals one-shot for every split point") {
  // 300 bytes crosses two SHA-512/BLAKE2b blocks and four SHA-256 blocks.
  const auto data = counting_bytes(300, 11);
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    const std::string expected = hash_hex(alg, data);
    const std::size_t len = gw::crypto::hash_len(alg);
    for (std::size_t split = 0; split <= data.size(); ++split) {
      CAPTURE(split);
      Hasher h(alg);
      CHECK(h.alg() == alg);
      h.update(Bytes(data).first(split));
      h.update(Bytes(data).subspan(split));
      std::array<std::uint8_t, 64> out{};
      h.final(out);
      CHECK(to_hex(Bytes(out).first(len)) == expected);
    }
    // Byte by byte, with empty updates in between.
    Hasher h(alg);
    for (const std::uint8_t b : data) {
      h.update({&b, 1});
      h.update({});
    }
    std::array<std::uint8_t, 64> out{};
    h.final(out);
    CHECK(to_hex(Bytes(out).first(len)) == expected);
  }
}

TEST_CASE("Hash: a copied Hasher continues from the same point independently") {
  const auto data = counting_bytes(200, 1);
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    const std::size_t len = gw::crypto::hash_len(alg);
    Hasher prefix(alg);
    prefix.update(Bytes(data).first(70));

    Hasher a = prefix;
    a.update(Bytes(data).subspan(70));
    Hasher b(prefix);
    b.update(as_bytes("something else"));
    Hasher c(HashAlg::sha256);
    c = prefix;
    c.update(Bytes(data).subspan(70));

    std::array<std::uint8_t, 64> ra{}, rb{}, rc{};
    a.final(ra);
    b.final(rb);
    c.final(rc);
    CHECK(to_hex(Bytes(ra).first(len)) == hash_hex(alg, data));
    CHECK(to_hex(Bytes(rc).first(len)) == hash_hex(alg, data));
    CHECK(ra != rb);
  }
}

TEST_CASE("Hash: final writes exactly hash_len bytes") {
  for (const HashAlg alg : kAllHashes) {
    CAPTURE(gw::crypto::to_string(alg));
    std::vector<std::uint8_t> out(100, 0xab);
    gw::crypto::hash(alg, as_bytes("abc"), out);
    const std::size_t len = gw::crypto::hash_len(alg);
    for (std::size_t i = len; i < out.size(); ++i) {
      CAPTURE(i);
      CHECK(out[i] == 0xab);
    }
  }
}
