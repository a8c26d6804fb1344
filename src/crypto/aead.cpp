// SPDX-License-Identifier: MIT
#include "gw/crypto/aead.hpp"

#include <new>
#include <stdexcept>

#include <sodium.h>

#include "gw/crypto/sodium.hpp"

namespace gw::crypto {

using noise_spec::kTagLen;

bool aes256gcm_available() {
  ensure_sodium();
  return crypto_aead_aes256gcm_is_available() == 1;
}

struct AeadKey::AesState {
  crypto_aead_aes256gcm_state ctx;
};

void AeadKey::AesStateDeleter::operator()(AesState* state) const noexcept {
  sodium_memzero(state, sizeof *state);
  delete state;
}

AeadKey::AeadKey(CipherAlg alg, const AeadKeyBytes& key) : alg_(alg), key_(key) {
  if (alg_ == CipherAlg::aesgcm) {
    if (!aes256gcm_available()) {
      throw std::runtime_error("AES-256-GCM is not available on this CPU (no AES-NI/PCLMUL)");
    }
    aes_.reset(new AesState);
    crypto_aead_aes256gcm_beforenm(&aes_->ctx, key_.data());
  }
}

AeadKey::AeadKey(const AeadKey& other) : alg_(other.alg_), key_(other.key_) {
  if (other.aes_) aes_.reset(new AesState(*other.aes_));
}

AeadKey& AeadKey::operator=(const AeadKey& other) {
  if (this != &other) {
    alg_ = other.alg_;
    key_ = other.key_;
    aes_.reset(other.aes_ ? new AesState(*other.aes_) : nullptr);
  }
  return *this;
}

AeadKey::~AeadKey() = default;

std::size_t AeadKey::seal(const Nonce& nonce, Bytes ad, Bytes plaintext,
                          MutBytes out) const noexcept {
  if (out.size() < plaintext.size() + kTagLen) return 0;
  unsigned long long clen = 0;
  if (alg_ == CipherAlg::chachapoly) {
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &clen, plaintext.data(), plaintext.size(),
                                              ad.data(), ad.size(), nullptr, nonce.data(),
                                              key_.data());
  } else {
    crypto_aead_aes256gcm_encrypt_afternm(out.data(), &clen, plaintext.data(), plaintext.size(),
                                          ad.data(), ad.size(), nullptr, nonce.data(), &aes_->ctx);
  }
  return static_cast<std::size_t>(clen);
}

bool AeadKey::open(const Nonce& nonce, Bytes ad, Bytes ciphertext, MutBytes out,
                   std::size_t& written) const noexcept {
  written = 0;
  if (ciphertext.size() < kTagLen || out.size() < ciphertext.size() - kTagLen) return false;
  unsigned long long mlen = 0;
  int rc;
  if (alg_ == CipherAlg::chachapoly) {
    rc = crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &mlen, nullptr, ciphertext.data(),
                                                   ciphertext.size(), ad.data(), ad.size(),
                                                   nonce.data(), key_.data());
  } else {
    rc = crypto_aead_aes256gcm_decrypt_afternm(out.data(), &mlen, nullptr, ciphertext.data(),
                                               ciphertext.size(), ad.data(), ad.size(),
                                               nonce.data(), &aes_->ctx);
  }
  if (rc != 0) return false;
  written = static_cast<std::size_t>(mlen);
  return true;
}

}  // namespace gw::crypto
