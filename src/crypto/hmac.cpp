// SPDX-License-Identifier: MIT
#include "gw/crypto/hmac.hpp"

#include <algorithm>
#include <array>

#include "gw/constants.hpp"

namespace gw::crypto {

namespace {

constexpr std::size_t kBlake2bBlock = 128;  // BLAKE2b's block, RFC 2104's B
constexpr std::size_t kBlake2bOut = crypto_generichash_BYTES_MAX;
static_assert(block_len(HashAlg::blake2b) == kBlake2bBlock);

// RFC 2104: a key longer than the block is first hashed; the (padded) key is
// XORed with ipad (0x36) for the inner hash and opad (0x5c) for the outer.
void blake2b_hmac_init(crypto_generichash_state& inner, crypto_generichash_state& outer,
                       Bytes key) noexcept {
  std::array<std::uint8_t, kBlake2bBlock> block{};
  if (key.size() > kBlake2bBlock) {
    crypto_generichash(block.data(), kBlake2bOut, key.data(), key.size(), nullptr, 0);
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, kBlake2bBlock> pad{};
  for (std::size_t i = 0; i < kBlake2bBlock; ++i)
    pad[i] = block[i] ^ 0x36;
  crypto_generichash_init(&inner, nullptr, 0, kBlake2bOut);
  crypto_generichash_update(&inner, pad.data(), pad.size());
  for (std::size_t i = 0; i < kBlake2bBlock; ++i)
    pad[i] = block[i] ^ 0x5c;
  crypto_generichash_init(&outer, nullptr, 0, kBlake2bOut);
  crypto_generichash_update(&outer, pad.data(), pad.size());
  sodium_memzero(block.data(), block.size());
  sodium_memzero(pad.data(), pad.size());
}

}  // namespace

Hmac::Hmac(HashAlg alg, Bytes key) noexcept : alg_(alg) {
  // libsodium declares the key pointer nonnull even for an empty key, and an
  // empty span's data() may be null.
  static constexpr std::uint8_t kEmptyKey = 0;
  if (key.empty()) key = Bytes(&kEmptyKey, 0);
  switch (alg_) {
    case HashAlg::blake2b:
      blake2b_hmac_init(state_.blake2b.inner, state_.blake2b.outer, key);
      break;
    case HashAlg::sha256:
      crypto_auth_hmacsha256_init(&state_.sha256, key.data(), key.size());
      break;
    case HashAlg::sha512:
      crypto_auth_hmacsha512_init(&state_.sha512, key.data(), key.size());
      break;
  }
}

Hmac::~Hmac() {
  sodium_memzero(&state_, sizeof state_);
}

void Hmac::update(Bytes data) noexcept {
  switch (alg_) {
    case HashAlg::blake2b:
      crypto_generichash_update(&state_.blake2b.inner, data.data(), data.size());
      break;
    case HashAlg::sha256:
      crypto_auth_hmacsha256_update(&state_.sha256, data.data(), data.size());
      break;
    case HashAlg::sha512:
      crypto_auth_hmacsha512_update(&state_.sha512, data.data(), data.size());
      break;
  }
}

void Hmac::final(MutBytes out) noexcept {
  switch (alg_) {
    case HashAlg::blake2b: {
      std::array<std::uint8_t, kBlake2bOut> inner{};
      crypto_generichash_final(&state_.blake2b.inner, inner.data(), inner.size());
      crypto_generichash_update(&state_.blake2b.outer, inner.data(), inner.size());
      crypto_generichash_final(&state_.blake2b.outer, out.data(), kBlake2bOut);
      sodium_memzero(inner.data(), inner.size());
      break;
    }
    case HashAlg::sha256:
      crypto_auth_hmacsha256_final(&state_.sha256, out.data());
      break;
    case HashAlg::sha512:
      crypto_auth_hmacsha512_final(&state_.sha512, out.data());
      break;
  }
}

void hmac(HashAlg alg, Bytes key, Bytes data, MutBytes out) noexcept {
  Hmac mac(alg, key);
  mac.update(data);
  mac.final(out);
}

}  // namespace gw::crypto
