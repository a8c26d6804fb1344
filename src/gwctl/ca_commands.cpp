// SPDX-License-Identifier: MIT
// gwctl's CA commands (cert_commands.hpp): ca init, ca upgrade, ca revoke.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <sodium.h>

#include "cert_commands.hpp"
#include "cert_files.hpp"
#include "exit.hpp"
#include "gw/config/key_file.hpp"

namespace gw::gwctl {

namespace {

void wipe(std::string& s) {
  sodium_memzero(s.data(), s.size());
}

// PREFIX of `ca init` and `ca upgrade`: a usage error's line, or nullopt.
std::optional<std::string> check_prefix(const std::string& cmd, const std::string& prefix) {
  if (prefix.empty()) return cmd + ": PREFIX is required (see gwctl " + cmd + " --help)";
  if (prefix.back() == '/') {
    return cmd + ": PREFIX names two files, PREFIX.key and PREFIX.pub, not a folder: \"" + prefix +
           "\"";
  }
  return std::nullopt;
}

}  // namespace

int ca_init(const CaInitArgs& args) {
  const std::string cmd = "ca init";
  if (auto e = check_prefix(cmd, args.prefix)) return usage(*e);
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
  if (auto e = check_prefix(cmd, args.prefix)) return usage(*e);
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

namespace {

// Every usage error of ca revoke: its line, or nullopt; --fingerprint's
// value into `fp`.
std::optional<std::string> check_revoke(const CaRevokeArgs& args, identity::Fingerprint& fp) {
  const std::string cmd = "ca revoke";
  if (!args.list || args.list->empty()) return cmd + ": --list LIST_FILE is required";
  if (*args.list == "-") return cmd + ": --list: expected a file, not - (stdin)";
  if (args.cert_file && args.fingerprint)
    return cmd + ": give CERT_FILE or --fingerprint, not both";
  if (!args.cert_file && !args.fingerprint) {
    return cmd + ": CERT_FILE or --fingerprint HEX is required";
  }
  if (!args.fingerprint) return std::nullopt;
  std::string hex = *args.fingerprint;
  for (char& c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  const auto parsed = identity::fingerprint_from_hex(hex);
  if (!parsed) {
    return cmd + ": --fingerprint: expected 64 hex digits (gwctl cert show prints them), got \"" +
           *args.fingerprint + "\"";
  }
  fp = *parsed;
  return std::nullopt;
}

}  // namespace

int ca_revoke(const CaRevokeArgs& args) {
  const std::string cmd = "ca revoke";
  identity::Fingerprint fp{};
  if (auto e = check_revoke(args, fp)) return usage(*e);
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
