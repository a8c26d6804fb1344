// SPDX-License-Identifier: MIT
#include "cert_commands.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <limits>
#include <system_error>
#include <utility>

#include <sodium.h>

#include "exit.hpp"
#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"
#include "gw/unique_fd.hpp"

namespace gw::gwctl {

namespace {

// A certificate's armour is a few KiB (kMaxCertificateSize bytes of base64);
// a revocation list is 65 bytes a fingerprint.
constexpr std::size_t kMaxCertificateFile = 64 * 1024;
constexpr std::size_t kMaxRevocationFile = 64 * 1024 * 1024;

constexpr mode_t kPublicMode = 0644;
constexpr mode_t kSecretMode = 0600;

bool print(const std::string& text) {
  std::cout << text;
  return static_cast<bool>(std::cout.flush());
}

void wipe(std::string& s) {
  sodium_memzero(s.data(), s.size());
}

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

// How a file is named in messages: "-" is stdin.
std::string file_label(const std::string& path) {
  return path == "-" ? "stdin" : path;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '@' || c == '+' || c == '-';
}

// Comma-separated items with the spaces taken out; empty items skipped.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::string item;
  for (const char c : text) {
    if (c == ',') {
      if (!item.empty()) out.push_back(std::move(item));
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(std::move(item));
  return out;
}

std::string padded(std::int64_t value, std::size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// --- Files.

struct ReadResult {
  std::optional<std::string> text;
  std::string error;  // names the file; empty on success
  int err = 0;        // errno of a failed open
};

// The whole of `path` ("-": stdin), at most `max` bytes. Pipes and process
// substitutions are read too; a certificate is no secret.
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

// Creates `path`, which must not exist (O_EXCL: not even as a symlink), with
// exactly `mode` whatever the umask, and `text` in it. Nothing is left
// behind on failure.
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

// Replaces `path` atomically (config::write_file_atomically, which writes
// mode 0600) and then gives it `mode`.
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

// Whether two names are one file: the same name, or the same inode.
bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// A public key from --public-key-file: a file, or one line on stdin ("-").
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

// The CA's private key (its Ed25519 seed): its armour, mode 0600 or stricter.
std::optional<identity::CaKey> load_ca_key(const std::string& path, std::string& error) {
  config::KeyFileResult loaded = config::load_ca_private_key(path);
  if (!loaded) {
    error = std::move(loaded.error);
    if (loaded.kind == config::KeyKind::ca_public) error += " (--ca-key wants PREFIX.key)";
    return std::nullopt;
  }
  return identity::CaKey::from_seed(*loaded.key);
}

// "FILE: this is a CA public key file, not WHAT" when `text` is a file of a
// kind gw knows other than `own` (a certificate's own errors say more about a
// broken certificate); empty otherwise.
std::string key_file_instead(const std::string& label, std::string_view text, const char* what,
                             config::KeyKind own = config::KeyKind::other) {
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

std::vector<std::string> prefix_strings(const std::vector<routing::Prefix>& prefixes) {
  std::vector<std::string> out;
  out.reserve(prefixes.size());
  for (const routing::Prefix& p : prefixes)
    out.push_back(p.to_string());
  return out;
}

std::string list_text(const std::vector<std::string>& items) {
  if (items.empty()) return "(none)";
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

// --- Pure: parsing.

std::optional<std::int64_t> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  const auto value = parse_unix_time(text.substr(0, text.size() - 1));
  if (!value || *value <= 0 || *value > std::numeric_limits<std::int64_t>::max() / unit) {
    return std::nullopt;
  }
  return *value * unit;
}

std::optional<std::int64_t> parse_unix_time(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty()) return std::nullopt;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool valid_cert_name(std::string_view text) {
  if (text.empty() || text.size() > identity::kMaxName) return false;
  for (const char c : text) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

std::optional<std::vector<routing::Prefix>> parse_prefix_list(std::string_view text, bool network,
                                                              std::string& error) {
  std::vector<routing::Prefix> out;
  for (const std::string& item : split_list(text)) {
    const auto prefix = config::valid_prefix(item) ? routing::Prefix::parse(item)
                                                   : std::optional<routing::Prefix>{};
    if (!prefix) {
      error = "expected ADDRESS/LENGTH, got \"" + item + "\"";
      return std::nullopt;
    }
    if (network && prefix->masked() != *prefix) {
      error = "\"" + item + "\" has host bits set (the network is " + prefix->masked().to_string() +
              ")";
      return std::nullopt;
    }
    for (const routing::Prefix& seen : out) {
      if (seen == *prefix) {
        error = "\"" + item + "\" is given twice";
        return std::nullopt;
      }
    }
    out.push_back(*prefix);
  }
  return out;
}

std::optional<std::vector<std::string>> parse_group_list(std::string_view text,
                                                         std::string& error) {
  std::vector<std::string> out;
  for (std::string& item : split_list(text)) {
    if (item.size() > identity::kMaxGroupName || !valid_cert_name(item)) {
      error = "\"" + item + "\" is not a group name (1 to " +
              std::to_string(identity::kMaxGroupName) + " letters, digits or _ . @ + -)";
      return std::nullopt;
    }
    for (const std::string& seen : out) {
      if (seen == item) {
        error = "\"" + item + "\" is given twice";
        return std::nullopt;
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

// --- Pure: printing.

std::string iso8601_utc(std::int64_t unix_seconds) {
  // Howard Hinnant's civil_from_days, in 64 bits: no time_t, no locale.
  // Days and seconds into the day, rounded down without overflow at the ends.
  std::int64_t days = unix_seconds / 86400;
  std::int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::string out = year < 0 ? "-" + padded(-year, 4) : padded(year, 4);
  out += "-" + padded(month, 2) + "-" + padded(day, 2) + "T" + padded(secs / 3600, 2) + ":" +
         padded(secs / 60 % 60, 2) + ":" + padded(secs % 60, 2) + "Z";
  return out;
}

std::string validity_text(const identity::Certificate& cert, std::int64_t now) {
  if (now >= cert.not_after) return "expired";
  if (now < cert.not_before) return "not yet valid";
  return "valid";
}

std::string cert_show_text(const identity::Certificate& cert, std::int64_t now) {
  std::string out = "certificate: " + cert.name + "\n";
  out += "  public key: " + config::to_base64(cert.public_key) + "\n";
  out += "  addresses: " + list_text(prefix_strings(cert.addresses)) + "\n";
  out += "  subnets: " + list_text(prefix_strings(cert.subnets)) + "\n";
  out += "  groups: " + list_text(cert.groups) + "\n";
  out += "  not before: " + iso8601_utc(cert.not_before) + " (" + std::to_string(cert.not_before) +
         ")\n";
  out +=
      "  not after: " + iso8601_utc(cert.not_after) + " (" + std::to_string(cert.not_after) + ")\n";
  out += "  issuer: " + identity::to_hex(cert.issuer) + "\n";
  out += "  fingerprint: " + identity::to_hex(identity::fingerprint(cert)) + "\n";
  out += "  validity: " + validity_text(cert, now) + "\n";
  return out;
}

nlohmann::json cert_show_json(const identity::Certificate& cert, std::int64_t now) {
  std::string validity = validity_text(cert, now);
  if (validity == "not yet valid") validity = "not_yet_valid";
  return nlohmann::json{
      {"version", cert.version},
      {"name", cert.name},
      {"public_key", config::to_base64(cert.public_key)},
      {"addresses", prefix_strings(cert.addresses)},
      {"subnets", prefix_strings(cert.subnets)},
      {"groups", cert.groups},
      {"not_before", cert.not_before},
      {"not_before_utc", iso8601_utc(cert.not_before)},
      {"not_after", cert.not_after},
      {"not_after_utc", iso8601_utc(cert.not_after)},
      {"issuer", identity::to_hex(cert.issuer)},
      {"fingerprint", identity::to_hex(identity::fingerprint(cert))},
      {"validity", validity},
  };
}

// --- The commands.

namespace {

// PREFIX of `ca init` and `ca upgrade`: a usage error's exit code, or nullopt.
std::optional<int> check_prefix(const std::string& cmd, const std::string& prefix) {
  if (prefix.empty()) return usage(cmd + ": PREFIX is required (see gwctl " + cmd + " --help)");
  if (prefix.back() == '/') {
    return usage(cmd + ": PREFIX names two files, PREFIX.key and PREFIX.pub, not a folder: \"" +
                 prefix + "\"");
  }
  return std::nullopt;
}

mode_t mode_of(const std::string& path, mode_t otherwise) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : otherwise;
}

}  // namespace

int ca_init(const CaInitArgs& args) {
  const std::string cmd = "ca init";
  if (auto code = check_prefix(cmd, args.prefix)) return *code;
  const std::string key_path = args.prefix + ".key";
  const std::string pub_path = args.prefix + ".pub";
  if (!args.force) {
    for (const std::string* path : {&key_path, &pub_path}) {
      if (exists(*path)) {
        return fail(cmd + ": " + *path +
                    ": exists; refusing to overwrite it (--force replaces it)");
      }
    }
  }
  const identity::CaKey ca = identity::CaKey::generate();
  std::string seed_text = config::ca_key_text(config::KeyKind::ca_private, ca.seed.bytes());
  const std::string pub_text = config::ca_key_text(config::KeyKind::ca_public, ca.public_key);
  std::string error;
  bool ok = false;
  if (args.force) {
    ok = replace_file(key_path, seed_text, kSecretMode, error) &&
         replace_file(pub_path, pub_text, kPublicMode, error);
  } else if (create_exclusive(key_path, seed_text, kSecretMode, error)) {
    ok = create_exclusive(pub_path, pub_text, kPublicMode, error);
    if (!ok) ::unlink(key_path.c_str());
  }
  wipe(seed_text);
  if (!ok) return fail(cmd + ": " + error);
  return print(identity::to_hex(identity::ca_fingerprint(ca.public_key)) + "\n") ? 0 : kFailure;
}

int ca_upgrade(const CaUpgradeArgs& args) {
  const std::string cmd = "ca upgrade";
  if (auto code = check_prefix(cmd, args.prefix)) return *code;
  const std::string key_path = args.prefix + ".key";
  const std::string pub_path = args.prefix + ".pub";
  const config::KeyFileResult pub =
      config::load_ca_key_any_form(pub_path, config::KeyUse::ca_public_key);
  if (!pub) return fail(cmd + ": " + pub.error);
  identity::CaPublicKey public_key{};
  std::copy(pub.key->data(), pub.key->data() + public_key.size(), public_key.begin());
  // Without PREFIX.key (a gateway's copy of PREFIX.pub), the public key alone.
  std::optional<config::KeyFileResult> key;
  if (exists(key_path)) {
    key = config::load_ca_key_any_form(key_path, config::KeyUse::ca_private_key);
    if (!*key) return fail(cmd + ": " + key->error);
    // An X25519 key pair fails here: its public key is not the seed's Ed25519 public key.
    if (identity::CaKey::from_seed(*key->key).public_key != public_key) {
      return fail(cmd + ": " + key_path + " and " + pub_path + " are not one CA's keys (" +
                  pub_path + " is not the Ed25519 public key of " + key_path +
                  "); nothing changed");
    }
  }
  std::string error;
  if (key && key->kind == config::KeyKind::key_line) {
    std::string text = config::ca_key_text(config::KeyKind::ca_private, key->key->bytes());
    const bool ok = replace_file(key_path, text, mode_of(key_path, kSecretMode), error);
    wipe(text);
    if (!ok) return fail(cmd + ": " + error);
  }
  if (pub.kind == config::KeyKind::key_line) {
    const std::string text = config::ca_key_text(config::KeyKind::ca_public, public_key);
    if (!replace_file(pub_path, text, mode_of(pub_path, kPublicMode), error)) {
      return fail(cmd + ": " + error);
    }
  }
  return print(identity::to_hex(identity::ca_fingerprint(public_key)) + "\n") ? 0 : kFailure;
}

int cert_sign(const CertSignArgs& args, std::int64_t now) {
  const std::string cmd = "cert sign";
  if (!args.ca_key || args.ca_key->empty()) return usage(cmd + ": --ca-key FILE is required");
  if (!args.name) return usage(cmd + ": --name is required");
  if (!valid_cert_name(*args.name)) {
    return usage(cmd + ": --name: \"" + *args.name + "\" is not a name (1 to " +
                 std::to_string(identity::kMaxName) + " letters, digits or _ . @ + -)");
  }
  if (!args.public_key && !args.public_key_file) {
    return usage(cmd + ": --public-key or --public-key-file is required");
  }
  if (args.public_key && args.public_key_file) {
    return usage(cmd + ": give --public-key or --public-key-file, not both");
  }
  std::optional<crypto::PublicKey> public_key;
  if (args.public_key) {
    // The text is not echoed: it may be a private key pasted by mistake.
    public_key = config::parse_public_key(*args.public_key);
    if (!public_key) return usage(cmd + ": --public-key: expected base64 of a 32-byte key");
  }
  identity::Certificate cert;
  cert.name = *args.name;
  std::string error;
  if (args.addresses) {
    auto list = parse_prefix_list(*args.addresses, false, error);
    if (!list) return usage(cmd + ": --addresses: " + error);
    if (list->size() > identity::kMaxAddresses) {
      return usage(cmd + ": --addresses: at most " + std::to_string(identity::kMaxAddresses));
    }
    cert.addresses = std::move(*list);
  }
  if (args.subnets) {
    auto list = parse_prefix_list(*args.subnets, true, error);
    if (!list) return usage(cmd + ": --subnets: " + error);
    if (list->size() > identity::kMaxSubnets) {
      return usage(cmd + ": --subnets: at most " + std::to_string(identity::kMaxSubnets));
    }
    cert.subnets = std::move(*list);
  }
  if (args.groups) {
    auto list = parse_group_list(*args.groups, error);
    if (!list) return usage(cmd + ": --groups: " + error);
    if (list->size() > identity::kMaxGroups) {
      return usage(cmd + ": --groups: at most " + std::to_string(identity::kMaxGroups));
    }
    cert.groups = std::move(*list);
  }
  std::int64_t duration = 365 * 86400;
  if (args.duration) {
    const auto parsed = parse_duration(*args.duration);
    if (!parsed) {
      return usage(cmd +
                   ": --duration: expected a positive number and a unit s, m, h or d (8760h, "
                   "90d), got \"" +
                   *args.duration + "\"");
    }
    duration = *parsed;
  }
  cert.not_before = now;
  if (args.not_before) {
    const auto parsed = parse_unix_time(*args.not_before);
    if (!parsed || *parsed < 0) {
      return usage(cmd + ": --not-before: expected Unix seconds (0 or more), got \"" +
                   *args.not_before + "\"");
    }
    cert.not_before = *parsed;
  }
  if (cert.not_before > std::numeric_limits<std::int64_t>::max() - duration) {
    return usage(cmd + ": --not-before plus --duration is beyond what a certificate can hold");
  }
  cert.not_after = cert.not_before + duration;
  if (args.out && args.out->empty()) return usage(cmd + ": --out: expected a file name");
  if (args.out && (same_file(*args.out, *args.ca_key) ||
                   (args.public_key_file && same_file(*args.out, *args.public_key_file)))) {
    return usage(cmd + ": --out must not be the CA key or the public key file");
  }

  // Every usage error is reported before a file is read.
  if (args.public_key_file) {
    public_key = read_public_key_file(*args.public_key_file, error);
    if (!public_key) return fail(cmd + ": " + error);
  }
  cert.public_key = *public_key;
  const auto ca = load_ca_key(*args.ca_key, error);
  if (!ca) return fail(cmd + ": " + error);
  const auto signed_cert = identity::sign(std::move(cert), *ca, &error);
  if (!signed_cert) return fail(cmd + ": " + error);
  const std::string text = identity::armor(*signed_cert);
  if (!args.out) return print(text) ? 0 : kFailure;
  // A certificate is public: readable by all, like a .pub file.
  if (!replace_file(*args.out, text, kPublicMode, error)) return fail(cmd + ": " + error);
  return 0;
}

int cert_show(const CertShowArgs& args, std::int64_t now) {
  if (args.file.empty()) return usage("cert show: FILE is required (see gwctl cert show --help)");
  std::string error;
  const auto cert = read_certificate(args.file, error);
  if (!cert) return fail(error);
  const std::string text =
      args.json ? cert_show_json(*cert, now).dump(2) + "\n" : cert_show_text(*cert, now);
  return print(text) ? 0 : kFailure;
}

int cert_verify(const CertVerifyArgs& args, std::int64_t now) {
  const std::string cmd = "cert verify";
  if (args.file.empty()) return usage(cmd + ": FILE is required (see gwctl cert verify --help)");
  if (args.ca_files.empty()) return usage(cmd + ": --ca CA.pub is required");
  if (args.public_key && args.public_key_file) {
    return usage(cmd + ": give --public-key or --public-key-file, not both");
  }
  std::optional<crypto::PublicKey> proven;
  if (args.public_key) {
    proven = config::parse_public_key(*args.public_key);
    if (!proven) return usage(cmd + ": --public-key: expected base64 of a 32-byte key");
  }
  if (args.at) {
    const auto parsed = parse_unix_time(*args.at);
    if (!parsed || *parsed < 0) {
      return usage(cmd + ": --at: expected Unix seconds (0 or more), got \"" + *args.at + "\"");
    }
    now = *parsed;
  }
  int stdin_users = args.file == "-" ? 1 : 0;
  if (args.public_key_file && *args.public_key_file == "-") ++stdin_users;
  for (const std::string& ca : args.ca_files) {
    if (ca == "-") return usage(cmd + ": --ca: expected a file, not - (stdin)");
  }
  if (args.revoked && *args.revoked == "-") ++stdin_users;
  if (stdin_users > 1) return usage(cmd + ": only one file can be - (stdin)");

  std::string error;
  std::vector<identity::CaPublicKey> trusted;
  for (const std::string& path : args.ca_files) {
    const config::CaPublicKeyFileResult loaded = config::load_ca_public_key(path);
    if (!loaded) {
      const bool secret = loaded.kind == config::KeyKind::ca_private;
      return fail(cmd + ": --ca " + loaded.error + (secret ? " (--ca wants PREFIX.pub)" : ""));
    }
    trusted.push_back(*loaded.key);
  }
  identity::RevocationList revoked;
  if (args.revoked) {
    const ReadResult r = read_text_file(*args.revoked, kMaxRevocationFile);
    if (!r.text) return fail(cmd + ": " + r.error);
    auto parsed = identity::RevocationList::parse(*r.text, &error);
    if (!parsed) {
      const std::string label = file_label(*args.revoked);
      const std::string instead = key_file_instead(label, *r.text, "a revocation list");
      return fail(cmd + ": " + (instead.empty() ? label + ": " + error : instead));
    }
    revoked = std::move(*parsed);
  }
  if (args.public_key_file) {
    proven = read_public_key_file(*args.public_key_file, error);
    if (!proven) return fail(cmd + ": " + error);
  }
  const auto cert = read_certificate(args.file, error);
  if (!cert) return fail(error);
  const identity::CertError result = identity::verify(*cert, trusted, revoked, now, proven);
  if (result != identity::CertError::ok) {
    // The text, and the reason's name for scripts and logs: "(expired)".
    return fail(file_label(args.file) + ": " + identity::to_string(result) + " (" +
                identity::reason(result) + ")");
  }
  return print("valid\n") ? 0 : kFailure;
}

int ca_revoke(const CaRevokeArgs& args) {
  const std::string cmd = "ca revoke";
  if (!args.list || args.list->empty()) return usage(cmd + ": --list LIST_FILE is required");
  if (*args.list == "-") return usage(cmd + ": --list: expected a file, not - (stdin)");
  if (args.cert_file && args.fingerprint) {
    return usage(cmd + ": give CERT_FILE or --fingerprint, not both");
  }
  if (!args.cert_file && !args.fingerprint) {
    return usage(cmd + ": CERT_FILE or --fingerprint HEX is required");
  }
  identity::Fingerprint fp{};
  if (args.fingerprint) {
    std::string hex = *args.fingerprint;
    for (char& c : hex) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
    const auto parsed = identity::fingerprint_from_hex(hex);
    if (!parsed) {
      return usage(cmd +
                   ": --fingerprint: expected 64 hex digits (gwctl cert show prints them), "
                   "got \"" +
                   *args.fingerprint + "\"");
    }
    fp = *parsed;
  }

  std::string error;
  if (args.cert_file) {
    const auto cert = read_certificate(*args.cert_file, error);
    if (!cert) return fail(error);
    fp = identity::fingerprint(*cert);
  }
  const std::string hex = identity::to_hex(fp);
  const std::string& path = *args.list;
  ReadResult r = read_text_file(path, kMaxRevocationFile);
  mode_t mode = kPublicMode;
  if (!r.text) {
    if (r.err != ENOENT) return fail(cmd + ": " + r.error);
    r.text.emplace();  // a new list
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  }
  const auto list = identity::RevocationList::parse(*r.text, &error);
  if (!list) {
    const std::string instead = key_file_instead(path, *r.text, "a revocation list");
    return fail(cmd + ": " + (instead.empty() ? path + ": " + error : instead));
  }
  if (list->contains(fp)) return print(hex + " already revoked\n") ? 0 : kFailure;
  // Appended, so that the list's comments and order stay as they were.
  std::string text = std::move(*r.text);
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += hex + "\n";
  if (!identity::RevocationList::parse(text, &error)) {
    return fail(cmd + ": " + path + ": the new list would not read back: " + error);
  }
  if (!replace_file(path, text, mode, error)) return fail(cmd + ": " + error);
  return print(hex + "\n") ? 0 : kFailure;
}

}  // namespace gw::gwctl
