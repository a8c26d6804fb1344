// SPDX-License-Identifier: MIT
#include "key_input.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

#include <sodium.h>

namespace gw::gwctl {

namespace {

// A key file's text on stdin: at most a key file's size, and one byte to tell.
using KeyBuffer = std::array<char, config::kMaxKeyFileSize + 1>;

// One key line from stdin into `buf`, trimmed of trailing whitespace; nullopt
// when stdin holds more than a key file could be.
std::optional<std::string_view> read_stdin_key_line(KeyBuffer& buf) {
  std::size_t used = 0;
  while (used < buf.size()) {
    const ssize_t n = ::read(STDIN_FILENO, buf.data() + used, buf.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used == buf.size()) return std::nullopt;
  std::string_view text(buf.data(), used);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  return text;
}

// "stdin: this is a CA private key file, not ..." when stdin held a key file
// of another kind than `use`.
std::optional<std::string> wrong_kind_on_stdin(const std::optional<std::string_view>& text,
                                               config::KeyUse use) {
  return text ? config::wrong_kind(*text, use, "stdin") : std::nullopt;
}

}  // namespace

std::optional<SecretKey> read_stdin_secret(config::KeyUse use, const std::string& what,
                                           std::string& error) {
  KeyBuffer buf{};
  const auto text = read_stdin_key_line(buf);
  const auto wrong = wrong_kind_on_stdin(text, use);
  auto key = text && !wrong ? config::parse_secret_key(*text) : std::nullopt;
  sodium_memzero(buf.data(), buf.size());
  if (!key) error = wrong ? *wrong : "expected a base64 " + what + " of 32 bytes on stdin";
  return key;
}

std::optional<crypto::PublicKey> read_stdin_public_key(std::string& error) {
  KeyBuffer buf{};
  const auto text = read_stdin_key_line(buf);
  const auto wrong = wrong_kind_on_stdin(text, config::KeyUse::public_key);
  auto key = text && !wrong ? config::parse_public_key(*text) : std::nullopt;
  if (!key) error = wrong ? *wrong : "expected a base64 public key of 32 bytes on stdin";
  return key;
}

std::optional<SecretKey> read_psk(const std::string& path, std::string& error) {
  if (path == "-") return read_stdin_secret(config::KeyUse::psk, "pre-shared key", error);
  auto loaded = config::load_psk(path);
  if (!loaded) {
    error = loaded.error;
    return std::nullopt;
  }
  return std::move(loaded.key);
}

std::optional<crypto::PublicKey> read_public_key(const std::string& path, std::string& error) {
  if (path == "-") return read_stdin_public_key(error);
  auto loaded = config::load_public_key(path);
  if (!loaded.key) error = loaded.error;
  return loaded.key;
}

}  // namespace gw::gwctl
