// SPDX-License-Identifier: MIT
// Keys that gwctl reads for a command: one key line on stdin ("-"), or a
// key file. Nothing here prints: a failure is an error line, without the
// "gwctl: " prefix, for the command to report.
#pragma once

#include <optional>
#include <string>

#include "gw/config/key_file.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"

namespace gw::gwctl {

using SecretKey = crypto::Secret<config::kKeyLen>;

// A secret key of `use` (private key, PSK) from one line on stdin; the text
// read is wiped. `what` names the key in the error: "pre-shared key".
std::optional<SecretKey> read_stdin_secret(config::KeyUse use, const std::string& what,
                                           std::string& error);

// A public key from one line on stdin.
std::optional<crypto::PublicKey> read_stdin_public_key(std::string& error);

// A PSK from --psk-file: a key file, or stdin for "-".
std::optional<SecretKey> read_psk(const std::string& path, std::string& error);

// A public key from --public-key-file: a key file, or stdin for "-".
std::optional<crypto::PublicKey> read_public_key(const std::string& path, std::string& error);

}  // namespace gw::gwctl
