// SPDX-License-Identifier: MIT
// Every protocol number in gw, in one place. Other files never repeat a number.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gw {

// --- Specification constants: the Noise Protocol Framework, revision 34 ---
namespace noise_spec {
inline constexpr std::size_t kDhLen = 32;             // X25519 public key, shared secret
inline constexpr std::size_t kKeyLen = 32;            // cipher key
inline constexpr std::size_t kTagLen = 16;            // AEAD authentication tag
inline constexpr std::size_t kNonceLen = 12;          // AEAD nonce: 4 zero bytes + 64-bit counter
inline constexpr std::size_t kPskLen = 32;            // pre-shared symmetric key
inline constexpr std::size_t kMaxMessageLen = 65535;  // any Noise message, handshake or transport
inline constexpr std::size_t kMaxHashLen = 64;        // BLAKE2b and SHA-512
inline constexpr std::size_t kMaxBlockLen = 128;      // BLAKE2b and SHA-512 blocks
inline constexpr std::uint64_t kMaxNonce = ~std::uint64_t{0};  // reserved: 2^64-1, used by Rekey
}  // namespace noise_spec

// --- Implementation constants ---
namespace noise_impl {
inline constexpr std::size_t kMaxProtocolNameLen = 127;  // longest protocol name accepted
inline constexpr std::size_t kMaxPatternMessages = 6;    // handshake messages per pattern
inline constexpr std::size_t kMaxTokensPerMessage = 8;   // tokens in one message pattern
inline constexpr std::size_t kMaxPsks = 8;               // psk modifiers in one name
}  // namespace noise_impl

}  // namespace gw
