// SPDX-License-Identifier: MIT
#include "gw/noise/symmetric_state.hpp"

#include <algorithm>

#include "gw/crypto/hash.hpp"
#include "gw/crypto/hkdf.hpp"

namespace gw::noise {

using Block = crypto::Secret<noise_spec::kMaxHashLen>;

SymmetricState::SymmetricState(const Protocol& protocol)
    : hash_(protocol.hash), hash_len_(crypto::hash_len(protocol.hash)), cipher_(protocol.cipher) {
  const std::string_view name = protocol.name();
  if (name.size() <= hash_len_) {
    std::copy(name.begin(), name.end(), h_.begin());  // padded with zeros
  } else {
    crypto::hash(hash_, {reinterpret_cast<const std::uint8_t*>(name.data()), name.size()}, h_);
  }
  std::copy_n(h_.begin(), hash_len_, ck_.data());
}

// A HASHLEN of 64 is truncated to the 32-byte cipher key.
void SymmetricState::initialize_cipher(Bytes temp_key) {
  cipher_.initialize_key(crypto::AeadKeyBytes(temp_key.first(noise_spec::kKeyLen)));
}

void SymmetricState::mix_key(Bytes input_key_material) {
  Block ck, temp_k;
  crypto::hkdf(hash_, ck_.bytes().first(hash_len_), input_key_material, ck.bytes(), temp_k.bytes());
  ck_ = ck;
  initialize_cipher(temp_k.bytes());
}

void SymmetricState::mix_hash(Bytes data) noexcept {
  crypto::Hasher hasher(hash_);
  hasher.update({h_.data(), hash_len_});
  hasher.update(data);
  hasher.final(h_);
}

void SymmetricState::mix_key_and_hash(Bytes input_key_material) {
  Block ck, temp_h, temp_k;
  crypto::hkdf(hash_, ck_.bytes().first(hash_len_), input_key_material, ck.bytes(), temp_h.bytes(),
               temp_k.bytes());
  ck_ = ck;
  mix_hash(temp_h.bytes().first(hash_len_));
  initialize_cipher(temp_k.bytes());
}

Error SymmetricState::encrypt_and_hash(Bytes plaintext, MutBytes out, std::size_t& written) {
  const Error err = cipher_.encrypt_with_ad(handshake_hash(), plaintext, out, written);
  if (err == Error::ok) mix_hash(out.first(written));
  return err;
}

Error SymmetricState::decrypt_and_hash(Bytes ciphertext, MutBytes out, std::size_t& written) {
  // h' = HASH(h || ciphertext) is computed before decryption, which may
  // overwrite the ciphertext in place, and kept only if the tag verifies.
  std::array<std::uint8_t, noise_spec::kMaxHashLen> next{};
  crypto::Hasher hasher(hash_);
  hasher.update(handshake_hash());
  hasher.update(ciphertext);
  hasher.final(next);
  const Error err = cipher_.decrypt_with_ad(handshake_hash(), ciphertext, out, written);
  if (err == Error::ok) h_ = next;
  return err;
}

void SymmetricState::split(CipherState& c1, CipherState& c2) const {
  Block k1, k2;
  crypto::hkdf(hash_, ck_.bytes().first(hash_len_), {}, k1.bytes(), k2.bytes());
  c1 = CipherState(cipher_.alg());
  c2 = CipherState(cipher_.alg());
  c1.initialize_key(crypto::AeadKeyBytes(k1.bytes().first(noise_spec::kKeyLen)));
  c2.initialize_key(crypto::AeadKeyBytes(k2.bytes().first(noise_spec::kKeyLen)));
}

void SymmetricState::wipe_keys() noexcept {
  ck_.wipe();
  cipher_.clear_key();
}

}  // namespace gw::noise
