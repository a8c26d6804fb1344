// SPDX-License-Identifier: MIT
// Hash functions: BLAKE2b-512 (crypto_generichash), SHA-256 and SHA-512
// (crypto_hash_sha256/512), behind one incremental interface.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sodium.h>

#include "gw/bytes.hpp"

namespace gw::crypto {

enum class HashAlg : std::uint8_t { blake2b, sha256, sha512 };

constexpr std::size_t hash_len(HashAlg alg) noexcept {
  return alg == HashAlg::sha256 ? 32 : 64;
}
constexpr std::size_t block_len(HashAlg alg) noexcept {
  return alg == HashAlg::sha256 ? 64 : 128;
}
const char* to_string(HashAlg alg) noexcept;

// Incremental hash. Copyable: a copy continues from the same point, which is
// how HMAC reuses a prepared key. The state is wiped on destruction.
class Hasher {
 public:
  explicit Hasher(HashAlg alg) noexcept;
  Hasher(const Hasher&) noexcept = default;
  Hasher& operator=(const Hasher&) noexcept = default;
  ~Hasher();

  HashAlg alg() const noexcept { return alg_; }
  void update(Bytes data) noexcept;
  // Writes hash_len(alg) bytes; `out` must be at least that long.
  void final(MutBytes out) noexcept;

 private:
  HashAlg alg_;
  union State {
    crypto_generichash_state blake2b;
    crypto_hash_sha256_state sha256;
    crypto_hash_sha512_state sha512;
  } state_;
};

// out = HASH(data); `out` must hold hash_len(alg) bytes.
void hash(HashAlg alg, Bytes data, MutBytes out) noexcept;

}  // namespace gw::crypto
