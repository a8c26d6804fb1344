// SPDX-License-Identifier: MIT
#include "cert_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "gw/config/config.hpp"
#include "gw/unique_fd.hpp"

namespace gw::gwctl {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

std::string file_label(const std::string& path) {
  return path == "-" ? "stdin" : path;
}

ReadResult read_text_file(const std::string& path, std::size_t max) {
  ReadResult r;
  const std::string label = file_label(path);
  int fd = STDIN_FILENO;
  std::optional<UniqueFd> owner;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      r.err = errno;
      r.error = label + ": cannot open: " + errno_text(r.err);
      return r;
    }
    owner.emplace(fd);
  }
  std::string text;
  std::array<char, 16384> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = label + ": cannot read: " + errno_text(errno);
      return r;
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > max) {
      r.error = label + ": refused: larger than " + std::to_string(max) + " bytes";
      return r;
    }
  }
  r.text = std::move(text);
  return r;
}

namespace {

// Writes all of `text` to `fd`; errno on failure, 0 on success.
int write_all(int fd, std::string_view text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

bool create_exclusive(const std::string& path, std::string_view text, mode_t mode,
                      std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    const int err = errno;
    error = path + (err == EEXIST ? ": exists; refusing to overwrite it (--force replaces it)"
                                  : ": cannot create: " + errno_text(err));
    return false;
  }
  int err = ::fchmod(fd, mode) == 0 ? 0 : errno;
  const char* what = "cannot chmod";
  if (err == 0) {
    err = write_all(fd, text);
    what = "cannot write";
  }
  if (err == 0 && ::fsync(fd) != 0) {
    err = errno;
    what = "cannot fsync";
  }
  if (::close(fd) != 0 && err == 0) {
    err = errno;
    what = "cannot close";
  }
  if (err != 0) {
    ::unlink(path.c_str());
    error = path + ": " + what + ": " + errno_text(err);
    return false;
  }
  return true;
}

bool replace_file(const std::string& path, std::string_view text, mode_t mode, std::string& error) {
  const config::SaveResult saved = config::write_file_atomically(path, text);
  if (!saved) {
    error = saved.error;
    return false;
  }
  if (mode != kSecretMode && ::chmod(path.c_str(), mode) != 0) {
    error = path + ": written, but cannot chmod: " + errno_text(errno);
    return false;
  }
  return true;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

std::optional<crypto::PublicKey> read_public_key_file(const std::string& path, std::string& error) {
  if (path != "-") {
    config::PublicKeyFileResult loaded = config::load_public_key(path);
    if (!loaded) error = loaded.error;
    return loaded.key;
  }
  ReadResult r = read_text_file(path, config::kMaxKeyFileSize);
  if (!r.text) {
    error = r.error;
    return std::nullopt;
  }
  if (auto wrong = config::wrong_kind(*r.text, config::KeyUse::public_key, "stdin")) {
    error = std::move(*wrong);
    return std::nullopt;
  }
  std::string_view line(*r.text);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) {
    line.remove_suffix(1);
  }
  auto key = config::parse_public_key(line);
  if (!key) error = "stdin: expected a base64 public key of 32 bytes";
  return key;
}

std::optional<identity::CaKey> load_ca_key(const std::string& path, std::string& error) {
  config::KeyFileResult loaded = config::load_ca_private_key(path);
  if (!loaded) {
    error = std::move(loaded.error);
    if (loaded.kind == config::KeyKind::ca_public) error += " (--ca-key wants PREFIX.key)";
    return std::nullopt;
  }
  return identity::CaKey::from_seed(*loaded.key);
}

std::string key_file_instead(const std::string& label, std::string_view text, const char* what,
                             config::KeyKind own) {
  if (config::key_kind(text) == own) return {};
  const std::string kind = config::describe_kind(text);
  return kind.empty() ? std::string() : label + ": this is " + kind + ", not " + what;
}

std::optional<identity::Certificate> read_certificate(const std::string& path, std::string& error) {
  ReadResult r = read_text_file(path, kMaxCertificateFile);
  if (!r.text) {
    error = r.error;
    return std::nullopt;
  }
  std::string why;
  auto cert = identity::dearmor(*r.text, &why);
  if (!cert) {
    error = key_file_instead(file_label(path), *r.text, "a gw certificate",
                             config::KeyKind::certificate);
    if (error.empty()) error = file_label(path) + ": not a gw certificate: " + why;
  }
  return cert;
}

mode_t mode_of(const std::string& path, mode_t otherwise) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : otherwise;
}

}  // namespace gw::gwctl
