// SPDX-License-Identifier: MIT
// gwctl's certificate commands, as nebula-cert has them but inside gwctl
// (include/gw/identity/certificate.hpp):
//   gwctl ca init PREFIX [--force]
//   gwctl ca upgrade PREFIX
//   gwctl ca revoke --list LIST_FILE (CERT_FILE | --fingerprint HEX)
//   gwctl cert sign --ca-key FILE --name NAME (--public-key KEY | --public-key-file FILE)
//                   [--addresses LIST] [--subnets LIST] [--groups LIST]
//                   [--duration DURATION] [--not-before UNIX] [--out FILE]
//   gwctl cert show FILE [--json]
//   gwctl cert verify FILE --ca CA.pub [--ca CA.pub ...] [--revoked LIST_FILE]
//                     [--public-key KEY | --public-key-file FILE] [--at UNIX]
// "-" as a certificate FILE (and as --public-key-file) is stdin.
//
// The first half are pure functions (what gwctl parses and prints,
// cert_text.cpp), unit-tested in tests/gwctl; the second half runs the
// commands (ca_commands.cpp, cert_commands.cpp; their files in cert_files.hpp)
// and returns gwctl's exit code (0, 1 failure, 2 usage) after printing any
// error as one line on stderr. No command ever prints a private key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gw/identity/certificate.hpp"
#include "gw/routing/allowed_ips.hpp"

namespace gw::gwctl {

// --- Pure: parsing.

// A certificate's lifetime: a positive number with one unit, "3600s", "30m",
// "8760h", "90d". nullopt for anything else: no unit, another unit, zero,
// signs, spaces, or more seconds than an int64 holds.
std::optional<std::int64_t> parse_duration(std::string_view text);

// Unix seconds: decimal digits with an optional leading '-'; nullopt when the
// value does not fit an int64.
std::optional<std::int64_t> parse_unix_time(std::string_view text);

// A certificate's name or group: 1..64 of [A-Za-z0-9_.@+-].
bool valid_cert_name(std::string_view text);

// "10.88.0.2/24, fd88::2/64": comma-separated, spaces ignored, "" is the
// empty list. Each item is ADDRESS/LENGTH (the length required). With
// `network` (subnets) the host bits must be clear. Repeated items are
// refused. nullopt, with `error` naming the item, for anything else.
std::optional<std::vector<routing::Prefix>> parse_prefix_list(std::string_view text, bool network,
                                                              std::string& error);

// "dev,ops": comma-separated names (valid_cert_name), spaces ignored,
// repeats refused; nullopt with `error` naming the item.
std::optional<std::vector<std::string>> parse_group_list(std::string_view text, std::string& error);

// --- Pure: printing.

// "2025-01-01T00:00:00Z": UTC, ISO 8601, for any int64 (years beyond 9999
// keep their digits).
std::string iso8601_utc(std::int64_t unix_seconds);

// The certificate's dates against `now`: "expired", "not yet valid" or
// "valid" (not_before inclusive, not_after exclusive, as verify() has them).
std::string validity_text(const identity::Certificate& cert, std::int64_t now);

// `gwctl cert show`:
//   certificate: NAME
//     public key: BASE64
//     addresses: 10.88.0.2/24, fd88::2/64      ("(none)" when empty)
//     subnets: (none)
//     groups: dev, ops
//     not before: 2025-01-01T00:00:00Z (1735689600)
//     not after: 2026-01-01T00:00:00Z (1767225600)
//     issuer: HEX                                (the CA's fingerprint)
//     fingerprint: HEX                           (what a revocation list names)
//     validity: valid                            (by `now`)
std::string cert_show_text(const identity::Certificate& cert, std::int64_t now);

// `gwctl cert show --json`: {"name", "public_key", "addresses", "subnets",
// "groups" (arrays of strings), "not_before", "not_after" (Unix seconds),
// "not_before_utc", "not_after_utc" (ISO 8601), "issuer", "fingerprint"
// (hex), "validity" ("valid", "expired" or "not_yet_valid"), "version"}.
nlohmann::json cert_show_json(const identity::Certificate& cert, std::int64_t now);

// --- The commands. Each returns gwctl's exit code.

struct CaInitArgs {
  std::string prefix;
  bool force = false;
};
int ca_init(const CaInitArgs& args);

// Rewrites a CA's files from before they carried their kind (one base64
// line each) in their armours, keeping their modes. PREFIX.pub is required;
// PREFIX.key, when it exists, must be the seed whose Ed25519 public key
// PREFIX.pub holds, or nothing is written. Files already in their armour are
// left as they are. Prints the CA's fingerprint, as `ca init` does.
struct CaUpgradeArgs {
  std::string prefix;
};
int ca_upgrade(const CaUpgradeArgs& args);

struct CertSignArgs {
  std::optional<std::string> ca_key, name, public_key, public_key_file, addresses, subnets, groups,
      duration, not_before, out;
};
int cert_sign(const CertSignArgs& args, std::int64_t now);

struct CertShowArgs {
  std::string file;
  bool json = false;
};
int cert_show(const CertShowArgs& args, std::int64_t now);

struct CertVerifyArgs {
  std::string file;
  std::vector<std::string> ca_files;
  std::optional<std::string> revoked, public_key, public_key_file, at;
};
int cert_verify(const CertVerifyArgs& args, std::int64_t now);

struct CaRevokeArgs {
  std::optional<std::string> list, cert_file, fingerprint;
};
int ca_revoke(const CaRevokeArgs& args);

}  // namespace gw::gwctl
