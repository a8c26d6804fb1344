// SPDX-License-Identifier: MIT
#include "gw/crypto/x25519.hpp"

#include <sodium.h>

#include <new>

#include "gw/crypto/sodium.hpp"

namespace gw::crypto {

namespace {
thread_local std::uint64_t dh_count = 0;
}  // namespace

LockedKeyPair::LockedKeyPair(const KeyPair& key) {
  static_assert(alignof(KeyPair) == 1, "sodium_malloc aligns a block's end, not its start");
  auto* memory = new LockedBuffer(sizeof(KeyPair));
  const KeyPair* placed = new (memory->data()) KeyPair(key);  // copying a KeyPair cannot throw
  // Should the control block's allocation fail, shared_ptr calls the deleter.
  key_ = std::shared_ptr<const KeyPair>(placed, [memory](const KeyPair* k) {
    k->~KeyPair();  // wipes the private key
    delete memory;  // sodium_free: wipes, unlocks, unmaps
  });
}

KeyPair KeyPair::generate(Rng& rng) {
  PrivateKey key;
  rng.fill(key.bytes());
  return from_private(key);
}

KeyPair KeyPair::from_private(const PrivateKey& private_key) {
  KeyPair kp;
  kp.private_key = private_key;
  kp.public_key = public_key_of(private_key);
  return kp;
}

PublicKey public_key_of(const PrivateKey& private_key) {
  ensure_sodium();
  PublicKey pub{};
  // Fails only for a private key that clamps to zero, which clamping rules out.
  (void)crypto_scalarmult_base(pub.data(), private_key.data());
  return pub;
}

bool x25519(const PrivateKey& private_key, const PublicKey& public_key,
            SharedSecret& out) noexcept {
  ++dh_count;
  // libsodium returns -1 when the result is all zeros (a low-order point);
  // check it again here so the rule does not rest on one library version.
  if (crypto_scalarmult(out.data(), private_key.data(), public_key.data()) != 0 || out.is_zero()) {
    out.wipe();
    return false;
  }
  return true;
}

std::uint64_t dh_operations_on_this_thread() noexcept {
  return dh_count;
}

}  // namespace gw::crypto
