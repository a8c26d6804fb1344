// SPDX-License-Identifier: MIT
// Keys as text and key files, like WireGuard: a key is the base64 (standard
// alphabet, padded) of exactly 32 bytes; a key file holds one such line.
//
// A key file is refused, with a message that names the file, when it is
// missing, not a regular file, readable or writable by group or others
// (mode & 077 != 0: 0600 and 0400 pass, 0640 and 0644 do not), larger than
// a key line could be, or when its content, trimmed of surrounding
// whitespace (one trailing newline, typically), is not base64 of 32 bytes.
// The secret goes straight into a crypto::Secret; the read buffer is wiped.
// Ownership is not checked here: the daemon reads its keys before it drops
// privileges, and a file only root can read is as strict as it gets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"

namespace gw::config {

inline constexpr std::size_t kKeyLen = 32;
inline constexpr std::size_t kKeyBase64Len = 44;  // 32 bytes with one '=' of padding

static_assert(noise_spec::kDhLen == kKeyLen && noise_spec::kPskLen == kKeyLen);

// Standard base64 with padding (what `wg genkey` prints).
std::string to_base64(Bytes bytes);
// A public key from its base64, or nullopt unless `text` is exactly base64 of
// 32 bytes (no whitespace, canonical padding).
std::optional<crypto::PublicKey> parse_public_key(std::string_view text);
// The same for a secret: the bytes never pass through an unwiped buffer.
std::optional<crypto::Secret<kKeyLen>> parse_secret_key(std::string_view text);

struct KeyFileResult {
  std::optional<crypto::Secret<kKeyLen>> key;
  std::string error;  // names the file and what is wrong with it; empty on success

  explicit operator bool() const noexcept { return key.has_value(); }
};

// The static private key (X25519) in `path`.
KeyFileResult load_private_key(const std::string& path);
// A peer's pre-shared key in `path`. The same checks, its own wording.
KeyFileResult load_psk(const std::string& path);

struct PublicKeyFileResult {
  std::optional<crypto::PublicKey> key;
  std::string error;  // names the file and what is wrong with it; empty on success

  explicit operator bool() const noexcept { return key.has_value(); }
};
// A peer's public key in `path` (what `gwctl pubkey` writes). The same checks
// but the mode: a public key may be readable by anyone.
PublicKeyFileResult load_public_key(const std::string& path);

}  // namespace gw::config
