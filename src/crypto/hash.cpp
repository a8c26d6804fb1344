// SPDX-License-Identifier: MIT
#include "gw/crypto/hash.hpp"

namespace gw::crypto {

const char* to_string(HashAlg alg) noexcept {
  switch (alg) {
    case HashAlg::blake2b:
      return "BLAKE2b";
    case HashAlg::sha256:
      return "SHA256";
    case HashAlg::sha512:
      return "SHA512";
  }
  return "?";
}

Hasher::Hasher(HashAlg alg) noexcept : alg_(alg) {
  switch (alg_) {
    case HashAlg::blake2b:
      crypto_generichash_init(&state_.blake2b, nullptr, 0, crypto_generichash_BYTES_MAX);
      break;
    case HashAlg::sha256:
      crypto_hash_sha256_init(&state_.sha256);
      break;
    case HashAlg::sha512:
      crypto_hash_sha512_init(&state_.sha512);
      break;
  }
}

Hasher::~Hasher() {
  sodium_memzero(&state_, sizeof state_);
}

void Hasher::update(Bytes data) noexcept {
  switch (alg_) {
    case HashAlg::blake2b:
      crypto_generichash_update(&state_.blake2b, data.data(), data.size());
      break;
    case HashAlg::sha256:
      crypto_hash_sha256_update(&state_.sha256, data.data(), data.size());
      break;
    case HashAlg::sha512:
      crypto_hash_sha512_update(&state_.sha512, data.data(), data.size());
      break;
  }
}

void Hasher::final(MutBytes out) noexcept {
  switch (alg_) {
    case HashAlg::blake2b:
      crypto_generichash_final(&state_.blake2b, out.data(), crypto_generichash_BYTES_MAX);
      break;
    case HashAlg::sha256:
      crypto_hash_sha256_final(&state_.sha256, out.data());
      break;
    case HashAlg::sha512:
      crypto_hash_sha512_final(&state_.sha512, out.data());
      break;
  }
}

void hash(HashAlg alg, Bytes data, MutBytes out) noexcept {
  Hasher h(alg);
  h.update(data);
  h.final(out);
}

}  // namespace gw::crypto
