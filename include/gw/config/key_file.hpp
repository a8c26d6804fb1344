// SPDX-License-Identifier: MIT
// Keys as text and key files. A peer's keys and PSKs are as WireGuard has
// them: the base64 (standard alphabet, padded) of exactly 32 bytes, one line
// a file. A CA's keys (Ed25519) are the same line inside an armour that names
// their kind, so that no key file can be taken for another kind of key:
//
//   -----BEGIN GW CA PRIVATE KEY-----        -----BEGIN GW CA PUBLIC KEY-----
//   <base64 of the 32-byte seed>             <base64 of the 32-byte public key>
//   -----END GW CA PRIVATE KEY-----          -----END GW CA PUBLIC KEY-----
//
// (docs/CERTIFICATES.md, section 4). Each loader takes one kind and refuses
// every other by name ("ca.pub: this is a CA public key file, not a CA
// private key"), a plain key line where a CA key belongs included: that
// line cannot be told from an X25519 key, so a CA key from before the armour
// is converted once with `gwctl ca upgrade`, which checks the pair first.
//
// A key file is refused, with a message that names the file, when it is
// missing, not a regular file, of another kind, readable or writable by
// group or others when it holds a secret (mode & 077 != 0: 0600 and 0400
// pass, 0640 and 0644 do not), owned by another user when it holds a secret
// (anyone but root, the reading process's effective user and the owner the
// caller names: that user could change the key or its mode; "owned by uid
// 65534 (nobody)" names them), larger than a key file could be, or when its
// content, trimmed of surrounding whitespace (one trailing newline,
// typically), is not the key. The secret goes straight into a
// crypto::Secret; the read buffer is wiped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/identity/certificate.hpp"

namespace gw::config {

inline constexpr std::size_t kKeyLen = 32;
inline constexpr std::size_t kKeyBase64Len = 44;  // 32 bytes with one '=' of padding
// The largest key file read: a CA key's armour (111 bytes) and generous whitespace.
inline constexpr std::size_t kMaxKeyFileSize = 256;

static_assert(noise_spec::kDhLen == kKeyLen && noise_spec::kPskLen == kKeyLen);

// Standard base64 with padding (what `wg genkey` prints).
std::string to_base64(Bytes bytes);
// A public key from its base64, or nullopt unless `text` is exactly base64 of
// 32 bytes (no whitespace, canonical padding).
std::optional<crypto::PublicKey> parse_public_key(std::string_view text);
// The same for a secret: the bytes never pass through an unwiped buffer.
std::optional<crypto::Secret<kKeyLen>> parse_secret_key(std::string_view text);

// What a key file holds, told from its text alone.
enum class KeyKind : std::uint8_t {
  key_line,     // base64 of 32 bytes, one line: an X25519 private or public key or a PSK
                // (gw's and WireGuard's format); also a CA key from before the armour
  ca_private,   // the armour "GW CA PRIVATE KEY"
  ca_public,    // the armour "GW CA PUBLIC KEY"
  certificate,  // the armour "GW CERTIFICATE" (include/gw/identity/certificate.hpp)
  armour,       // another "-----BEGIN LABEL-----" (an SSH or a nebula key, say)
  other,        // nothing gw knows: garbage, an empty file, a broken key line
};

// The kind of `text`: an armour by its first line (the key in it may still
// be broken), a key line only if it decodes, `other` otherwise.
KeyKind key_kind(std::string_view text);

// What `text` is, for messages: "a CA private key file", "a gw/WireGuard key
// line (an X25519 key or a PSK)", "a gw certificate", "a -----BEGIN OPENSSH
// PRIVATE KEY----- file"; empty for `other`.
std::string describe_kind(std::string_view text);

// What a caller reads a key file as.
enum class KeyUse : std::uint8_t { private_key, psk, public_key, ca_private_key, ca_public_key };

// "NAME: this is a CA public key file, not a CA private key" when `text` is a
// key file of another kind than `use` takes (with how to convert a plain
// line where a CA key belongs); nullopt when it is of that kind or of no kind
// gw knows (the caller's own parse then says what is wrong). NAME is `name`
// ("stdin", or the file's path).
std::optional<std::string> wrong_kind(std::string_view text, KeyUse use, const std::string& name);

// The key in the armour of `kind` (ca_private or ca_public) into `out` (32
// bytes, wiped on failure). Exactly three lines: BEGIN, the base64 line, END;
// whitespace around the whole and CRLF line ends are accepted, nothing else.
// On failure `error` names the line ("line 2: expected ...").
bool parse_ca_key_text(std::string_view text, KeyKind kind, MutBytes out, std::string& error);

// The armour of a CA key, as `gwctl ca init` writes it: BEGIN line, base64
// line, END line, each ending with "\n". The string holds a private key for
// ca_private: the caller wipes it.
std::string ca_key_text(KeyKind kind, Bytes key);

struct KeyFileResult {
  std::optional<crypto::Secret<kKeyLen>> key;
  std::string error;              // names the file and what is wrong with it; empty on success
  KeyKind kind = KeyKind::other;  // what the file holds, as far as it was read

  explicit operator bool() const noexcept { return key.has_value(); }
};

// The static private key (X25519) in `path`. `also_owner`: a user besides
// root and this process's who may own it (gwd's "user", which writes PSK
// files once it runs as that user).
KeyFileResult load_private_key(const std::string& path,
                               std::optional<std::uint32_t> also_owner = std::nullopt);
// A peer's pre-shared key in `path`. The same checks, its own wording.
KeyFileResult load_psk(const std::string& path,
                       std::optional<std::uint32_t> also_owner = std::nullopt);

struct PublicKeyFileResult {
  std::optional<crypto::PublicKey> key;
  std::string error;  // names the file and what is wrong with it; empty on success
  KeyKind kind = KeyKind::other;

  explicit operator bool() const noexcept { return key.has_value(); }
};
// A peer's public key in `path` (what `gwctl pubkey` writes). The same checks
// but the mode: a public key may be readable by anyone.
PublicKeyFileResult load_public_key(const std::string& path);

// A CA's private key (its Ed25519 seed) in `path`, in its armour; mode 0600
// or stricter, as every private key.
KeyFileResult load_ca_private_key(const std::string& path);

struct CaPublicKeyFileResult {
  std::optional<identity::CaPublicKey> key;
  std::string error;  // names the file and what is wrong with it; empty on success
  KeyKind kind = KeyKind::other;

  explicit operator bool() const noexcept { return key.has_value(); }
};
// A CA's public key in `path`, in its armour; any mode.
CaPublicKeyFileResult load_ca_public_key(const std::string& path);

// For `gwctl ca upgrade` alone: a CA key file (`use` ca_private_key or
// ca_public_key) in its armour or as the plain key line that `gwctl ca init`
// wrote before; `kind` says which of the two it was.
KeyFileResult load_ca_key_any_form(const std::string& path, KeyUse use);

}  // namespace gw::config
