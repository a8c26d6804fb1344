// SPDX-License-Identifier: MIT
// SymmetricState (src/noise/symmetric_state.cpp), checked against a model of
// Noise section 5.2 written here on top of the crypto layer.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gw/crypto/aead.hpp"
#include "gw/crypto/hash.hpp"
#include "gw/crypto/hkdf.hpp"
#include "gw/noise/cipher_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/noise/symmetric_state.hpp"
#include "support/noise_printers.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::MutBytes;
using gw::crypto::AeadKey;
using gw::crypto::AeadKeyBytes;
using gw::crypto::CipherAlg;
using gw::crypto::HashAlg;
using gw::noise::CipherState;
using gw::noise::Error;
using gw::noise::Protocol;
using gw::noise::SymmetricState;
using gw::test::as_bytes;
using gw::test::counting_bytes;
using gw::test::to_hex;

namespace {

using Buf = std::vector<std::uint8_t>;

Protocol protocol(const std::string& name) {
  return gw::test::parsed_protocol(name);
}

std::vector<std::string> suites() {
  std::vector<std::string> out;
  std::vector<std::string> ciphers{"ChaChaPoly"};
  if (gw::crypto::aes256gcm_available()) ciphers.push_back("AESGCM");
  for (const auto& c : ciphers) {
    for (const char* h : {"BLAKE2b", "SHA256", "SHA512"})
      out.push_back(c + "_" + h);
  }
  return out;
}

gw::crypto::Nonce spec_nonce(CipherAlg alg, std::uint64_t n) {
  gw::crypto::Nonce out{};
  for (std::size_t i = 0; i < 8; ++i) {
    const auto b = static_cast<std::uint8_t>(n >> (8 * i));
    if (alg == CipherAlg::chachapoly)
      out[4 + i] = b;
    else
      out[11 - i] = b;
  }
  return out;
}

// Noise section 5.2, straight from the text, with plain vectors.
struct Model {
  HashAlg hash;
  CipherAlg cipher;
  std::size_t hlen;
  Buf ck, h;
  std::optional<Buf> k;
  std::uint64_t n = 0;

  explicit Model(const Protocol& p)
      : hash(p.hash), cipher(p.cipher), hlen(gw::crypto::hash_len(p.hash)) {
    const std::string_view name = p.name();
    if (name.size() <= hlen) {
      h.assign(name.begin(), name.end());
      h.resize(hlen, 0);
    } else {
      h.resize(hlen);
      gw::crypto::hash(hash, as_bytes(name), h);
    }
    ck = h;
  }
  void mix_hash(Bytes data) {
    Buf in = h;
    in.insert(in.end(), data.begin(), data.end());
    gw::crypto::hash(hash, in, h);
  }
  void mix_key(Bytes ikm) {
    Buf o1(hlen), o2(hlen);
    gw::crypto::hkdf(hash, ck, ikm, o1, o2);
    ck = o1;
    o2.resize(32);
    k = o2;
    n = 0;
  }
  void mix_key_and_hash(Bytes ikm) {
    Buf o1(hlen), o2(hlen), o3(hlen);
    gw::crypto::hkdf(hash, ck, ikm, o1, o2, o3);
    ck = o1;
    mix_hash(o2);
    o3.resize(32);
    k = o3;
    n = 0;
  }
  Buf encrypt_and_hash(Bytes pt) {
    Buf ct(pt.begin(), pt.end());
    if (k) {
      ct.resize(pt.size() + 16);
      const AeadKey key(cipher, AeadKeyBytes(Bytes(*k)));
      REQUIRE(key.seal(spec_nonce(cipher, n++), h, pt, ct) == ct.size());
    }
    mix_hash(ct);
    return ct;
  }
  std::pair<Buf, Buf> split() const {
    Buf o1(hlen), o2(hlen);
    gw::crypto::hkdf(hash, ck, {}, o1, o2);
    o1.resize(32);
    o2.resize(32);
    return {o1, o2};
  }
};

Buf encrypt_and_hash(SymmetricState& ss, Bytes pt) {
  Buf out(pt.size() + 16);
  std::size_t written = 0;
  REQUIRE(ss.encrypt_and_hash(pt, out, written) == Error::ok);
  out.resize(written);
  return out;
}

std::string h_hex(const SymmetricState& ss) {
  return to_hex(ss.handshake_hash());
}

}  // namespace

TEST_CASE("SymmetricState: InitializeSymmetric pads short names and hashes long ones") {
  struct Case {
    int id;
    const char* name;
    bool hashed;
  };
  static const Case kCases[] = {
      {1, "Noise_NN_25519_ChaChaPoly_SHA256", false},  // 32 = HASHLEN: used as is
      {2, "Noise_XX_25519_ChaChaPoly_SHA256", false},
      {3, "Noise_NK1psk0_25519_ChaChaPoly_SHA256", true},  // 37 > 32: hashed
      {4, "Noise_NNpsk0_25519_ChaChaPoly_SHA256", true},   // 36
      {5, "Noise_NN_25519_ChaChaPoly_BLAKE2b", false},     // 33 < 64: zero padded
      {6, "Noise_XXpsk0+psk1+psk2+psk3_25519_ChaChaPoly_SHA512", false},
      {7, "Noise_N_25519_ChaChaPoly_SHA256", false},  // 31: one zero byte
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    CAPTURE(c.name);
    const Protocol p = protocol(c.name);
    const SymmetricState ss(p);
    const std::size_t hlen = gw::crypto::hash_len(p.hash);
    const std::string name = c.name;
    Buf expected(hlen, 0);
    if (c.hashed) {
      REQUIRE(name.size() > hlen);
      gw::crypto::hash(p.hash, as_bytes(name), expected);
    } else {
      REQUIRE(name.size() <= hlen);
      std::copy(name.begin(), name.end(), expected.begin());
    }
    CHECK(ss.handshake_hash().size() == hlen);
    CHECK(h_hex(ss) == to_hex(expected));
    CHECK_FALSE(ss.has_key());
  }
  // Boundary for SHA-256: 33 characters are hashed.
  const Protocol p33 = protocol("Noise_NK1_25519_ChaChaPoly_SHA256");
  REQUIRE(p33.name().size() == 33);
  Buf expected(32);
  gw::crypto::hash(HashAlg::sha256, as_bytes(p33.name()), expected);
  CHECK(h_hex(SymmetricState(p33)) == to_hex(expected));
}

TEST_CASE("SymmetricState: mix_hash sets h = HASH(h || data)") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_XX_25519_" + suite);
    SymmetricState ss(p);
    Model m(p);
    for (const std::size_t len :
         {std::size_t{0}, std::size_t{1}, std::size_t{32}, std::size_t{300}}) {
      CAPTURE(len);
      const auto data = counting_bytes(len, 7);
      const std::string before = h_hex(ss);
      ss.mix_hash(data);
      m.mix_hash(data);
      CHECK(h_hex(ss) == to_hex(m.h));
      CHECK(h_hex(ss) != before);
    }
    CHECK_FALSE(ss.has_key());
  }
}

TEST_CASE("SymmetricState: without a key, encrypt_and_hash copies and hashes the plaintext") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_NN_25519_" + suite);
    SymmetricState ss(p);
    Model m(p);
    const auto pt = as_bytes("cleartext payload");
    Buf out(pt.size());
    std::size_t written = 0;
    REQUIRE(ss.encrypt_and_hash(pt, out, written) == Error::ok);
    CHECK(written == pt.size());
    CHECK(std::equal(out.begin(), out.end(), pt.begin()));
    CHECK(to_hex(out) == to_hex(m.encrypt_and_hash(pt)));
    CHECK(h_hex(ss) == to_hex(m.h));

    SymmetricState rx(p);
    Buf back(pt.size());
    REQUIRE(rx.decrypt_and_hash(out, back, written) == Error::ok);
    CHECK(back == out);
    CHECK(h_hex(rx) == h_hex(ss));
  }
}

TEST_CASE("SymmetricState: mix_key sets the key from HKDF(ck, ikm); ciphertexts match the spec") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_XX_25519_" + suite);
    SymmetricState ss(p);
    Model m(p);
    ss.mix_hash(as_bytes("prologue"));
    m.mix_hash(as_bytes("prologue"));
    REQUIRE_FALSE(ss.has_key());

    const auto ikm1 = counting_bytes(32, 0xa0);
    ss.mix_key(ikm1);
    m.mix_key(ikm1);
    CHECK(ss.has_key());
    CHECK(h_hex(ss) == to_hex(m.h));  // mix_key leaves h alone

    // Two messages: nonces 0 and 1, each with AD = h.
    for (int i = 0; i < 2; ++i) {
      CAPTURE(i);
      const auto pt = counting_bytes(40, static_cast<std::uint8_t>(i));
      CHECK(to_hex(encrypt_and_hash(ss, pt)) == to_hex(m.encrypt_and_hash(pt)));
      CHECK(h_hex(ss) == to_hex(m.h));
    }

    // A second mix_key chains from the new ck and resets the nonce.
    const auto ikm2 = counting_bytes(32, 0xb0);
    ss.mix_key(ikm2);
    m.mix_key(ikm2);
    const auto pt = as_bytes("after the second mix_key");
    CHECK(to_hex(encrypt_and_hash(ss, pt)) == to_hex(m.encrypt_and_hash(pt)));
    CHECK(h_hex(ss) == to_hex(m.h));

    // Split exposes ck: it must match the model's chain.
    CipherState c1, c2;
    ss.split(c1, c2);
    const auto [k1, k2] = m.split();
    Buf ct(16);
    std::size_t written = 0;
    REQUIRE(c1.encrypt_with_ad({}, {}, ct, written) == Error::ok);
    Buf none;
    CHECK(AeadKey(p.cipher, AeadKeyBytes(Bytes(k1)))
              .open(spec_nonce(p.cipher, 0), {}, ct, none, written));
  }
}

TEST_CASE("SymmetricState: mix_key_and_hash follows the spec") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_NNpsk0_25519_" + suite);
    SymmetricState ss(p);
    Model m(p);
    const auto psk = counting_bytes(32, 0x55);
    ss.mix_key_and_hash(psk);
    m.mix_key_and_hash(psk);
    CHECK(ss.has_key());
    CHECK(h_hex(ss) == to_hex(m.h));
    const auto pt = as_bytes("psk payload");
    CHECK(to_hex(encrypt_and_hash(ss, pt)) == to_hex(m.encrypt_and_hash(pt)));
    CHECK(h_hex(ss) == to_hex(m.h));
  }
}

TEST_CASE("SymmetricState: encrypt_and_hash / decrypt_and_hash round trip keeps h in step") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_XX_25519_" + suite);
    SymmetricState a(p), b(p);
    const auto ikm = counting_bytes(32, 1);
    a.mix_key(ikm);
    b.mix_key(ikm);
    for (const std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{100}}) {
      CAPTURE(len);
      const auto pt = counting_bytes(len, 0x20);
      const Buf ct = encrypt_and_hash(a, pt);
      CHECK(ct.size() == len + 16);
      Buf out(len);
      std::size_t written = 99;
      REQUIRE(b.decrypt_and_hash(ct, out, written) == Error::ok);
      CHECK(written == len);
      CHECK(out == pt);
      CHECK(h_hex(a) == h_hex(b));
    }
    // In place: h must cover the ciphertext, not the plaintext written over it.
    const auto pt = counting_bytes(50, 0x40);
    Buf buf = encrypt_and_hash(a, pt);
    std::size_t written = 0;
    REQUIRE(b.decrypt_and_hash(buf, buf, written) == Error::ok);
    CHECK(std::equal(pt.begin(), pt.end(), buf.begin()));
    CHECK(h_hex(a) == h_hex(b));
  }
}

TEST_CASE("SymmetricState: a failed decrypt_and_hash leaves h (and the nonce) unchanged") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_XX_25519_" + suite);
    SymmetricState a(p), b(p);
    a.mix_key(counting_bytes(32, 2));
    b.mix_key(counting_bytes(32, 2));
    const auto pt = as_bytes("genuine");
    const Buf ct = encrypt_and_hash(a, pt);
    const std::string h_before = h_hex(b);
    Buf out(pt.size());
    std::size_t written = 99;
    for (std::size_t i = 0; i < ct.size(); ++i) {
      CAPTURE(i);
      Buf bad = ct;
      bad[i] ^= 0x04;
      CHECK(b.decrypt_and_hash(bad, out, written) == Error::decrypt_failed);
      CHECK(h_hex(b) == h_before);
    }
    // In place, the forged ciphertext is overwritten, but h still does not move.
    Buf bad = ct;
    bad[0] ^= 1;
    CHECK(b.decrypt_and_hash(bad, bad, written) == Error::decrypt_failed);
    CHECK(h_hex(b) == h_before);
    CHECK(b.decrypt_and_hash(Bytes(ct).first(15), out, written) == Error::message_too_short);
    CHECK(h_hex(b) == h_before);
    REQUIRE(b.decrypt_and_hash(ct, out, written) == Error::ok);
    CHECK(h_hex(b) == h_hex(a));
  }
}

TEST_CASE("SymmetricState: a failed encrypt_and_hash leaves h unchanged") {
  const Protocol p = protocol("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  SymmetricState ss(p);
  ss.mix_key(counting_bytes(32));
  const std::string before = h_hex(ss);
  const auto pt = counting_bytes(10);
  Buf small(25);
  std::size_t written = 99;
  CHECK(ss.encrypt_and_hash(pt, small, written) == Error::buffer_too_small);
  CHECK(written == 0);
  CHECK(h_hex(ss) == before);
}

TEST_CASE("SymmetricState: split gives two different keys, the same on both sides") {
  for (const std::string& suite : suites()) {
    CAPTURE(suite);
    const Protocol p = protocol("Noise_NN_25519_" + suite);
    SymmetricState a(p), b(p);
    Model m(p);
    for (auto* s : {&a, &b}) {
      s->mix_hash(as_bytes("x"));
      s->mix_key(counting_bytes(32, 9));
    }
    m.mix_hash(as_bytes("x"));
    m.mix_key(counting_bytes(32, 9));

    CipherState a1, a2, b1, b2;
    a.split(a1, a2);
    b.split(b1, b2);
    for (CipherState* c : {&a1, &a2, &b1, &b2}) {
      CHECK(c->has_key());
      CHECK(c->alg() == p.cipher);
      CHECK(c->nonce() == 0);
    }
    const auto [k1, k2] = m.split();
    REQUIRE(k1 != k2);

    const auto msg = as_bytes("transport");
    Buf ct(msg.size() + 16), pt(msg.size());
    std::size_t written = 0;
    // c1 on one side talks to c1 on the other; c1 and c2 differ.
    REQUIRE(a1.encrypt_with_ad({}, msg, ct, written) == Error::ok);
    CHECK(b2.decrypt_with_ad({}, ct, pt, written) == Error::decrypt_failed);
    CHECK(b1.decrypt_with_ad({}, ct, pt, written) == Error::ok);
    CHECK(AeadKey(p.cipher, AeadKeyBytes(Bytes(k1)))
              .open(spec_nonce(p.cipher, 0), {}, ct, pt, written));
    REQUIRE(b2.encrypt_with_ad({}, msg, ct, written) == Error::ok);
    CHECK(a1.decrypt_at(0, {}, ct, pt, written) == Error::decrypt_failed);
    CHECK(a2.decrypt_with_ad({}, ct, pt, written) == Error::ok);
    CHECK(AeadKey(p.cipher, AeadKeyBytes(Bytes(k2)))
              .open(spec_nonce(p.cipher, 0), {}, ct, pt, written));

    // Splitting does not change the state: a second split gives the same keys.
    CipherState a1b, a2b;
    a.split(a1b, a2b);
    Buf x(msg.size() + 16), y(msg.size() + 16);
    REQUIRE(a1b.encrypt_at(0, {}, msg, x, written) == Error::ok);
    REQUIRE(b1.encrypt_at(0, {}, msg, y, written) == Error::ok);
    CHECK(x == y);
  }
}

TEST_CASE("SymmetricState: split before any mix_key still derives keys from ck") {
  const Protocol p = protocol("Noise_NN_25519_ChaChaPoly_SHA256");
  SymmetricState ss(p);
  Model m(p);
  CipherState c1, c2;
  ss.split(c1, c2);
  CHECK(c1.has_key());
  const auto [k1, k2] = m.split();
  Buf ct(16), none;
  std::size_t written = 0;
  REQUIRE(c2.encrypt_with_ad({}, {}, ct, written) == Error::ok);
  CHECK(AeadKey(p.cipher, AeadKeyBytes(Bytes(k2)))
            .open(spec_nonce(p.cipher, 0), {}, ct, none, written));
}

TEST_CASE("SymmetricState: wipe_keys removes the key and keeps h") {
  const Protocol p = protocol("Noise_XX_25519_ChaChaPoly_SHA512");
  SymmetricState ss(p);
  ss.mix_key(counting_bytes(32));
  (void)encrypt_and_hash(ss, as_bytes("x"));
  const std::string h = h_hex(ss);
  ss.wipe_keys();
  CHECK_FALSE(ss.has_key());
  CHECK(h_hex(ss) == h);
  // ck is gone too: split now derives other keys than before the wipe.
  SymmetricState kept(p);
  kept.mix_key(counting_bytes(32));
  (void)encrypt_and_hash(kept, as_bytes("x"));
  REQUIRE(h_hex(kept) == h);
  CipherState w1, w2, k1, k2;
  ss.split(w1, w2);
  kept.split(k1, k2);
  const auto msg = as_bytes("m");
  Buf x(17), y(17);
  std::size_t written = 0;
  REQUIRE(w1.encrypt_at(0, {}, msg, x, written) == Error::ok);
  REQUIRE(k1.encrypt_at(0, {}, msg, y, written) == Error::ok);
  CHECK(x != y);
}
