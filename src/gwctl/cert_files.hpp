// SPDX-License-Identifier: MIT
// The files of gwctl's certificate commands: certificates, CA keys,
// revocation lists and public keys read, and files created or replaced with
// the mode each kind has. Nothing here prints: a failure is an error line
// that names the file, for the command to report.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "gw/config/key_file.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/identity/certificate.hpp"

namespace gw::gwctl {

// A certificate's armour is a few KiB (kMaxCertificateSize bytes of base64);
// a revocation list is 65 bytes a fingerprint.
inline constexpr std::size_t kMaxCertificateFile = 64 * 1024;
inline constexpr std::size_t kMaxRevocationFile = 64 * 1024 * 1024;

inline constexpr mode_t kPublicMode = 0644;
inline constexpr mode_t kSecretMode = 0600;

std::string errno_text(int err);

// How a file is named in messages: "-" is stdin.
std::string file_label(const std::string& path);

struct ReadResult {
  std::optional<std::string> text;
  std::string error;  // names the file; empty on success
  int err = 0;        // errno of a failed open
};

// The whole of `path` ("-": stdin), at most `max` bytes. Pipes and process
// substitutions are read too; a certificate is no secret.
ReadResult read_text_file(const std::string& path, std::size_t max);

// Creates `path`, which must not exist (O_EXCL: not even as a symlink), with
// exactly `mode` whatever the umask, and `text` in it. Nothing is left
// behind on failure.
bool create_exclusive(const std::string& path, std::string_view text, mode_t mode,
                      std::string& error);

// Replaces `path` atomically (config::write_file_atomically, which writes
// mode 0600) and then gives it `mode`.
bool replace_file(const std::string& path, std::string_view text, mode_t mode, std::string& error);

bool exists(const std::string& path);

// Whether two names are one file: the same name, or the same inode.
bool same_file(const std::string& a, const std::string& b);

// `path`'s permission bits, or `otherwise` when it cannot be stat'ed.
mode_t mode_of(const std::string& path, mode_t otherwise);

// A public key from --public-key-file: a file, or one line on stdin ("-").
std::optional<crypto::PublicKey> read_public_key_file(const std::string& path, std::string& error);

// The CA's private key (its Ed25519 seed): its armour, mode 0600 or stricter.
std::optional<identity::CaKey> load_ca_key(const std::string& path, std::string& error);

// "FILE: this is a CA public key file, not WHAT" when `text` is a file of a
// kind gw knows other than `own` (a certificate's own errors say more about a
// broken certificate); empty otherwise.
std::string key_file_instead(const std::string& label, std::string_view text, const char* what,
                             config::KeyKind own = config::KeyKind::other);

// A certificate file ("-": stdin), dearmored.
std::optional<identity::Certificate> read_certificate(const std::string& path, std::string& error);

}  // namespace gw::gwctl
