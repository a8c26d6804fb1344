// SPDX-License-Identifier: MIT
// HMAC (RFC 2104) over each of gw's hashes. HMAC-SHA-256 and HMAC-SHA-512 are
// libsodium's crypto_auth_hmacsha256/512. libsodium's keyed BLAKE2b is a
// different construction, so HMAC-BLAKE2b is composed here from
// crypto_generichash with its 128-byte block, exactly as RFC 2104 defines HMAC.
#pragma once

#include <cstddef>

#include <sodium.h>

#include "gw/bytes.hpp"
#include "gw/crypto/hash.hpp"

namespace gw::crypto {

// An HMAC computation with its key absorbed. Copy a prepared Hmac to compute
// several MACs under one key without absorbing the key again.
class Hmac {
 public:
  Hmac(HashAlg alg, Bytes key) noexcept;
  Hmac(const Hmac&) noexcept = default;
  Hmac& operator=(const Hmac&) noexcept = default;
  ~Hmac();

  void update(Bytes data) noexcept;
  // Writes hash_len(alg) bytes.
  void final(MutBytes out) noexcept;

 private:
  HashAlg alg_;
  union State {
    struct {
      crypto_generichash_state inner;
      crypto_generichash_state outer;
    } blake2b;
    crypto_auth_hmacsha256_state sha256;
    crypto_auth_hmacsha512_state sha512;
  } state_;
};

// out = HMAC-HASH(key, data).
void hmac(HashAlg alg, Bytes key, Bytes data, MutBytes out) noexcept;

}  // namespace gw::crypto
