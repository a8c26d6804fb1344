// SPDX-License-Identifier: MIT
// SymmetricState (Noise section 5.2): the chaining key ck, the handshake hash
// h and a CipherState.
#pragma once

#include <array>
#include <cstddef>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/noise/cipher_state.hpp"
#include "gw/noise/protocol.hpp"

namespace gw::noise {

class SymmetricState {
 public:
  // InitializeSymmetric(protocol_name).
  explicit SymmetricState(const Protocol& protocol);

  void mix_key(Bytes input_key_material);
  void mix_hash(Bytes data) noexcept;
  void mix_key_and_hash(Bytes input_key_material);
  // h, hash_len bytes.
  Bytes handshake_hash() const noexcept { return {h_.data(), hash_len_}; }
  bool has_key() const noexcept { return cipher_.has_key(); }

  // EncryptAndHash / DecryptAndHash. `out` may alias the input. On failure h
  // is unchanged.
  Error encrypt_and_hash(Bytes plaintext, MutBytes out, std::size_t& written);
  Error decrypt_and_hash(Bytes ciphertext, MutBytes out, std::size_t& written);

  // Split(): c1 for initiator-to-responder traffic, c2 for the other way.
  void split(CipherState& c1, CipherState& c2) const;
  // Wipes ck and the cipher key; h stays (it is public: channel binding).
  void wipe_keys() noexcept;

 private:
  void initialize_cipher(Bytes temp_key);

  crypto::HashAlg hash_;
  std::size_t hash_len_;
  crypto::Secret<noise_spec::kMaxHashLen> ck_;
  std::array<std::uint8_t, noise_spec::kMaxHashLen> h_{};
  CipherState cipher_;
};

}  // namespace gw::noise
