// SPDX-License-Identifier: MIT
// Errors of the Noise layer. Every failure is a value, never an exception:
// a bad packet is an everyday event for a network protocol.
#pragma once

#include <cstdint>

namespace gw::noise {

enum class Error : std::uint8_t {
  ok = 0,
  wrong_state,        // call not allowed now: wrong order, finished, failed or one-way
  missing_key,        // a key the pattern needs was not supplied before start()
  unexpected_key,     // a remote key was supplied that the pattern does not use
  psk_count,          // the number of PSKs does not match the pattern's psk tokens
  message_too_large,  // a message over 65535 bytes, read or written
  message_too_short,  // a message shorter than its pattern requires
  buffer_too_small,   // the caller's output buffer cannot hold the result
  decrypt_failed,     // authentication tag did not verify
  dh_failed,          // X25519 produced all zeros (low-order public key)
  nonce_exhausted,    // the counter reached 2^64-1
};

const char* to_string(Error e) noexcept;

}  // namespace gw::noise
