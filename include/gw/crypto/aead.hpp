// SPDX-License-Identifier: MIT
// AEAD ciphers: ChaCha20-Poly1305 (IETF, RFC 8439) and AES-256-GCM, both from
// libsodium. AES-256-GCM exists only where libsodium reports it available at
// run time (AES-NI and PCLMUL); elsewhere constructing an AES key throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/secret.hpp"

namespace gw::crypto {

enum class CipherAlg : std::uint8_t { chachapoly, aesgcm };

// True when libsodium can run AES-256-GCM on this CPU.
bool aes256gcm_available();

using AeadKeyBytes = Secret<noise_spec::kKeyLen>;
using Nonce = std::array<std::uint8_t, noise_spec::kNonceLen>;

// A key prepared for one cipher. For AES-256-GCM the expanded key schedule is
// computed once here (crypto_aead_aes256gcm_beforenm), not once per packet.
class AeadKey {
 public:
  AeadKey(CipherAlg alg, const AeadKeyBytes& key);
  AeadKey(const AeadKey& other);
  AeadKey& operator=(const AeadKey& other);
  AeadKey(AeadKey&&) noexcept = default;
  AeadKey& operator=(AeadKey&&) noexcept = default;
  ~AeadKey();

  CipherAlg alg() const noexcept { return alg_; }

  // Writes plaintext.size() + 16 bytes to `out` (which may be the plaintext's
  // own storage: in place). Returns the bytes written, or 0 if `out` is too small.
  std::size_t seal(const Nonce& nonce, Bytes ad, Bytes plaintext, MutBytes out) const noexcept;
  // Writes ciphertext.size() - 16 bytes to `out` (in place allowed). Returns
  // false when the tag does not verify or the sizes are wrong; `out` is then
  // not to be used.
  [[nodiscard]] bool open(const Nonce& nonce, Bytes ad, Bytes ciphertext, MutBytes out,
                          std::size_t& written) const noexcept;

  // The raw key (for Noise's Rekey and for tests).
  const AeadKeyBytes& key_bytes() const noexcept { return key_; }

 private:
  struct AesState;
  struct AesStateDeleter {
    void operator()(AesState* state) const noexcept;
  };
  CipherAlg alg_;
  AeadKeyBytes key_;
  std::unique_ptr<AesState, AesStateDeleter> aes_;
};

}  // namespace gw::crypto
