// SPDX-License-Identifier: MIT
#include "gw/noise/cipher_state.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "gw/constants.hpp"

namespace gw::noise {

using noise_spec::kMaxNonce;
using noise_spec::kTagLen;

CipherState::CipherState(crypto::CipherAlg alg) noexcept : alg_(alg) {}

CipherState CipherState::unusable(crypto::CipherAlg alg) noexcept {
  CipherState cs(alg);
  cs.usable_ = false;
  return cs;
}

void CipherState::initialize_key(const crypto::AeadKeyBytes& key) {
  key_.emplace(alg_, key);
  n_ = 0;
}

void CipherState::clear_key() noexcept {
  key_.reset();
  n_ = 0;
}

// Noise section 12: ChaChaPoly encodes n as 32 zero bits then 64 bits little-
// endian; AESGCM as 32 zero bits then 64 bits big-endian.
crypto::Nonce CipherState::make_nonce(std::uint64_t n) const noexcept {
  crypto::Nonce nonce{};
  for (std::size_t i = 0; i < 8; ++i) {
    const auto byte = static_cast<std::uint8_t>(n >> (8 * i));
    if (alg_ == crypto::CipherAlg::chachapoly) {
      nonce[4 + i] = byte;
    } else {
      nonce[11 - i] = byte;
    }
  }
  return nonce;
}

Error CipherState::encrypt_at(std::uint64_t n, Bytes ad, Bytes plaintext, MutBytes out,
                              std::size_t& written) const noexcept {
  written = 0;
  if (!usable_) return Error::wrong_state;
  if (!key_) {
    if (out.size() < plaintext.size()) return Error::buffer_too_small;
    if (!plaintext.empty() && out.data() != plaintext.data())
      std::memmove(out.data(), plaintext.data(), plaintext.size());
    written = plaintext.size();
    return Error::ok;
  }
  if (n == kMaxNonce) return Error::nonce_exhausted;
  if (out.size() < plaintext.size() + kTagLen) return Error::buffer_too_small;
  written = key_->seal(make_nonce(n), ad, plaintext, out);
  return Error::ok;
}

Error CipherState::decrypt_at(std::uint64_t n, Bytes ad, Bytes ciphertext, MutBytes out,
                              std::size_t& written) const noexcept {
  written = 0;
  if (!usable_) return Error::wrong_state;
  if (!key_) {
    if (out.size() < ciphertext.size()) return Error::buffer_too_small;
    if (!ciphertext.empty() && out.data() != ciphertext.data()) {
      std::memmove(out.data(), ciphertext.data(), ciphertext.size());
    }
    written = ciphertext.size();
    return Error::ok;
  }
  if (n == kMaxNonce) return Error::nonce_exhausted;
  if (ciphertext.size() < kTagLen) return Error::message_too_short;
  if (out.size() < ciphertext.size() - kTagLen) return Error::buffer_too_small;
  return key_->open(make_nonce(n), ad, ciphertext, out, written) ? Error::ok
                                                                 : Error::decrypt_failed;
}

Error CipherState::encrypt_with_ad(Bytes ad, Bytes plaintext, MutBytes out, std::size_t& written) {
  const Error err = encrypt_at(n_, ad, plaintext, out, written);
  if (err == Error::ok && key_) ++n_;
  return err;
}

Error CipherState::decrypt_with_ad(Bytes ad, Bytes ciphertext, MutBytes out, std::size_t& written) {
  const Error err = decrypt_at(n_, ad, ciphertext, out, written);
  if (err == Error::ok && key_) ++n_;
  return err;
}

Error CipherState::rekey() {
  if (!usable_ || !key_) return Error::wrong_state;
  std::array<std::uint8_t, noise_spec::kKeyLen + kTagLen> block{};
  (void)key_->seal(make_nonce(kMaxNonce), {}, Bytes(block.data(), noise_spec::kKeyLen), block);
  const crypto::AeadKeyBytes next(Bytes(block.data(), noise_spec::kKeyLen));
  sodium_memzero(block.data(), block.size());
  key_.emplace(alg_, next);  // n is left as it is
  return Error::ok;
}

}  // namespace gw::noise
