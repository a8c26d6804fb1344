// SPDX-License-Identifier: MIT
// The command line of gwctl's certificate commands (cert_commands.hpp, as
// nebula-cert has them): the ca and cert groups.
#include <ctime>
#include <memory>
#include <string>

#include "cert_commands.hpp"
#include "command.hpp"
#include "exit.hpp"

namespace gw::gwctl {

namespace {

struct CaCommands {
  CLI::App* init = nullptr;
  CLI::App* upgrade = nullptr;
  CLI::App* revoke = nullptr;
  CaInitArgs init_args;
  CaUpgradeArgs upgrade_args;
  std::string revoke_list, revoke_cert, revoke_fingerprint;
  CLI::Option* revoke_list_opt = nullptr;
  CLI::Option* revoke_cert_opt = nullptr;
  CLI::Option* revoke_fingerprint_opt = nullptr;
};

void add_ca_revoke(CLI::App* ca, CaCommands& c) {
  c.revoke = ca->add_subcommand(
      "revoke", "add a certificate's fingerprint to a revocation list (created if missing)");
  c.revoke_cert_opt =
      c.revoke->add_option("CERT_FILE", c.revoke_cert, "the certificate to revoke; - for stdin");
  c.revoke_list_opt = c.revoke->add_option("--list", c.revoke_list, "the revocation list file");
  c.revoke_fingerprint_opt =
      c.revoke->add_option("--fingerprint", c.revoke_fingerprint,
                           "the certificate's fingerprint (hex), instead of a file");
  c.revoke_fingerprint_opt->excludes(c.revoke_cert_opt);
}

int run_ca(const CaCommands& c) {
  if (c.init->parsed()) return ca_init(c.init_args);
  if (c.upgrade->parsed()) return ca_upgrade(c.upgrade_args);
  if (c.revoke->parsed()) {
    return ca_revoke({given(c.revoke_list_opt, c.revoke_list),
                      given(c.revoke_cert_opt, c.revoke_cert),
                      given(c.revoke_fingerprint_opt, c.revoke_fingerprint)});
  }
  return usage("ca: a subcommand is required: init, revoke or upgrade (see gwctl ca --help)");
}

// cert sign's options as given, and where CLI11 keeps them.
struct SignOptions {
  std::string ca_key, name, public_key, public_key_file, addresses, subnets, groups, duration,
      not_before, out;
  CLI::Option *ca_key_opt = nullptr, *name_opt = nullptr, *public_key_opt = nullptr,
              *public_key_file_opt = nullptr, *addresses_opt = nullptr, *subnets_opt = nullptr,
              *groups_opt = nullptr, *duration_opt = nullptr, *not_before_opt = nullptr,
              *out_opt = nullptr;

  CertSignArgs args() const {
    CertSignArgs a;
    a.ca_key = given(ca_key_opt, ca_key);
    a.name = given(name_opt, name);
    a.public_key = given(public_key_opt, public_key);
    a.public_key_file = given(public_key_file_opt, public_key_file);
    a.addresses = given(addresses_opt, addresses);
    a.subnets = given(subnets_opt, subnets);
    a.groups = given(groups_opt, groups);
    a.duration = given(duration_opt, duration);
    a.not_before = given(not_before_opt, not_before);
    a.out = given(out_opt, out);
    return a;
  }
};

// cert verify's options as given.
struct VerifyOptions {
  CertVerifyArgs args;
  std::string revoked, public_key, public_key_file, at;
  CLI::Option *revoked_opt = nullptr, *public_key_opt = nullptr, *public_key_file_opt = nullptr,
              *at_opt = nullptr;
};

struct CertCommands {
  CLI::App* sign = nullptr;
  CLI::App* show = nullptr;
  CLI::App* verify = nullptr;
  SignOptions sign_options;
  CertShowArgs show_args;
  VerifyOptions verify_options;
};

void add_cert_sign(CLI::App* cert, CertCommands& c) {
  SignOptions& o = c.sign_options;
  auto* cmd = c.sign = cert->add_subcommand(
      "sign", "sign a certificate for a public key; print it, or write it with --out");
  o.ca_key_opt = cmd->add_option("--ca-key", o.ca_key, "the CA's private key file (mode 0600)");
  o.name_opt = cmd->add_option("--name", o.name, "the holder's name");
  o.public_key_opt =
      cmd->add_option("--public-key", o.public_key, "the holder's public key (base64)");
  o.public_key_file_opt = cmd->add_option("--public-key-file", o.public_key_file,
                                          "a file holding the holder's public key; - for stdin");
  o.public_key_opt->excludes(o.public_key_file_opt);
  o.addresses_opt = cmd->add_option("--addresses", o.addresses,
                                    "overlay addresses, comma-separated: 10.88.0.2/24,fd88::2/64");
  o.subnets_opt = cmd->add_option("--subnets", o.subnets,
                                  "networks it may route, comma-separated: 10.2.0.0/24");
  o.groups_opt = cmd->add_option("--groups", o.groups, "groups, comma-separated: dev,ops");
  o.duration_opt = cmd->add_option("--duration", o.duration,
                                   "lifetime: 3600s, 30m, 8760h or 90d (default 365d)");
  o.not_before_opt = cmd->add_option("--not-before", o.not_before,
                                     "start of validity, Unix seconds (default now)");
  o.out_opt = cmd->add_option("--out", o.out,
                              "write the certificate to this file (mode 0644) instead of stdout");
}

void add_cert_show(CLI::App* cert, CertCommands& c) {
  c.show = cert->add_subcommand("show", "show what a certificate says");
  c.show->add_option("FILE", c.show_args.file, "the certificate; - for stdin");
  c.show->add_flag("--json", c.show_args.json, "print it as a JSON object");
}

void add_cert_verify(CLI::App* cert, CertCommands& c) {
  VerifyOptions& o = c.verify_options;
  auto* cmd = c.verify =
      cert->add_subcommand("verify", "check a certificate against CAs; print \"valid\"");
  cmd->add_option("FILE", o.args.file, "the certificate; - for stdin");
  cmd->add_option("--ca", o.args.ca_files, "a trusted CA's public key file (repeatable)")
      ->allow_extra_args(false);
  o.revoked_opt = cmd->add_option("--revoked", o.revoked, "a revocation list file");
  o.public_key_opt = cmd->add_option("--public-key", o.public_key,
                                     "require the certificate to bind this public key");
  o.public_key_file_opt =
      cmd->add_option("--public-key-file", o.public_key_file, "the same from a file; - for stdin");
  o.public_key_opt->excludes(o.public_key_file_opt);
  o.at_opt = cmd->add_option("--at", o.at, "check at this time, Unix seconds (default now)");
}

int run_cert(const CertCommands& c) {
  const std::int64_t now = std::time(nullptr);
  if (c.sign->parsed()) return cert_sign(c.sign_options.args(), now);
  if (c.show->parsed()) return cert_show(c.show_args, now);
  if (c.verify->parsed()) {
    const VerifyOptions& o = c.verify_options;
    CertVerifyArgs args = o.args;
    args.revoked = given(o.revoked_opt, o.revoked);
    args.public_key = given(o.public_key_opt, o.public_key);
    args.public_key_file = given(o.public_key_file_opt, o.public_key_file);
    args.at = given(o.at_opt, o.at);
    return cert_verify(args, now);
  }
  return usage("cert: a subcommand is required: sign, show or verify (see gwctl cert --help)");
}

}  // namespace

void add_ca_commands(CLI::App& app, Commands& out) {
  auto* ca = app.add_subcommand("ca", "make a certificate authority, revoke certificates");
  ca->require_subcommand(0, 1);
  auto c = std::make_shared<CaCommands>();
  c->init = ca->add_subcommand("init",
                               "make a CA: PREFIX.key (its private key, mode 0600) and PREFIX.pub");
  c->init->add_option("PREFIX", c->init_args.prefix, "the files' path without .key or .pub");
  c->init->add_flag("--force", c->init_args.force, "replace existing files");
  c->upgrade = ca->add_subcommand(
      "upgrade", "rewrite a CA's PREFIX.key and PREFIX.pub from before they named their kind");
  c->upgrade->add_option("PREFIX", c->upgrade_args.prefix, "the files' path without .key or .pub");
  add_ca_revoke(ca, *c);
  out.push_back({ca, [c] { return run_ca(*c); }});
}

void add_cert_commands(CLI::App& app, Commands& out) {
  auto* cert = app.add_subcommand("cert", "sign, show and verify certificates");
  cert->require_subcommand(0, 1);
  auto c = std::make_shared<CertCommands>();
  add_cert_sign(cert, *c);
  add_cert_show(cert, *c);
  add_cert_verify(cert, *c);
  out.push_back({cert, [c] { return run_cert(*c); }});
}

}  // namespace gw::gwctl
