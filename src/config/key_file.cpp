// SPDX-License-Identifier: MIT
#include "gw/config/key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>

#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include <sodium.h>

#include "gw/unique_fd.hpp"

namespace gw::config {

namespace {

constexpr std::size_t kMaxKeyFileSize = 128;  // a key line plus generous whitespace

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Decodes exactly kKeyLen bytes into `out`; on failure `out` is wiped.
bool decode_key(std::string_view text, std::uint8_t* out) noexcept {
  if (text.size() != kKeyBase64Len) return false;
  std::size_t len = 0;
  const int rc = sodium_base642bin(out, kKeyLen, text.data(), text.size(), nullptr, &len, nullptr,
                                   sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || len != kKeyLen) {
    sodium_memzero(out, kKeyLen);
    return false;
  }
  return true;
}

std::string mode_string(mode_t mode) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return buf.data();
}

KeyFileResult load_key_file(const std::string& path, const char* what, bool secret = true) {
  KeyFileResult r;
  const std::string prefix = path + ": " + what + " file: ";
  // O_NONBLOCK: a FIFO must not hang the daemon; fstat() refuses it below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    r.error = prefix + "cannot open: " + std::generic_category().message(errno);
    return r;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    r.error = prefix + "cannot stat: " + std::generic_category().message(errno);
    return r;
  }
  if (!S_ISREG(st.st_mode)) {
    r.error = prefix + "refused: expected a regular file";
    return r;
  }
  if (secret && (st.st_mode & 077) != 0) {
    r.error = prefix + "refused: mode " + mode_string(st.st_mode) +
              " lets group or others at the key; expected 0600 or stricter (chmod 600 " + path +
              ")";
    return r;
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileSize)) {
    r.error = prefix + "refused: expected one base64 key of 32 bytes, got " +
              std::to_string(st.st_size) + " bytes";
    return r;
  }
  std::array<char, kMaxKeyFileSize + 1> buf{};
  std::size_t used = 0;
  while (used < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + used, buf.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      sodium_memzero(buf.data(), buf.size());
      r.error = prefix + "cannot read: " + std::generic_category().message(err);
      return r;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > kMaxKeyFileSize) {
    sodium_memzero(buf.data(), buf.size());
    r.error = prefix + "refused: expected one base64 key of 32 bytes, got a longer file";
    return r;
  }
  crypto::Secret<kKeyLen> key;
  const bool ok = decode_key(trim(std::string_view(buf.data(), used)), key.data());
  sodium_memzero(buf.data(), buf.size());
  if (!ok) {
    r.error = prefix + "expected base64 of exactly 32 bytes (44 characters, like `wg genkey`)";
    return r;
  }
  r.key = std::move(key);
  return r;
}

}  // namespace

std::string to_base64(Bytes bytes) {
  const std::size_t len = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');  // len counts the terminating NUL
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);
  return out;
}

std::optional<crypto::PublicKey> parse_public_key(std::string_view text) {
  crypto::PublicKey key{};
  if (!decode_key(text, key.data())) return std::nullopt;
  return key;
}

std::optional<crypto::Secret<kKeyLen>> parse_secret_key(std::string_view text) {
  std::optional<crypto::Secret<kKeyLen>> key(std::in_place);
  if (!decode_key(text, key->data())) return std::nullopt;
  return key;
}

KeyFileResult load_private_key(const std::string& path) {
  return load_key_file(path, "private key");
}

KeyFileResult load_psk(const std::string& path) {
  return load_key_file(path, "pre-shared key");
}

PublicKeyFileResult load_public_key(const std::string& path) {
  KeyFileResult k = load_key_file(path, "public key", false);
  PublicKeyFileResult r;
  if (!k) {
    r.error = std::move(k.error);
    return r;
  }
  crypto::PublicKey key{};
  std::copy(k.key->data(), k.key->data() + kKeyLen, key.begin());
  r.key = key;
  return r;
}

}  // namespace gw::config
