// SPDX-License-Identifier: MIT
// What a finished handshake leaves behind: one CipherState per direction, the
// handshake hash (for channel binding) and the peer's static key, if any.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/cipher_state.hpp"

namespace gw::noise {

struct TransportState {
  CipherState send;
  CipherState receive;
  std::array<std::uint8_t, noise_spec::kMaxHashLen> hash{};
  std::size_t hash_len = 0;
  std::optional<crypto::PublicKey> remote_static;

  Bytes handshake_hash() const noexcept { return {hash.data(), hash_len}; }
};

}  // namespace gw::noise
