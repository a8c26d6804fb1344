// SPDX-License-Identifier: MIT
// X25519 (include/gw/crypto/x25519.hpp) against RFC 7748, and its refusal of
// low-order points.
#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>
#include <thread>

#include "gw/crypto/x25519.hpp"
#include "support/fake_rng.hpp"
#include "support/unit_helpers.hpp"

using gw::crypto::KeyPair;
using gw::crypto::PrivateKey;
using gw::crypto::PublicKey;
using gw::crypto::SharedSecret;
using gw::test::array_from_hex;
using gw::test::FakeRng;
using gw::test::from_hex;
using gw::test::to_hex;

namespace {

// RFC 7748, section 6.1.
constexpr std::string_view kAlicePrivate =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr std::string_view kBobPrivate =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPublic =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kShared =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

PrivateKey private_from_hex(std::string_view hex) {
  const auto bytes = from_hex(hex);
  return PrivateKey(gw::Bytes(bytes));
}

// A shared-secret object pre-filled with garbage, to see that a failure wipes it.
SharedSecret dirty_secret() {
  SharedSecret s;
  for (std::size_t i = 0; i < s.size(); ++i)
    s.data()[i] = static_cast<std::uint8_t>(0xc3 ^ i);
  return s;
}

}  // namespace

TEST_CASE("X25519: RFC 7748 section 6.1 public keys") {
  CHECK(to_hex(gw::crypto::public_key_of(private_from_hex(kAlicePrivate))) == kAlicePublic);
  CHECK(to_hex(gw::crypto::public_key_of(private_from_hex(kBobPrivate))) == kBobPublic);

  const KeyPair alice = KeyPair::from_private(private_from_hex(kAlicePrivate));
  CHECK(to_hex(alice.public_key) == kAlicePublic);
  CHECK(alice.private_key == private_from_hex(kAlicePrivate));
}

TEST_CASE("X25519: RFC 7748 section 6.1 shared secret, both directions") {
  SharedSecret k1 = dirty_secret();
  SharedSecret k2 = dirty_secret();
  REQUIRE(gw::crypto::x25519(private_from_hex(kAlicePrivate), array_from_hex<32>(kBobPublic), k1));
  REQUIRE(gw::crypto::x25519(private_from_hex(kBobPrivate), array_from_hex<32>(kAlicePublic), k2));
  CHECK(to_hex(k1.bytes()) == kShared);
  CHECK(to_hex(k2.bytes()) == kShared);
}

TEST_CASE("X25519: low-order public keys are refused and the output is wiped") {
  // Points of small order on Curve25519 (and non-canonical encodings of them),
  // as listed by libsodium and by "May the Fourth Be With You" (Genkin et al.).
  struct Case {
    int id;
    const char* point;
  };
  static const Case kCases[] = {
      {1, "0000000000000000000000000000000000000000000000000000000000000000"},  // 0
      {2, "0100000000000000000000000000000000000000000000000000000000000000"},  // 1
      {3, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"},  // order 8
      {4, "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"},  // order 8
      {5, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},  // p - 1
      {6, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},  // p
      {7, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},  // p + 1
      {8, "0000000000000000000000000000000000000000000000000000000000000080"},  // 0, bit 255 set
      {9, "0100000000000000000000000000000000000000000000000000000000000080"},  // 1, bit 255 set
      {10, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880"},
      {11, "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7"},
  };
  const PrivateKey alice = private_from_hex(kAlicePrivate);
  FakeRng rng(77);
  const KeyPair random = KeyPair::generate(rng);
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    CAPTURE(c.point);
    for (const PrivateKey* key : {&alice, &random.private_key}) {
      SharedSecret out = dirty_secret();
      CHECK_FALSE(gw::crypto::x25519(*key, array_from_hex<32>(c.point), out));
      CHECK(out.is_zero());
    }
  }
}

TEST_CASE("X25519: KeyPair::generate is deterministic for a given Rng stream") {
  FakeRng rng_a(42), rng_b(42), rng_c(43);
  const KeyPair a1 = KeyPair::generate(rng_a);
  const KeyPair a2 = KeyPair::generate(rng_a);
  const KeyPair b1 = KeyPair::generate(rng_b);
  const KeyPair b2 = KeyPair::generate(rng_b);
  const KeyPair c1 = KeyPair::generate(rng_c);

  CHECK(a1.private_key == b1.private_key);
  CHECK(a1.public_key == b1.public_key);
  CHECK(a2.private_key == b2.private_key);
  CHECK(a2.public_key == b2.public_key);
  CHECK_FALSE(a1.private_key == a2.private_key);
  CHECK(a1.public_key != a2.public_key);
  CHECK_FALSE(a1.private_key == c1.private_key);
  CHECK(a1.public_key != c1.public_key);

  // The public key belongs to the private key, and the key came from the Rng.
  CHECK(a1.public_key == gw::crypto::public_key_of(a1.private_key));
  CHECK_FALSE(a1.private_key.is_zero());
  CHECK(rng_a.calls() == 2);

  FakeRng replay(42);
  PrivateKey raw;
  replay.fill(raw.bytes());
  CHECK(raw == a1.private_key);
}

TEST_CASE("X25519: generated key pairs agree on a shared secret") {
  FakeRng rng(5);
  const KeyPair a = KeyPair::generate(rng);
  const KeyPair b = KeyPair::generate(rng);
  SharedSecret ab, ba;
  REQUIRE(gw::crypto::x25519(a.private_key, b.public_key, ab));
  REQUIRE(gw::crypto::x25519(b.private_key, a.public_key, ba));
  CHECK(ab == ba);
  CHECK_FALSE(ab.is_zero());
}

TEST_CASE("X25519: dh_operations_on_this_thread counts every DH, on this thread only") {
  const PrivateKey alice = private_from_hex(kAlicePrivate);
  const PublicKey bob = array_from_hex<32>(kBobPublic);
  const PublicKey zero{};

  const std::uint64_t before = gw::crypto::dh_operations_on_this_thread();
  SharedSecret out;
  CHECK(gw::crypto::x25519(alice, bob, out));
  CHECK(gw::crypto::dh_operations_on_this_thread() == before + 1);
  CHECK(gw::crypto::x25519(alice, bob, out));
  CHECK(gw::crypto::dh_operations_on_this_thread() == before + 2);
  // A refused DH was still performed.
  CHECK_FALSE(gw::crypto::x25519(alice, zero, out));
  CHECK(gw::crypto::dh_operations_on_this_thread() == before + 3);

  // Deriving public keys is not a DH.
  (void)gw::crypto::public_key_of(alice);
  FakeRng rng(1);
  (void)KeyPair::generate(rng);
  CHECK(gw::crypto::dh_operations_on_this_thread() == before + 3);

  std::uint64_t other_start = 99, other_end = 99;
  std::thread worker([&] {
    other_start = gw::crypto::dh_operations_on_this_thread();
    SharedSecret o;
    for (int i = 0; i < 5; ++i)
      (void)gw::crypto::x25519(alice, bob, o);
    other_end = gw::crypto::dh_operations_on_this_thread();
  });
  worker.join();
  CHECK(other_start == 0);
  CHECK(other_end == 5);
  CHECK(gw::crypto::dh_operations_on_this_thread() == before + 3);
}
