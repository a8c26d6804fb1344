// SPDX-License-Identifier: MIT
// gwctl's certificate commands (cert_commands.hpp): cert sign, cert show,
// cert verify.
#include "cert_commands.hpp"

#include <limits>
#include <utility>

#include "cert_files.hpp"
#include "exit.hpp"
#include "gw/config/key_file.hpp"

namespace gw::gwctl {

namespace {

// The certificate's --addresses, --subnets and --groups; a usage error's line.
std::optional<std::string> sign_lists(const CertSignArgs& args, identity::Certificate& cert) {
  const std::string cmd = "cert sign";
  std::string error;
  if (args.addresses) {
    auto list = parse_prefix_list(*args.addresses, false, error);
    if (!list) return cmd + ": --addresses: " + error;
    if (list->size() > identity::kMaxAddresses) {
      return cmd + ": --addresses: at most " + std::to_string(identity::kMaxAddresses);
    }
    cert.addresses = std::move(*list);
  }
  if (args.subnets) {
    auto list = parse_prefix_list(*args.subnets, true, error);
    if (!list) return cmd + ": --subnets: " + error;
    if (list->size() > identity::kMaxSubnets) {
      return cmd + ": --subnets: at most " + std::to_string(identity::kMaxSubnets);
    }
    cert.subnets = std::move(*list);
  }
  if (args.groups) {
    auto list = parse_group_list(*args.groups, error);
    if (!list) return cmd + ": --groups: " + error;
    if (list->size() > identity::kMaxGroups) {
      return cmd + ": --groups: at most " + std::to_string(identity::kMaxGroups);
    }
    cert.groups = std::move(*list);
  }
  return std::nullopt;
}

// The certificate's not_before and not_after from --not-before (default
// `now`) and --duration (default 365 days); a usage error's line.
std::optional<std::string> sign_validity(const CertSignArgs& args, std::int64_t now,
                                         identity::Certificate& cert) {
  const std::string cmd = "cert sign";
  std::int64_t duration = 365 * 86400;
  if (args.duration) {
    const auto parsed = parse_duration(*args.duration);
    if (!parsed) {
      return cmd +
             ": --duration: expected a positive number and a unit s, m, h or d (8760h, 90d), "
             "got \"" +
             *args.duration + "\"";
    }
    duration = *parsed;
  }
  cert.not_before = now;
  if (args.not_before) {
    const auto parsed = parse_unix_time(*args.not_before);
    if (!parsed || *parsed < 0) {
      return cmd + ": --not-before: expected Unix seconds (0 or more), got \"" + *args.not_before +
             "\"";
    }
    cert.not_before = *parsed;
  }
  if (cert.not_before > std::numeric_limits<std::int64_t>::max() - duration) {
    return cmd + ": --not-before plus --duration is beyond what a certificate can hold";
  }
  cert.not_after = cert.not_before + duration;
  return std::nullopt;
}

// Every usage error of cert sign, in the order they are reported; fills
// `cert` but for its public key, and `public_key` from --public-key.
std::optional<std::string> check_sign(const CertSignArgs& args, std::int64_t now,
                                      identity::Certificate& cert,
                                      std::optional<crypto::PublicKey>& public_key) {
  const std::string cmd = "cert sign";
  if (!args.ca_key || args.ca_key->empty()) return cmd + ": --ca-key FILE is required";
  if (!args.name) return cmd + ": --name is required";
  if (!valid_cert_name(*args.name)) {
    return cmd + ": --name: \"" + *args.name + "\" is not a name (1 to " +
           std::to_string(identity::kMaxName) + " letters, digits or _ . @ + -)";
  }
  if (!args.public_key && !args.public_key_file) {
    return cmd + ": --public-key or --public-key-file is required";
  }
  if (args.public_key && args.public_key_file) {
    return cmd + ": give --public-key or --public-key-file, not both";
  }
  if (args.public_key) {
    // The text is not echoed: it may be a private key pasted by mistake.
    public_key = config::parse_public_key(*args.public_key);
    if (!public_key) return cmd + ": --public-key: expected base64 of a 32-byte key";
  }
  cert.name = *args.name;
  if (auto e = sign_lists(args, cert)) return e;
  if (auto e = sign_validity(args, now, cert)) return e;
  if (args.out && args.out->empty()) return cmd + ": --out: expected a file name";
  if (args.out && (same_file(*args.out, *args.ca_key) ||
                   (args.public_key_file && same_file(*args.out, *args.public_key_file)))) {
    return cmd + ": --out must not be the CA key or the public key file";
  }
  return std::nullopt;
}

// Every usage error of cert verify; `proven` from --public-key and `now`
// from --at.
std::optional<std::string> check_verify(const CertVerifyArgs& args,
                                        std::optional<crypto::PublicKey>& proven,
                                        std::int64_t& now) {
  const std::string cmd = "cert verify";
  if (args.file.empty()) return cmd + ": FILE is required (see gwctl cert verify --help)";
  if (args.ca_files.empty()) return cmd + ": --ca CA.pub is required";
  if (args.public_key && args.public_key_file) {
    return cmd + ": give --public-key or --public-key-file, not both";
  }
  if (args.public_key) {
    proven = config::parse_public_key(*args.public_key);
    if (!proven) return cmd + ": --public-key: expected base64 of a 32-byte key";
  }
  if (args.at) {
    const auto parsed = parse_unix_time(*args.at);
    if (!parsed || *parsed < 0) {
      return cmd + ": --at: expected Unix seconds (0 or more), got \"" + *args.at + "\"";
    }
    now = *parsed;
  }
  int stdin_users = args.file == "-" ? 1 : 0;
  if (args.public_key_file && *args.public_key_file == "-") ++stdin_users;
  for (const std::string& ca : args.ca_files) {
    if (ca == "-") return cmd + ": --ca: expected a file, not - (stdin)";
  }
  if (args.revoked && *args.revoked == "-") ++stdin_users;
  if (stdin_users > 1) return cmd + ": only one file can be - (stdin)";
  return std::nullopt;
}

// The --ca files' public keys; nullopt with `error` for the first that fails.
std::optional<std::vector<identity::CaPublicKey>> load_trusted(
    const std::vector<std::string>& files, std::string& error) {
  std::vector<identity::CaPublicKey> trusted;
  for (const std::string& path : files) {
    const config::CaPublicKeyFileResult loaded = config::load_ca_public_key(path);
    if (!loaded) {
      const bool secret = loaded.kind == config::KeyKind::ca_private;
      error = "--ca " + loaded.error + (secret ? " (--ca wants PREFIX.pub)" : "");
      return std::nullopt;
    }
    trusted.push_back(*loaded.key);
  }
  return trusted;
}

// The --revoked list.
std::optional<identity::RevocationList> load_revoked(const std::string& path, std::string& error) {
  const ReadResult r = read_text_file(path, kMaxRevocationFile);
  if (!r.text) {
    error = r.error;
    return std::nullopt;
  }
  std::string why;
  auto parsed = identity::RevocationList::parse(*r.text, &why);
  if (!parsed) {
    const std::string label = file_label(path);
    const std::string instead = key_file_instead(label, *r.text, "a revocation list");
    error = instead.empty() ? label + ": " + why : instead;
  }
  return parsed;
}

}  // namespace

int cert_sign(const CertSignArgs& args, std::int64_t now) {
  const std::string cmd = "cert sign";
  identity::Certificate cert;
  std::optional<crypto::PublicKey> public_key;
  if (auto e = check_sign(args, now, cert, public_key)) return usage(*e);

  // Every usage error is reported before a file is read.
  std::string error;
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
  std::optional<crypto::PublicKey> proven;
  if (auto e = check_verify(args, proven, now)) return usage(*e);

  std::string error;
  const auto trusted = load_trusted(args.ca_files, error);
  if (!trusted) return fail(cmd + ": " + error);
  identity::RevocationList revoked;
  if (args.revoked) {
    auto list = load_revoked(*args.revoked, error);
    if (!list) return fail(cmd + ": " + error);
    revoked = std::move(*list);
  }
  if (args.public_key_file) {
    proven = read_public_key_file(*args.public_key_file, error);
    if (!proven) return fail(cmd + ": " + error);
  }
  const auto cert = read_certificate(args.file, error);
  if (!cert) return fail(error);
  const identity::CertError result = identity::verify(*cert, *trusted, revoked, now, proven);
  if (result != identity::CertError::ok) {
    // The text, and the reason's name for scripts and logs: "(expired)".
    return fail(file_label(args.file) + ": " + identity::to_string(result) + " (" +
                identity::reason(result) + ")");
  }
  return print("valid\n") ? 0 : kFailure;
}

}  // namespace gw::gwctl
