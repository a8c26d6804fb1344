// SPDX-License-Identifier: MIT
// CipherState (Noise section 5.1): a key k, empty or set, and a 64-bit nonce n.
#pragma once

#include <cstdint>
#include <optional>

#include "gw/bytes.hpp"
#include "gw/crypto/aead.hpp"
#include "gw/noise/error.hpp"

namespace gw::noise {

class CipherState {
 public:
  explicit CipherState(crypto::CipherAlg alg = crypto::CipherAlg::chachapoly) noexcept;
  // A state that refuses to encrypt or decrypt: the direction a one-way
  // pattern never uses.
  static CipherState unusable(crypto::CipherAlg alg) noexcept;

  crypto::CipherAlg alg() const noexcept { return alg_; }

  // InitializeKey(k): sets the key and resets n to 0.
  void initialize_key(const crypto::AeadKeyBytes& key);
  void clear_key() noexcept;
  bool has_key() const noexcept { return key_.has_value(); }
  bool usable() const noexcept { return usable_; }

  // SetNonce(n), for transports that deliver out of order.
  void set_nonce(std::uint64_t n) noexcept { n_ = n; }
  std::uint64_t nonce() const noexcept { return n_; }

  // EncryptWithAd / DecryptWithAd. With no key they copy the input. `out` may
  // be the input's own storage (in place). n is incremented on success; when
  // n has reached 2^64-1 they return Error::nonce_exhausted.
  Error encrypt_with_ad(Bytes ad, Bytes plaintext, MutBytes out, std::size_t& written);
  Error decrypt_with_ad(Bytes ad, Bytes ciphertext, MutBytes out, std::size_t& written);

  // The same with an explicit nonce and no change to n. Const, so several
  // threads may use one CipherState at once; the caller guarantees that a
  // nonce is never used twice for encryption.
  Error encrypt_at(std::uint64_t n, Bytes ad, Bytes plaintext, MutBytes out,
                   std::size_t& written) const noexcept;
  Error decrypt_at(std::uint64_t n, Bytes ad, Bytes ciphertext, MutBytes out,
                   std::size_t& written) const noexcept;

  // Rekey(): k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zeros).
  Error rekey();

 private:
  crypto::Nonce make_nonce(std::uint64_t n) const noexcept;

  crypto::CipherAlg alg_;
  std::optional<crypto::AeadKey> key_;
  std::uint64_t n_ = 0;
  bool usable_ = true;
};

}  // namespace gw::noise
