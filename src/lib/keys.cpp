// SPDX-License-Identifier: MIT
// libgw: keys as text and files, identities, PSKs and trust.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include <sodium.h>

#include "gw/config/key_file.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/unique_fd.hpp"
#include "internal.hpp"

namespace gw {

namespace lib {

Status fail(Errc code, std::string message) {
  return Status{code, std::move(message)};
}

Status from_noise(noise::Error e, const std::string& what) {
  Errc code = Errc::invalid_argument;
  switch (e) {
    case noise::Error::ok:
      return {};
    case noise::Error::wrong_state:
      code = Errc::wrong_state;
      break;
    case noise::Error::missing_key:
    case noise::Error::unexpected_key:
    case noise::Error::psk_count:
      code = Errc::invalid_argument;
      break;
    case noise::Error::message_too_large:
    case noise::Error::message_too_short:
    case noise::Error::buffer_too_small:
      code = Errc::malformed;
      break;
    case noise::Error::decrypt_failed:
    case noise::Error::dh_failed:
      code = Errc::authentication_failed;
      break;
    case noise::Error::nonce_exhausted:
      code = Errc::exhausted;
      break;
  }
  return fail(code, what + ": " + noise::to_string(e));
}

namespace {

std::string os_error() {
  return std::generic_category().message(errno);
}

}  // namespace

Status read_small_file(const std::string& path, std::size_t max_size, const char* what,
                       std::string& out) {
  const std::string prefix = path + ": " + what + ": ";
  // O_NONBLOCK: a FIFO must not hang the caller; fstat() refuses it below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return fail(Errc::file, prefix + "cannot open: " + os_error());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Errc::file, prefix + "cannot stat: " + os_error());
  if (!S_ISREG(st.st_mode)) return fail(Errc::file, prefix + "not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return fail(Errc::file, prefix + "larger than " + std::to_string(max_size) + " bytes");
  }
  std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::file, prefix + "cannot read: " + os_error());
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_size) return fail(Errc::file, prefix + "grew while being read");
  text.resize(got);
  out = std::move(text);
  return {};
}

}  // namespace lib

using lib::fail;
using lib::os_error;

const char* library_version() noexcept {
  return GW_VERSION;
}

const char* to_string(Errc code) noexcept {
  switch (code) {
    case Errc::ok:
      return "ok";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::unsupported:
      return "unsupported";
    case Errc::file:
      return "file";
    case Errc::wrong_state:
      return "wrong_state";
    case Errc::malformed:
      return "malformed";
    case Errc::authentication_failed:
      return "authentication_failed";
    case Errc::peer_refused:
      return "peer_refused";
    case Errc::negotiation_failed:
      return "negotiation_failed";
    case Errc::replayed:
      return "replayed";
    case Errc::exhausted:
      return "exhausted";
  }
  return "unknown";
}

std::string to_base64(ByteView bytes) {
  return config::to_base64(bytes);
}

std::string to_hex(ByteView bytes) {
  if (bytes.empty()) return {};
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

Status parse_key(std::string_view base64, Key& out) {
  const std::optional<crypto::PublicKey> key = config::parse_public_key(base64);
  if (!key) {
    return fail(Errc::invalid_argument,
                "key: expected the base64 of 32 bytes (44 characters), got " +
                    std::to_string(base64.size()) + " characters that are not");
  }
  out = *key;
  return {};
}

Status parse_hex(std::string_view hex, std::vector<std::uint8_t>& out) {
  if (hex.size() % 2 != 0) {
    return fail(Errc::invalid_argument,
                "hex: odd number of digits (" + std::to_string(hex.size()) + ")");
  }
  if (hex.empty()) {  // libsodium's arguments must not be null, even for no bytes
    out.clear();
    return {};
  }
  std::vector<std::uint8_t> bytes(hex.size() / 2);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, &len, &end) !=
          0 ||
      len != bytes.size()) {
    const auto at = static_cast<std::size_t>(end != nullptr ? end - hex.data() : 0);
    return fail(Errc::invalid_argument,
                "hex: not a hex digit at position " + std::to_string(at + 1));
  }
  out = std::move(bytes);
  return {};
}

Status load_public_key(const std::string& path, Key& out) {
  config::PublicKeyFileResult r = config::load_public_key(path);
  if (!r) return fail(Errc::file, r.error);
  out = *r.key;
  return {};
}

// --- Identity ---

crypto::KeyPair Identity::Impl::key_pair() const {
  crypto::KeyPair pair;
  std::copy(private_key.bytes().begin(), private_key.bytes().end(), pair.private_key.data());
  pair.public_key = public_key;
  return pair;
}

Identity::Identity() noexcept = default;
Identity::Identity(const Identity&) noexcept = default;
Identity& Identity::operator=(const Identity&) noexcept = default;
Identity::Identity(Identity&&) noexcept = default;
Identity& Identity::operator=(Identity&&) noexcept = default;
Identity::~Identity() = default;

namespace {

std::shared_ptr<Identity::Impl> identity_of(const crypto::PrivateKey& key) {
  auto impl = std::make_shared<Identity::Impl>();
  impl->private_key = crypto::LockedBuffer(key.bytes());
  impl->public_key = crypto::public_key_of(key);
  return impl;
}

}  // namespace

Identity Identity::generate() {
  crypto::ensure_sodium();
  crypto::PrivateKey key;
  crypto::system_rng().fill(key.bytes());
  Identity id;
  id.impl_ = identity_of(key);
  return id;
}

Status Identity::load(const std::string& private_key_file, Identity& out) {
  crypto::ensure_sodium();
  config::KeyFileResult r = config::load_private_key(private_key_file);
  if (!r) return fail(Errc::file, r.error);
  out.impl_ = identity_of(*r.key);
  return {};
}

Status Identity::save(const std::string& private_key_file) const {
  if (!impl_) return fail(Errc::wrong_state, "identity: empty, nothing to save");
  const std::string prefix = private_key_file + ": private key file: ";
  UniqueFd fd(
      ::open(private_key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return fail(Errc::file, prefix + (errno == EEXIST ? "exists already; not replaced"
                                                      : "cannot create: " + os_error()));
  }
  // The base64 line, built in locked memory: 44 characters, newline, NUL.
  crypto::LockedBuffer line(config::kKeyBase64Len + 2);
  auto* text = reinterpret_cast<char*>(line.data());
  sodium_bin2base64(text, config::kKeyBase64Len + 1, impl_->private_key.data(), config::kKeyLen,
                    sodium_base64_VARIANT_ORIGINAL);
  text[config::kKeyBase64Len] = '\n';
  const std::size_t len = config::kKeyBase64Len + 1;
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n = ::write(fd.get(), text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = os_error();
      ::unlink(private_key_file.c_str());
      return fail(Errc::file, prefix + "cannot write: " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    const std::string why = os_error();
    ::unlink(private_key_file.c_str());
    return fail(Errc::file, prefix + "cannot sync: " + why);
  }
  return {};
}

Status Identity::load_certificate(const std::string& certificate_file) {
  if (!impl_) return fail(Errc::wrong_state, "identity: empty: load or generate a key first");
  std::string text;
  if (Status s = lib::read_small_file(certificate_file, 4 * identity::kMaxCertificateSize,
                                      "certificate file", text);
      !s) {
    return s;
  }
  std::string error;
  std::optional<identity::Certificate> cert = identity::dearmor(text, &error);
  if (!cert) {
    return fail(Errc::invalid_argument, certificate_file + ": certificate file: " + error);
  }
  if (cert->public_key != impl_->public_key) {
    return fail(Errc::invalid_argument, certificate_file + ": certificate binds the key " +
                                            to_base64(cert->public_key) + ", not this identity's " +
                                            to_base64(impl_->public_key));
  }
  // A new Impl: copies of this Identity keep what they had.
  auto impl = std::make_shared<Impl>();
  impl->private_key = crypto::LockedBuffer(impl_->private_key.bytes());
  impl->public_key = impl_->public_key;
  impl->certificate_bytes = identity::encode(*cert);
  impl->certificate = std::move(cert);
  impl_ = std::move(impl);
  return {};
}

bool Identity::empty() const noexcept {
  return !impl_;
}

Key Identity::public_key() const noexcept {
  return impl_ ? impl_->public_key : Key{};
}

bool Identity::has_certificate() const noexcept {
  return impl_ && impl_->certificate.has_value();
}

// --- Psk ---

Psk::Psk() noexcept = default;
Psk::Psk(const Psk&) noexcept = default;
Psk& Psk::operator=(const Psk&) noexcept = default;
Psk::Psk(Psk&&) noexcept = default;
Psk& Psk::operator=(Psk&&) noexcept = default;
Psk::~Psk() = default;

Psk Psk::generate() {
  crypto::ensure_sodium();
  auto impl = std::make_shared<Impl>();
  impl->key = crypto::LockedBuffer(noise_spec::kPskLen);
  crypto::system_rng().fill(impl->key.bytes());
  Psk psk;
  psk.impl_ = std::move(impl);
  return psk;
}

Status Psk::load(const std::string& psk_file, Psk& out) {
  crypto::ensure_sodium();
  config::KeyFileResult r = config::load_psk(psk_file);
  if (!r) return fail(Errc::file, r.error);
  auto impl = std::make_shared<Impl>();
  impl->key = crypto::LockedBuffer(r.key->bytes());
  out.impl_ = std::move(impl);
  return {};
}

bool Psk::empty() const noexcept {
  return !impl_;
}

// --- Trust ---

Trust::Trust() : impl_(std::make_unique<Impl>()) {}
Trust::Trust(const Trust& other)
    : impl_(other.impl_ ? std::make_unique<Impl>(*other.impl_) : std::make_unique<Impl>()) {}
Trust& Trust::operator=(const Trust& other) {
  if (this != &other) impl_ = other.impl_ ? std::make_unique<Impl>(*other.impl_) : nullptr;
  return *this;
}
// A moved-from Trust (no Impl) admits nobody, like a new one.
Trust::Trust(Trust&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
Trust& Trust::operator=(Trust&& other) noexcept {
  if (this != &other) impl_ = std::exchange(other.impl_, nullptr);
  return *this;
}
Trust::~Trust() = default;

Trust Trust::any() {
  Trust t;
  t.impl_->any = true;
  return t;
}

void Trust::add_key(const Key& key) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  if (std::find(impl_->keys.begin(), impl_->keys.end(), key) == impl_->keys.end()) {
    impl_->keys.push_back(key);
  }
}

Status Trust::add_ca_file(const std::string& path) {
  // The CA public key armour; a peer's key (or a CA key from before the armour) is refused.
  const config::CaPublicKeyFileResult r = config::load_ca_public_key(path);
  if (!r) return fail(Errc::file, r.error);
  if (!impl_) impl_ = std::make_unique<Impl>();
  const identity::CaPublicKey& ca = *r.key;
  if (std::find(impl_->cas.begin(), impl_->cas.end(), ca) == impl_->cas.end()) {
    impl_->cas.push_back(ca);
  }
  return {};
}

Status Trust::load_revocations(const std::string& path) {
  std::string text;
  if (Status s = lib::read_small_file(path, 16 * 1024 * 1024, "revocation list", text); !s)
    return s;
  std::string error;
  std::optional<identity::RevocationList> list = identity::RevocationList::parse(text, &error);
  if (!list) return fail(Errc::invalid_argument, path + ": revocation list: " + error);
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->revoked = std::move(*list);
  return {};
}

bool Trust::admits_any() const noexcept {
  return impl_ && impl_->any;
}

bool Trust::empty() const noexcept {
  return !impl_ || impl_->empty();
}

}  // namespace gw
