// SPDX-License-Identifier: MIT
// CipherState (src/noise/cipher_state.cpp): Noise section 5.1 and the nonce
// encodings of section 12.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "gw/crypto/aead.hpp"
#include "gw/noise/cipher_state.hpp"
#include "support/noise_printers.hpp"
#include "support/unit_helpers.hpp"

using gw::Bytes;
using gw::MutBytes;
using gw::crypto::AeadKey;
using gw::crypto::AeadKeyBytes;
using gw::crypto::CipherAlg;
using gw::crypto::Nonce;
using gw::noise::CipherState;
using gw::noise::Error;
using gw::test::as_bytes;
using gw::test::counting_bytes;
using gw::test::to_hex;

namespace {

constexpr std::uint64_t kMax = ~std::uint64_t{0};
using Buf = std::vector<std::uint8_t>;

std::vector<CipherAlg> available_ciphers() {
  std::vector<CipherAlg> algs{CipherAlg::chachapoly};
  if (gw::crypto::aes256gcm_available()) algs.push_back(CipherAlg::aesgcm);
  return algs;
}

AeadKeyBytes test_key(std::uint8_t start = 1) {
  return AeadKeyBytes(Bytes(counting_bytes(32, start)));
}

CipherState keyed(CipherAlg alg, std::uint8_t start = 1) {
  CipherState cs(alg);
  cs.initialize_key(test_key(start));
  return cs;
}

// The two encodings of Noise section 12, built by hand.
Nonce little_endian_nonce(std::uint64_t n) {
  Nonce out{};
  for (std::size_t i = 0; i < 8; ++i)
    out[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return out;
}
Nonce big_endian_nonce(std::uint64_t n) {
  Nonce out{};
  for (std::size_t i = 0; i < 8; ++i)
    out[11 - i] = static_cast<std::uint8_t>(n >> (8 * i));
  return out;
}
Nonce spec_nonce(CipherAlg alg, std::uint64_t n) {
  return alg == CipherAlg::chachapoly ? little_endian_nonce(n) : big_endian_nonce(n);
}

Buf encrypt(CipherState& cs, Bytes ad, Bytes pt) {
  Buf out(pt.size() + 16);
  std::size_t written = 0;
  REQUIRE(cs.encrypt_with_ad(ad, pt, out, written) == Error::ok);
  REQUIRE(written == out.size());
  return out;
}

}  // namespace

TEST_CASE("CipherState: a new state has no key, nonce 0 and is usable") {
  CipherState def;
  CHECK(def.alg() == CipherAlg::chachapoly);
  CHECK_FALSE(def.has_key());
  CHECK(def.usable());
  CHECK(def.nonce() == 0);
  CipherState aes(CipherAlg::aesgcm);  // no key yet: constructible everywhere
  CHECK(aes.alg() == CipherAlg::aesgcm);
}

TEST_CASE("CipherState: without a key, encrypt and decrypt copy the input and keep n") {
  CipherState cs;
  cs.set_nonce(7);
  const auto msg = as_bytes("plain text");
  Buf out(msg.size());
  std::size_t written = 99;
  CHECK(cs.encrypt_with_ad(as_bytes("ad"), msg, out, written) == Error::ok);
  CHECK(written == msg.size());
  CHECK(std::equal(out.begin(), out.end(), msg.begin()));
  CHECK(cs.nonce() == 7);

  Buf back(msg.size());
  CHECK(cs.decrypt_with_ad(as_bytes("other ad"), out, back, written) == Error::ok);
  CHECK(written == msg.size());
  CHECK(back == out);
  CHECK(cs.nonce() == 7);

  // In place.
  Buf inplace(msg.begin(), msg.end());
  CHECK(cs.encrypt_with_ad({}, inplace, inplace, written) == Error::ok);
  CHECK(std::equal(inplace.begin(), inplace.end(), msg.begin()));

  // Too small an output buffer.
  Buf small(msg.size() - 1);
  CHECK(cs.encrypt_with_ad({}, msg, small, written) == Error::buffer_too_small);
  CHECK(written == 0);
  CHECK(cs.decrypt_with_ad({}, msg, small, written) == Error::buffer_too_small);
  CHECK(cs.nonce() == 7);

  // Short "ciphertexts" are fine without a key: nothing is authenticated.
  Buf tiny(3, 0x42), tiny_out(3);
  CHECK(cs.decrypt_with_ad({}, tiny, tiny_out, written) == Error::ok);
  CHECK(written == 3);
}

TEST_CASE("CipherState: initialize_key and clear_key reset the nonce") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState cs(alg);
    cs.set_nonce(10);
    cs.initialize_key(test_key());
    CHECK(cs.has_key());
    CHECK(cs.nonce() == 0);
    (void)encrypt(cs, {}, as_bytes("x"));
    CHECK(cs.nonce() == 1);
    cs.initialize_key(test_key(2));
    CHECK(cs.nonce() == 0);
    cs.set_nonce(4);
    cs.clear_key();
    CHECK_FALSE(cs.has_key());
    CHECK(cs.nonce() == 0);
  }
}

TEST_CASE("CipherState: nonce encoding (ChaChaPoly little-endian, AESGCM big-endian)") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    for (const std::uint64_t n :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0102030405060708},
          std::uint64_t{0xfffffffffffffffe}}) {
      CAPTURE(n);
      CipherState cs = keyed(alg);
      cs.set_nonce(n);
      const auto ad = as_bytes("associated");
      const auto msg = as_bytes("nonce encoding check");
      const Buf ct = encrypt(cs, ad, msg);

      const AeadKey raw(alg, test_key());
      Buf pt(msg.size());
      std::size_t written = 0;
      CHECK(raw.open(spec_nonce(alg, n), ad, ct, pt, written));
      CHECK(std::equal(pt.begin(), pt.end(), msg.begin()));
      // Byte-symmetric counters aside, the other encoding must not work.
      const Nonce wrong =
          alg == CipherAlg::chachapoly ? big_endian_nonce(n) : little_endian_nonce(n);
      if (wrong != spec_nonce(alg, n)) CHECK_FALSE(raw.open(wrong, ad, ct, pt, written));
    }
  }
  // The hand-built encodings themselves.
  CHECK(to_hex(little_endian_nonce(0x0102030405060708)) == "000000000807060504030201");
  CHECK(to_hex(big_endian_nonce(0x0102030405060708)) == "000000000102030405060708");
}

TEST_CASE("CipherState: encrypt_with_ad and decrypt_with_ad increment n") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState tx = keyed(alg), rx = keyed(alg);
    const AeadKey raw(alg, test_key());
    for (std::uint64_t i = 0; i < 5; ++i) {
      CAPTURE(i);
      REQUIRE(tx.nonce() == i);
      const auto msg = counting_bytes(static_cast<std::size_t>(i) * 10, 0x33);
      const Buf ct = encrypt(tx, as_bytes("ad"), msg);
      CHECK(tx.nonce() == i + 1);
      // Message i was sealed with nonce i.
      Buf check(msg.size());
      std::size_t written = 0;
      CHECK(raw.open(spec_nonce(alg, i), as_bytes("ad"), ct, check, written));

      Buf pt(msg.size());
      CHECK(rx.decrypt_with_ad(as_bytes("ad"), ct, pt, written) == Error::ok);
      CHECK(written == msg.size());
      CHECK(pt == msg);
      CHECK(rx.nonce() == i + 1);
    }
  }
}

TEST_CASE("CipherState: in-place encryption and decryption") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState tx = keyed(alg), rx = keyed(alg);
    const auto msg = counting_bytes(100, 9);
    Buf buf(msg.size() + 16);
    std::copy(msg.begin(), msg.end(), buf.begin());
    std::size_t written = 0;
    REQUIRE(tx.encrypt_with_ad({}, Bytes(buf).first(msg.size()), buf, written) == Error::ok);
    CHECK(written == buf.size());
    REQUIRE(rx.decrypt_with_ad({}, buf, buf, written) == Error::ok);
    CHECK(written == msg.size());
    CHECK(std::equal(msg.begin(), msg.end(), buf.begin()));
  }
}

TEST_CASE("CipherState: set_nonce decrypts messages delivered out of order") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState tx = keyed(alg);
    std::vector<Buf> cts;
    for (int i = 0; i < 6; ++i)
      cts.push_back(encrypt(tx, {}, counting_bytes(8, static_cast<std::uint8_t>(i))));

    CipherState rx = keyed(alg);
    for (const std::uint64_t n : {std::uint64_t{4}, std::uint64_t{1}, std::uint64_t{5},
                                  std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{2}}) {
      CAPTURE(n);
      Buf pt(8);
      std::size_t written = 0;
      // With the wrong nonce the message does not open...
      rx.set_nonce(n + 1);
      CHECK(rx.decrypt_with_ad({}, cts[n], pt, written) == Error::decrypt_failed);
      CHECK(rx.nonce() == n + 1);
      // ...with the right one it does.
      rx.set_nonce(n);
      REQUIRE(rx.decrypt_with_ad({}, cts[n], pt, written) == Error::ok);
      CHECK(pt == counting_bytes(8, static_cast<std::uint8_t>(n)));
      CHECK(rx.nonce() == n + 1);
    }
  }
}

TEST_CASE("CipherState: encrypt_at and decrypt_at use the given nonce and leave n alone") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState cs = keyed(alg);
    cs.set_nonce(3);
    const auto msg = as_bytes("explicit nonce");
    Buf at(msg.size() + 16);
    std::size_t written = 0;
    REQUIRE(cs.encrypt_at(9, as_bytes("ad"), msg, at, written) == Error::ok);
    CHECK(written == at.size());
    CHECK(cs.nonce() == 3);

    // The same bytes as encrypt_with_ad at n = 9.
    CipherState other = keyed(alg);
    other.set_nonce(9);
    CHECK(encrypt(other, as_bytes("ad"), msg) == at);

    Buf pt(msg.size());
    CHECK(cs.decrypt_at(8, as_bytes("ad"), at, pt, written) == Error::decrypt_failed);
    REQUIRE(cs.decrypt_at(9, as_bytes("ad"), at, pt, written) == Error::ok);
    CHECK(std::equal(pt.begin(), pt.end(), msg.begin()));
    CHECK(cs.nonce() == 3);

    CHECK(cs.encrypt_at(kMax, {}, msg, at, written) == Error::nonce_exhausted);
    CHECK(cs.decrypt_at(kMax, {}, at, pt, written) == Error::nonce_exhausted);
    CHECK(cs.nonce() == 3);
  }
}

TEST_CASE("CipherState: the nonce 2^64-1 is never used") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    const auto msg = as_bytes("last");
    Buf ct(msg.size() + 16);
    std::size_t written = 99;

    {  // set_nonce(2^64-1) refuses at once
      CipherState cs = keyed(alg);
      cs.set_nonce(kMax);
      CHECK(cs.encrypt_with_ad({}, msg, ct, written) == Error::nonce_exhausted);
      CHECK(written == 0);
      CHECK(cs.decrypt_with_ad({}, ct, ct, written) == Error::nonce_exhausted);
      CHECK(cs.nonce() == kMax);
    }
    {  // at 2^64-2 one message succeeds, the next fails
      CipherState tx = keyed(alg), rx = keyed(alg);
      tx.set_nonce(kMax - 1);
      rx.set_nonce(kMax - 1);
      REQUIRE(tx.encrypt_with_ad({}, msg, ct, written) == Error::ok);
      CHECK(tx.nonce() == kMax);
      CHECK(tx.encrypt_with_ad({}, msg, ct, written) == Error::nonce_exhausted);
      CHECK(tx.encrypt_with_ad({}, msg, ct, written) == Error::nonce_exhausted);
      CHECK(tx.nonce() == kMax);

      Buf pt(msg.size());
      CipherState tx2 = keyed(alg);
      tx2.set_nonce(kMax - 1);
      REQUIRE(tx2.encrypt_with_ad({}, msg, ct, written) == Error::ok);
      REQUIRE(rx.decrypt_with_ad({}, ct, pt, written) == Error::ok);
      CHECK(rx.nonce() == kMax);
      CHECK(rx.decrypt_with_ad({}, ct, pt, written) == Error::nonce_exhausted);
    }
  }
}

TEST_CASE("CipherState: rekey() sets k to ENCRYPT(k, 2^64-1, empty, zeros)[0..32]") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    // The expected next key, computed from the spec with AeadKey directly.
    const AeadKey old_key(alg, test_key());
    std::array<std::uint8_t, 32> zeros{};
    std::array<std::uint8_t, 48> block{};
    REQUIRE(old_key.seal(spec_nonce(alg, kMax), {}, zeros, block) == 48);
    const AeadKeyBytes next_bytes(Bytes(block).first(32));
    const AeadKey next_key(alg, next_bytes);

    CipherState cs = keyed(alg);
    cs.set_nonce(5);
    REQUIRE(cs.rekey() == Error::ok);
    CHECK(cs.nonce() == 5);  // Rekey does not reset n
    CHECK(cs.has_key());

    const auto msg = as_bytes("after rekey");
    const Buf ct = encrypt(cs, {}, msg);
    Buf pt(msg.size());
    std::size_t written = 0;
    CHECK(next_key.open(spec_nonce(alg, 5), {}, ct, pt, written));
    CHECK(std::equal(pt.begin(), pt.end(), msg.begin()));
    CHECK_FALSE(old_key.open(spec_nonce(alg, 5), {}, ct, pt, written));

    // Both sides rekeying stay in step; only one side rekeying does not.
    CipherState a = keyed(alg), b = keyed(alg), c = keyed(alg);
    REQUIRE(a.rekey() == Error::ok);
    REQUIRE(b.rekey() == Error::ok);
    const Buf ct2 = encrypt(a, {}, msg);
    CHECK(b.decrypt_with_ad({}, ct2, pt, written) == Error::ok);
    CHECK(c.decrypt_with_ad({}, ct2, pt, written) == Error::decrypt_failed);

    // Rekeying twice gives yet another key.
    CipherState d = keyed(alg);
    REQUIRE(d.rekey() == Error::ok);
    REQUIRE(d.rekey() == Error::ok);
    const Buf ct3 = encrypt(d, {}, msg);
    CipherState e = keyed(alg);
    REQUIRE(e.rekey() == Error::ok);
    CHECK(e.decrypt_with_ad({}, ct3, pt, written) == Error::decrypt_failed);
  }
  CipherState no_key;
  CHECK(no_key.rekey() == Error::wrong_state);
}

TEST_CASE("CipherState: unusable() refuses everything") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState cs = CipherState::unusable(alg);
    CHECK_FALSE(cs.usable());
    CHECK(cs.alg() == alg);
    const auto msg = as_bytes("refused");
    Buf out(msg.size() + 16);
    std::size_t written = 99;
    // Without a key it must not fall back to copying the plaintext.
    CHECK(cs.encrypt_with_ad({}, msg, out, written) == Error::wrong_state);
    CHECK(written == 0);
    CHECK(cs.decrypt_with_ad({}, out, out, written) == Error::wrong_state);
    CHECK(cs.encrypt_at(0, {}, msg, out, written) == Error::wrong_state);
    CHECK(cs.decrypt_at(0, {}, out, out, written) == Error::wrong_state);
    CHECK(cs.rekey() == Error::wrong_state);
    CHECK(cs.nonce() == 0);
    // Nor once a key is given.
    cs.initialize_key(test_key());
    CHECK(cs.encrypt_with_ad({}, msg, out, written) == Error::wrong_state);
    CHECK(cs.decrypt_with_ad({}, out, out, written) == Error::wrong_state);
    CHECK(cs.rekey() == Error::wrong_state);
    CHECK(cs.nonce() == 0);
  }
}

TEST_CASE("CipherState: a flipped bit anywhere fails to decrypt and keeps n") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState tx = keyed(alg), rx = keyed(alg);
    const auto msg = counting_bytes(24, 0x61);
    const auto ad = as_bytes("ad");
    const Buf ct = encrypt(tx, ad, msg);
    Buf pt(msg.size());
    std::size_t written = 99;
    for (std::size_t i = 0; i < ct.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        CAPTURE(i);
        CAPTURE(bit);
        Buf bad = ct;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        CHECK(rx.decrypt_with_ad(ad, bad, pt, written) == Error::decrypt_failed);
        CHECK(written == 0);
        CHECK(rx.nonce() == 0);
      }
    }
    CHECK(rx.decrypt_with_ad(as_bytes("aD"), ct, pt, written) == Error::decrypt_failed);
    CHECK(rx.decrypt_with_ad({}, ct, pt, written) == Error::decrypt_failed);
    CHECK(rx.nonce() == 0);
    REQUIRE(rx.decrypt_with_ad(ad, ct, pt, written) == Error::ok);
    CHECK(pt == msg);
  }
}

TEST_CASE("CipherState: ciphertexts shorter than a tag are message_too_short") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState rx = keyed(alg);
    Buf out(32);
    for (std::size_t len = 0; len < 16; ++len) {
      CAPTURE(len);
      const Buf ct(len, 0x5a);
      std::size_t written = 99;
      CHECK(rx.decrypt_with_ad({}, ct, out, written) == Error::message_too_short);
      CHECK(written == 0);
      CHECK(rx.decrypt_at(0, {}, ct, out, written) == Error::message_too_short);
    }
    CHECK(rx.nonce() == 0);
    // Exactly a tag is a valid (empty) message.
    CipherState tx = keyed(alg);
    const Buf tag = encrypt(tx, {}, {});
    std::size_t written = 99;
    CHECK(rx.decrypt_with_ad({}, tag, out, written) == Error::ok);
    CHECK(written == 0);
  }
}

TEST_CASE("CipherState: output buffers that are too small") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState tx = keyed(alg), rx = keyed(alg);
    const auto msg = counting_bytes(20);
    Buf ct(msg.size() + 16);
    std::size_t written = 99;
    CHECK(tx.encrypt_with_ad({}, msg, MutBytes(ct).first(ct.size() - 1), written) ==
          Error::buffer_too_small);
    CHECK(written == 0);
    CHECK(tx.nonce() == 0);
    REQUIRE(tx.encrypt_with_ad({}, msg, ct, written) == Error::ok);
    Buf pt(msg.size());
    CHECK(rx.decrypt_with_ad({}, ct, MutBytes(pt).first(pt.size() - 1), written) ==
          Error::buffer_too_small);
    CHECK(rx.nonce() == 0);
    CHECK(rx.decrypt_with_ad({}, ct, pt, written) == Error::ok);
  }
}

TEST_CASE("CipherState: copies carry the key and the nonce") {
  for (const CipherAlg alg : available_ciphers()) {
    CAPTURE(alg);
    CipherState a = keyed(alg);
    a.set_nonce(12);
    const CipherState b = a;
    CHECK(b.has_key());
    CHECK(b.nonce() == 12);
    CipherState c(CipherAlg::chachapoly);
    c = b;
    CHECK(c.alg() == alg);
    const auto msg = as_bytes("copy");
    CHECK(encrypt(a, {}, msg) == encrypt(c, {}, msg));
  }
}
