// SPDX-License-Identifier: MIT
// X25519 keys and Diffie-Hellman (RFC 7748), on libsodium's crypto_scalarmult.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/secret.hpp"

namespace gw::crypto {

using PublicKey = std::array<std::uint8_t, noise_spec::kDhLen>;
using PrivateKey = Secret<noise_spec::kDhLen>;
using SharedSecret = Secret<noise_spec::kDhLen>;

struct KeyPair {
  PrivateKey private_key;
  PublicKey public_key{};

  // A fresh key pair from `rng`.
  static KeyPair generate(Rng& rng);
  // The key pair of a given private key (any 32 bytes; X25519 clamps them).
  static KeyPair from_private(const PrivateKey& private_key);
};

// A key pair in locked memory (a LockedBuffer of its own: mlock()ed where the
// system allows it, excluded from core dumps, guard pages around it), or
// nothing. Immutable and shared: copies refer to the one key pair, which is
// wiped and freed when the last copy goes. For a long-lived static key: gwd's
// engine and each of its pending handshakes hold the same one.
class LockedKeyPair {
 public:
  LockedKeyPair() noexcept = default;
  // Copies `key` into fresh locked memory. Throws std::bad_alloc.
  explicit LockedKeyPair(const KeyPair& key);

  explicit operator bool() const noexcept { return key_ != nullptr; }
  // Only on a LockedKeyPair that holds a key.
  const KeyPair& operator*() const noexcept { return *key_; }
  const KeyPair* operator->() const noexcept { return key_.get(); }
  const KeyPair* get() const noexcept { return key_.get(); }
  // How many LockedKeyPairs share this key pair (0 when empty).
  long holders() const noexcept { return key_.use_count(); }
  void reset() noexcept { key_.reset(); }

 private:
  std::shared_ptr<const KeyPair> key_;
};

// The public key of `private_key`.
PublicKey public_key_of(const PrivateKey& private_key);

// out = X25519(private_key, public_key). Returns false, with `out` wiped, when
// the result is all zeros: `public_key` was a low-order point, and using the
// result as a secret would hand it to anyone who knows that point.
[[nodiscard]] bool x25519(const PrivateKey& private_key, const PublicKey& public_key,
                          SharedSecret& out) noexcept;

// Number of X25519 DH operations this thread has performed (for tests that
// prove a code path does no DH, and for benchmarks).
std::uint64_t dh_operations_on_this_thread() noexcept;

}  // namespace gw::crypto
