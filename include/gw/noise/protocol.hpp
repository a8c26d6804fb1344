// SPDX-License-Identifier: MIT
// Noise protocol names: the pattern table and the parser that turns a name
// such as "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b" into a Protocol.
//
// Supported: every one-way and interactive fundamental pattern and every
// deferred pattern of revision 34, psk modifiers at any positions; DH 25519;
// ciphers ChaChaPoly and AESGCM (where the CPU has AES-NI); hashes BLAKE2b,
// SHA256 and SHA512. 448 and BLAKE2s (absent from libsodium) and any other
// modifier are refused as unsupported.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gw/constants.hpp"
#include "gw/crypto/aead.hpp"
#include "gw/crypto/hash.hpp"

namespace gw::noise {

enum class Token : std::uint8_t { e, s, ee, es, se, ss, psk };
enum class Role : std::uint8_t { initiator, responder };

const char* to_string(Token t) noexcept;

// A short list of tokens, stored inline.
struct TokenList {
  std::array<Token, noise_impl::kMaxTokensPerMessage> tokens{};
  std::uint8_t size = 0;

  std::span<const Token> view() const noexcept { return {tokens.data(), size}; }
  bool contains(Token t) const noexcept;
};

struct HandshakePattern {
  std::string_view name;    // "XX", "X1K1", ...
  TokenList pre_initiator;  // pre-message from the initiator (subset of e, s)
  TokenList pre_responder;  // pre-message from the responder
  std::array<TokenList, noise_impl::kMaxPatternMessages> messages{};  // alternate, initiator first
  std::uint8_t message_count = 0;
  bool one_way = false;  // N, K, X: a single message, then initiator-to-responder traffic only

  // Who sends message `index`.
  Role sender(std::size_t index) const noexcept {
    return index % 2 == 0 ? Role::initiator : Role::responder;
  }
};

// The base pattern called `name` ("XX", "NK1", ...), or nullptr.
const HandshakePattern* find_pattern(std::string_view name) noexcept;
// Every base pattern in the table.
std::span<const HandshakePattern> all_patterns() noexcept;

struct Protocol {
  std::array<char, noise_impl::kMaxProtocolNameLen + 1> name_buf{};
  std::uint8_t name_len = 0;
  HandshakePattern pattern;  // with psk modifiers applied
  crypto::CipherAlg cipher = crypto::CipherAlg::chachapoly;
  crypto::HashAlg hash = crypto::HashAlg::blake2b;
  std::uint8_t psk_count = 0;

  std::string_view name() const noexcept { return {name_buf.data(), name_len}; }
  bool psk_mode() const noexcept { return psk_count > 0; }
  // Whether `role` must be given the other side's static key before start()
  // (the other side's pre-message holds "s").
  bool needs_remote_static(Role role) const noexcept;
  // Whether `role` needs a static key of its own.
  bool needs_local_static(Role role) const noexcept;
};

struct ParseResult {
  enum class Status : std::uint8_t { ok, malformed, unsupported };
  Status status = Status::malformed;
  std::optional<Protocol> protocol;
  std::string message;  // why, when status is not ok

  explicit operator bool() const noexcept { return status == Status::ok; }
};

ParseResult parse_protocol(std::string_view name);

}  // namespace gw::noise
