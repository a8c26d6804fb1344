// SPDX-License-Identifier: MIT
#include "gw/config/key_file.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>

#include <array>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include <sodium.h>

#include "gw/unique_fd.hpp"

namespace gw::config {

namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
constexpr std::string_view kDashes = "-----";
constexpr std::size_t kMaxLabel = 64;  // longer BEGIN lines are not named in messages

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

// Splits `text` at "\n", dropping a "\r" before it, into `lines`; returns
// how many there are, lines.size() + 1 when there are more than fit.
std::size_t split_lines(std::string_view text, std::span<std::string_view> lines) {
  std::size_t n = 0;
  while (!text.empty()) {
    if (n == lines.size()) return n + 1;
    const std::size_t at = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines[n++] = line;
    text.remove_prefix(std::min(at + 1, text.size()));
  }
  return n;
}

std::string_view first_line(std::string_view text) {
  std::array<std::string_view, 1> line{};
  return split_lines(text, line) == 0 ? std::string_view{} : line[0];
}

// The label of an armour's BEGIN line; empty when `line` is none or its
// label is not printable ASCII of at most kMaxLabel characters (so that a
// message can name it).
std::string_view begin_label(std::string_view line) {
  if (line.size() <= kBegin.size() + kDashes.size() || !line.starts_with(kBegin) ||
      !line.ends_with(kDashes)) {
    return {};
  }
  const std::string_view label =
      line.substr(kBegin.size(), line.size() - kBegin.size() - kDashes.size());
  if (label.size() > kMaxLabel) return {};
  for (const char c : label) {
    if (c < 0x20 || c > 0x7e) return {};
  }
  return label;
}

const char* label_of(KeyKind kind) {
  switch (kind) {
    case KeyKind::ca_private:
      return "GW CA PRIVATE KEY";
    case KeyKind::ca_public:
      return "GW CA PUBLIC KEY";
    case KeyKind::certificate:
      return "GW CERTIFICATE";
    default:
      return nullptr;
  }
}

// How a file of `use` is named in its own errors: "PATH: CA private key file: ...".
const char* file_what(KeyUse use) {
  switch (use) {
    case KeyUse::private_key:
      return "private key";
    case KeyUse::psk:
      return "pre-shared key";
    case KeyUse::public_key:
      return "public key";
    case KeyUse::ca_private_key:
      return "CA private key";
    case KeyUse::ca_public_key:
      return "CA public key";
  }
  return "key";
}

// What `use` wants, for "this is ..., not <it>".
const char* use_text(KeyUse use) {
  switch (use) {
    case KeyUse::private_key:
      return "a gw/WireGuard private key (X25519)";
    case KeyUse::psk:
      return "a pre-shared key";
    case KeyUse::public_key:
      return "a gw/WireGuard public key (X25519)";
    case KeyUse::ca_private_key:
      return "a CA private key";
    case KeyUse::ca_public_key:
      return "a CA public key";
  }
  return "a key";
}

KeyKind wanted_kind(KeyUse use) {
  switch (use) {
    case KeyUse::ca_private_key:
      return KeyKind::ca_private;
    case KeyUse::ca_public_key:
      return KeyKind::ca_public;
    default:
      return KeyKind::key_line;
  }
}

bool is_secret(KeyUse use) {
  return use != KeyUse::public_key && use != KeyUse::ca_public_key;
}

// The PREFIX that `gwctl ca upgrade` takes for a CA key file named `name`.
std::string upgrade_prefix(const std::string& name) {
  const std::string_view n(name);
  if (n.size() > 4 && (n.ends_with(".key") || n.ends_with(".pub"))) {
    return name.substr(0, name.size() - 4);
  }
  return "PREFIX (with the files named PREFIX.key and PREFIX.pub)";
}

std::string describe(KeyKind kind, std::string_view trimmed) {
  switch (kind) {
    case KeyKind::key_line:
      return "a gw/WireGuard key line (an X25519 key or a PSK)";
    case KeyKind::ca_private:
      return "a CA private key file";
    case KeyKind::ca_public:
      return "a CA public key file";
    case KeyKind::certificate:
      return "a gw certificate";
    case KeyKind::armour:
      return "a " + std::string(first_line(trimmed)) + " file";
    case KeyKind::other:
      break;
  }
  return {};
}

}  // namespace

KeyKind key_kind(std::string_view text) {
  const std::string_view t = trim(text);
  const std::string_view label = begin_label(first_line(t));
  if (!label.empty()) {
    for (const KeyKind k : {KeyKind::ca_private, KeyKind::ca_public, KeyKind::certificate}) {
      if (label == label_of(k)) return k;
    }
    return KeyKind::armour;
  }
  crypto::Secret<kKeyLen> scratch;
  return decode_key(t, scratch.data()) ? KeyKind::key_line : KeyKind::other;
}

std::string describe_kind(std::string_view text) {
  return describe(key_kind(text), trim(text));
}

std::optional<std::string> wrong_kind(std::string_view text, KeyUse use, const std::string& name) {
  const KeyKind found = key_kind(text);
  if (found == KeyKind::other || found == wanted_kind(use)) return std::nullopt;
  std::string message =
      name + ": this is " + describe(found, trim(text)) + ", not " + use_text(use);
  if (found == KeyKind::key_line) {
    message += "; if it is a CA key an older gwctl ca init wrote, convert it: gwctl ca upgrade " +
               upgrade_prefix(name);
  }
  return message;
}

bool parse_ca_key_text(std::string_view text, KeyKind kind, MutBytes out, std::string& error) {
  if (out.size() != kKeyLen || (kind != KeyKind::ca_private && kind != KeyKind::ca_public)) {
    throw std::invalid_argument("parse_ca_key_text: a CA kind and 32 bytes");
  }
  const std::string label = label_of(kind);
  const std::string begin = std::string(kBegin) + label + std::string(kDashes);
  const std::string end = std::string(kEnd) + label + std::string(kDashes);
  std::array<std::string_view, 3> lines{};
  const std::size_t n = split_lines(trim(text), lines);
  std::size_t bad = 0;  // the 1-based line at fault
  if (n < 1 || lines[0] != begin) {
    bad = 1;
  } else if (n < 2 || !decode_key(lines[1], out.data())) {
    bad = 2;
  } else if (n < 3 || lines[2] != end) {
    bad = 3;
  } else if (n > 3) {
    bad = 4;
  }
  if (bad == 0) return true;
  sodium_memzero(out.data(), out.size());
  const std::string expected[] = {begin, "the base64 of 32 bytes (44 characters)", end,
                                  "nothing after " + end};
  error = "line " + std::to_string(bad) + ": expected " + expected[bad - 1];
  return false;
}

std::string ca_key_text(KeyKind kind, Bytes key) {
  if (key.size() != kKeyLen || (kind != KeyKind::ca_private && kind != KeyKind::ca_public)) {
    throw std::invalid_argument("ca_key_text: a CA kind and 32 bytes");
  }
  const std::string label = label_of(kind);
  const std::string begin = std::string(kBegin) + label + std::string(kDashes) + "\n";
  const std::string end = "\n" + std::string(kEnd) + label + std::string(kDashes) + "\n";
  // Sized once: the base64 of a private key is written in place, never copied.
  std::string out(begin.size() + kKeyBase64Len + end.size(), '\0');
  std::copy(begin.begin(), begin.end(), out.begin());
  sodium_bin2base64(out.data() + begin.size(), kKeyBase64Len + 1, key.data(), key.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  std::copy(end.begin(), end.end(),
            out.begin() + static_cast<std::ptrdiff_t>(begin.size()) +
                static_cast<std::ptrdiff_t>(kKeyBase64Len));
  return out;
}

namespace {

// A key file's bytes, mode and owner; the bytes are wiped when it goes.
struct FileText {
  std::array<char, kMaxKeyFileSize + 1> buf{};
  std::size_t used = 0;
  mode_t mode = 0;
  uid_t owner = 0;

  FileText() = default;
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;
  ~FileText() { sodium_memzero(buf.data(), buf.size()); }
  std::string_view text() const { return {buf.data(), used}; }
};

// How reading a key file went: read, or too large (its first bytes read,
// enough to tell an armour's kind), or not read at all.
enum class ReadOutcome : std::uint8_t { ok, too_large, failed };

// Reads `path` into `file`; `error` (after `prefix`) unless it went well.
ReadOutcome read_key_file(const std::string& path, const std::string& prefix, FileText& file,
                          std::string& error) {
  // O_NONBLOCK: a FIFO must not hang the daemon; fstat() refuses it below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    error = prefix + "cannot open: " + std::generic_category().message(errno);
    return ReadOutcome::failed;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    error = prefix + "cannot stat: " + std::generic_category().message(errno);
    return ReadOutcome::failed;
  }
  if (!S_ISREG(st.st_mode)) {
    error = prefix + "refused: expected a regular file";
    return ReadOutcome::failed;
  }
  file.mode = st.st_mode;
  file.owner = st.st_uid;
  while (file.used < file.buf.size()) {
    const ssize_t n = ::read(fd.get(), file.buf.data() + file.used, file.buf.size() - file.used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = prefix + "cannot read: " + std::generic_category().message(errno);
      return ReadOutcome::failed;
    }
    if (n == 0) break;
    file.used += static_cast<std::size_t>(n);
  }
  if (file.used > kMaxKeyFileSize || st.st_size > static_cast<off_t>(kMaxKeyFileSize)) {
    const bool grown = st.st_size <= static_cast<off_t>(kMaxKeyFileSize);
    error = prefix + "refused: expected a key of 32 bytes (a file of at most " +
            std::to_string(kMaxKeyFileSize) + " bytes), got " +
            (grown ? "a longer file" : std::to_string(st.st_size) + " bytes");
    return ReadOutcome::too_large;
  }
  return ReadOutcome::ok;
}

// The key of `use` in `text` (the key line itself when `plain`), into `key`;
// false with `error` (after `prefix`) when the text is not one.
bool decode_key_text(std::string_view text, KeyUse use, bool plain, crypto::Secret<kKeyLen>& key,
                     const std::string& prefix, std::string& error) {
  const KeyKind kind = wanted_kind(use);
  if (plain || kind == KeyKind::key_line) {
    if (decode_key(trim(text), key.data())) return true;
    error = prefix + "expected base64 of exactly 32 bytes (44 characters, like `wg genkey`)";
    return false;
  }
  std::string why;
  if (parse_ca_key_text(text, kind, key.bytes(), why)) return true;
  error = prefix + why;
  return false;
}

std::optional<std::string> user_name(uid_t uid) {
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return found->pw_name;
}

// "uid 65534 (nobody)", or the uid alone when it has no name.
std::string user_text(uid_t uid) {
  const auto name = user_name(uid);
  return "uid " + std::to_string(uid) + (name ? " (" + *name + ")" : "");
}

// Why a secret key file's owner is not to be trusted, after `prefix`; empty
// when it is root, this process's user or `also`.
std::string owner_error(const FileText& file, std::optional<std::uint32_t> also,
                        const std::string& path, const std::string& prefix) {
  const uid_t self = ::geteuid();
  if (file.owner == 0 || file.owner == self || (also && file.owner == *also)) return {};
  std::string allowed = self == 0 ? "root" : "root or " + user_text(self);
  if (also && *also != self && *also != 0) allowed += " or " + user_text(*also);
  const std::string fix = self == 0 ? "root" : user_name(self).value_or(std::to_string(self));
  return prefix + "refused: owned by " + user_text(file.owner) +
         ", who could change the key; expected a file of " + allowed + " (chown " + fix + " " +
         path + ")";
}

// Every loader: the file read, its kind checked, then its mode and owner,
// then the key. With `any_form`, a CA key may also be a plain key line.
KeyFileResult load_key_file(const std::string& path, KeyUse use, bool any_form = false,
                            std::optional<std::uint32_t> also_owner = std::nullopt) {
  KeyFileResult r;
  const std::string prefix = path + ": " + file_what(use) + " file: ";
  FileText file;
  const ReadOutcome read = read_key_file(path, prefix, file, r.error);
  if (read == ReadOutcome::failed) return r;
  const std::string_view text = file.text();
  r.kind = key_kind(text);
  if (read == ReadOutcome::too_large) {
    // A certificate, say: its first line tells.
    if (std::optional<std::string> wrong = wrong_kind(text, use, path)) r.error = std::move(*wrong);
    return r;
  }
  const bool plain = any_form && r.kind == KeyKind::key_line;
  if (!plain) {
    if (std::optional<std::string> wrong = wrong_kind(text, use, path)) {
      r.error = std::move(*wrong);
      return r;
    }
  }
  if (is_secret(use) && (file.mode & 077) != 0) {
    r.error = prefix + "refused: mode " + mode_string(file.mode) +
              " lets group or others at the key; expected 0600 or stricter (chmod 600 " + path +
              ")";
    return r;
  }
  if (is_secret(use)) {
    r.error = owner_error(file, also_owner, path, prefix);
    if (!r.error.empty()) return r;
  }
  crypto::Secret<kKeyLen> key;
  if (!decode_key_text(text, use, plain, key, prefix, r.error)) return r;
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

KeyFileResult load_private_key(const std::string& path, std::optional<std::uint32_t> also_owner) {
  return load_key_file(path, KeyUse::private_key, false, also_owner);
}

KeyFileResult load_psk(const std::string& path, std::optional<std::uint32_t> also_owner) {
  return load_key_file(path, KeyUse::psk, false, also_owner);
}

PublicKeyFileResult load_public_key(const std::string& path) {
  KeyFileResult k = load_key_file(path, KeyUse::public_key);
  PublicKeyFileResult r;
  r.kind = k.kind;
  if (!k) {
    r.error = std::move(k.error);
    return r;
  }
  crypto::PublicKey key{};
  std::copy(k.key->data(), k.key->data() + kKeyLen, key.begin());
  r.key = key;
  return r;
}

KeyFileResult load_ca_private_key(const std::string& path) {
  return load_key_file(path, KeyUse::ca_private_key);
}

CaPublicKeyFileResult load_ca_public_key(const std::string& path) {
  KeyFileResult k = load_key_file(path, KeyUse::ca_public_key);
  CaPublicKeyFileResult r;
  r.kind = k.kind;
  if (!k) {
    r.error = std::move(k.error);
    return r;
  }
  identity::CaPublicKey key{};
  static_assert(sizeof(key) == kKeyLen);
  std::copy(k.key->data(), k.key->data() + kKeyLen, key.begin());
  r.key = key;
  return r;
}

KeyFileResult load_ca_key_any_form(const std::string& path, KeyUse use) {
  if (use != KeyUse::ca_private_key && use != KeyUse::ca_public_key) {
    throw std::invalid_argument("load_ca_key_any_form: a CA key use");
  }
  return load_key_file(path, use, true);
}

}  // namespace gw::config
