// SPDX-License-Identifier: MIT
// gwctl: gw's command-line tool. Key commands, as `wg` has them:
//   gwctl genkey            a new private key (base64) on stdout
//   gwctl pubkey            the public key of the private key on stdin
//   gwctl genpsk            a new pre-shared key on stdout
// and the commands that talk to a running gwd over its control socket
// (docs/CONTROL.md), as `wg show` and `wg set` users expect them:
//   gwctl show [IFACE] [--json]
//   gwctl peer list IFACE [--json] [--certified]
//   gwctl peer add IFACE NAME (--public-key KEY | --public-key-file FILE) [--endpoint HOST:PORT]
//                  [--allowed-ips LIST] [--persistent-keepalive SECONDS] [--psk-file FILE]
//   gwctl peer remove IFACE PEER
//   gwctl peer set IFACE PEER [--endpoint HOST:PORT | --no-endpoint] [--allowed-ips LIST]
//                  [--persistent-keepalive SECONDS] [--psk-file FILE | --no-psk]
//   gwctl reload IFACE
//   gwctl version [IFACE]
// and certificates (cert_commands.hpp), as nebula-cert has them:
//   gwctl ca init PREFIX [--force]
//   gwctl ca upgrade PREFIX
//   gwctl ca revoke --list LIST_FILE (CERT_FILE | --fingerprint HEX)
//   gwctl cert sign --ca-key FILE --name NAME (--public-key KEY | --public-key-file FILE) [...]
//   gwctl cert show FILE [--json]
//   gwctl cert verify FILE --ca CA.pub [--ca ...] [--revoked LIST_FILE] [...] [--at UNIX]
// The socket is <run dir>/IFACE.sock; the run dir is /run/gw, or GW_RUN_DIR,
// or --run-dir. Each wait for gwd lasts at most 10 s, or GW_TIMEOUT, or
// --timeout SECONDS. Secret keys never travel on the command line: a PSK comes from
// a file or stdin ("-"). Every argument is checked before gwd is contacted.
// Exit codes: 0 success, 1 failure, 2 usage; every error is one line on stderr.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include "cert_commands.hpp"
#include "client.hpp"
#include "exit.hpp"
#include "format.hpp"
#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"
#include "gw/control/request.hpp"
#include "gw/control/request_builder.hpp"
#include "gw/control/status.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/crypto/x25519.hpp"

#ifndef GW_VERSION
#define GW_VERSION "unknown"
#endif

namespace {

using nlohmann::json;

using gw::gwctl::fail;
using gw::gwctl::kFailure;
using gw::gwctl::kUsage;
using gw::gwctl::usage;

void warn_if_readable_output() {
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    std::cerr << "gwctl: warning: writing a secret key to a file that group or others can read "
                 "(use umask 077)\n";
  }
}

// A key file's text on stdin: at most a key file's size, and one byte to tell.
using KeyBuffer = std::array<char, gw::config::kMaxKeyFileSize + 1>;

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

int genkey() {
  warn_if_readable_output();
  const gw::crypto::KeyPair kp = gw::crypto::KeyPair::generate(gw::crypto::system_rng());
  std::cout << gw::config::to_base64(kp.private_key.bytes()) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

int genpsk() {
  warn_if_readable_output();
  gw::crypto::Secret<gw::config::kKeyLen> psk;
  gw::crypto::system_rng().fill(psk.bytes());
  std::cout << gw::config::to_base64(psk.bytes()) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

// "stdin: this is a CA private key file, not ..." when stdin held a key file
// of another kind than `use`.
std::optional<std::string> wrong_kind_on_stdin(const std::optional<std::string_view>& text,
                                               gw::config::KeyUse use) {
  return text ? gw::config::wrong_kind(*text, use, "stdin") : std::nullopt;
}

int pubkey() {
  KeyBuffer buf{};
  const auto text = read_stdin_key_line(buf);
  const auto wrong = wrong_kind_on_stdin(text, gw::config::KeyUse::private_key);
  auto key = text && !wrong ? gw::config::parse_secret_key(*text) : std::nullopt;
  sodium_memzero(buf.data(), buf.size());
  if (wrong) return fail("pubkey: " + *wrong);
  if (!key) {
    std::cerr << "gwctl: pubkey: expected a base64 private key of 32 bytes on stdin\n";
    return kFailure;
  }
  std::cout << gw::config::to_base64(gw::crypto::public_key_of(*key)) << '\n';
  return std::cout.flush() ? 0 : kFailure;
}

// --- Argument checks: the config file's rules (src/config), so that a typo
// is a usage error here rather than a refusal from gwd.

bool is_name_char(char c, std::string_view extra) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string_view::npos;
}

bool valid_interface_name(std::string_view s) {
  if (s.empty() || s.size() > gw::config::kMaxInterfaceName || s == "." || s == "..") return false;
  for (const char c : s) {
    if (!is_name_char(c, "_.-")) return false;
  }
  return true;
}

bool valid_peer_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s) {
    if (!is_name_char(c, "_.@+-")) return false;
  }
  return true;
}

std::optional<std::string> check_interface(const std::string& cmd, const std::string& iface) {
  if (iface.empty()) return cmd + ": IFACE is required (see gwctl " + cmd + " --help)";
  if (!valid_interface_name(iface)) {
    return cmd + ": \"" + iface + "\" is not an interface name (1 to 15 letters, digits or _ . -)";
  }
  return std::nullopt;
}

std::optional<std::string> check_peer_ref(const std::string& cmd, const std::string& peer) {
  if (peer.empty()) return cmd + ": PEER is required (see gwctl " + cmd + " --help)";
  if (!valid_peer_name(peer) && !gw::config::parse_public_key(peer)) {
    return cmd + ": \"" + peer + "\" is neither a peer name nor a base64 public key";
  }
  return std::nullopt;
}

// "25", or "off" as `wg set` takes it.
std::optional<std::uint16_t> parse_keepalive(std::string_view text) {
  if (text == "off") return 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "10.0.0.0/24, fd00::/64": comma-separated, spaces ignored; "" is the empty list.
std::optional<std::vector<std::string>> parse_allowed_ips(std::string_view text, std::string& bad) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&]() {
    if (item.empty()) return true;
    if (!gw::config::valid_prefix(item)) {
      bad = item;
      return false;
    }
    out.push_back(item);
    item.clear();
    return true;
  };
  for (const char c : text) {
    if (c == ',') {
      if (!flush()) return std::nullopt;
    } else if (c != ' ') {
      item += c;
    }
  }
  if (!flush()) return std::nullopt;
  return out;
}

// The options that peer add and peer set share, as given.
struct PeerOptions {
  CLI::Option* endpoint = nullptr;
  CLI::Option* allowed_ips = nullptr;
  CLI::Option* keepalive = nullptr;
  CLI::Option* psk_file = nullptr;
  std::string endpoint_text, allowed_ips_text, keepalive_text, psk_path;
};

void add_peer_options(CLI::App* cmd, PeerOptions& o) {
  o.endpoint = cmd->add_option("--endpoint", o.endpoint_text,
                               "where to reach the peer: HOST:PORT, [IPV6]:PORT");
  o.allowed_ips =
      cmd->add_option("--allowed-ips", o.allowed_ips_text,
                      "the peer's networks, comma-separated: 10.2.0.0/24,fd02::/64 (\"\": none)");
  o.keepalive = cmd->add_option("--persistent-keepalive", o.keepalive_text,
                                "seconds between keepalives, 0..65535 (0 or off: none)");
  o.psk_file = cmd->add_option("--psk-file", o.psk_path,
                               "a file holding the pre-shared key (base64); - for stdin");
}

// What the options of peer add and peer set give, checked.
struct PeerFields {
  std::optional<std::string> endpoint;
  std::optional<std::vector<std::string>> allowed_ips;
  std::optional<std::uint16_t> persistent_keepalive;
  std::optional<gw::crypto::Secret<gw::config::kKeyLen>> psk;
};

// Checks the options into `fields`. Returns a usage error, or sets `failure`
// when a file cannot be read.
std::optional<std::string> fill_peer_members(const std::string& cmd, const PeerOptions& o,
                                             PeerFields& fields, std::string& failure) {
  if (*o.endpoint) {
    if (!gw::config::parse_host_port(o.endpoint_text)) {
      return cmd + ": --endpoint: expected HOST:PORT or [IPV6]:PORT with a port 1..65535, got \"" +
             o.endpoint_text + "\"";
    }
    fields.endpoint = o.endpoint_text;
  }
  if (*o.allowed_ips) {
    std::string bad;
    auto list = parse_allowed_ips(o.allowed_ips_text, bad);
    if (!list) {
      return cmd + ": --allowed-ips: expected ADDRESS/LENGTH, got \"" + bad + "\"";
    }
    fields.allowed_ips = std::move(*list);
  }
  if (*o.keepalive) {
    const auto seconds = parse_keepalive(o.keepalive_text);
    if (!seconds) {
      return cmd + ": --persistent-keepalive: expected seconds 0..65535 or off, got \"" +
             o.keepalive_text + "\"";
    }
    fields.persistent_keepalive = *seconds;
  }
  if (*o.psk_file) {
    std::optional<gw::crypto::Secret<gw::config::kKeyLen>> psk;
    if (o.psk_path == "-") {
      KeyBuffer buf{};
      const auto text = read_stdin_key_line(buf);
      const auto wrong = wrong_kind_on_stdin(text, gw::config::KeyUse::psk);
      psk = text && !wrong ? gw::config::parse_secret_key(*text) : std::nullopt;
      sodium_memzero(buf.data(), buf.size());
      if (!psk) {
        failure =
            cmd + ": " + (wrong ? *wrong : "expected a base64 pre-shared key of 32 bytes on stdin");
      }
    } else {
      auto loaded = gw::config::load_psk(o.psk_path);
      if (loaded) {
        psk = std::move(loaded.key);
      } else {
        failure = cmd + ": " + loaded.error;
      }
    }
    fields.psk = std::move(psk);
  }
  return std::nullopt;
}

// Sends `request` to IFACE's gwd; on success returns the reply, else prints
// the error. Wipes a "psk" in the request afterwards.
std::optional<json> exchange(const gw::gwctl::Connection& to, const std::string& iface,
                             json& request) {
  gw::gwctl::Reply reply = gw::gwctl::call(to, iface, request);
  gw::control::wipe_psks(request);
  if (!reply) {
    fail(reply.error);
    return std::nullopt;
  }
  return std::move(reply.json);
}

bool print(const std::string& text) {
  std::cout << text;
  return static_cast<bool>(std::cout.flush());
}

// --- The control commands.

int show(const gw::gwctl::Connection& to, const std::string& iface, bool as_json) {
  const std::vector<std::string> names =
      iface.empty() ? gw::gwctl::running_interfaces(to.run_dir) : std::vector<std::string>{iface};
  int rc = 0;
  std::string text;
  json all = json::array();
  for (const std::string& name : names) {
    json request = gw::control::show_request();
    auto reply = exchange(to, name, request);
    if (!reply) {
      rc = kFailure;
      continue;
    }
    std::string error;
    const auto status = gw::control::status_from_json(*reply, error);
    if (!status) {
      rc = fail("gwd for " + name + " sent a show reply gwctl cannot read: " + error);
      continue;
    }
    if (as_json) {
      // The reply as gwd sent it, members this gwctl does not know included.
      reply->erase("version");
      reply->erase("ok");
      all.push_back(std::move(*reply));
    } else {
      if (!text.empty()) text += '\n';
      text += gw::gwctl::show_text(*status);
    }
  }
  if (as_json) {
    if (!iface.empty() && all.empty()) return rc;
    text = (iface.empty() ? all : all.front()).dump(2) + "\n";
  }
  if (!print(text)) return kFailure;
  return rc;
}

int peer_list(const gw::gwctl::Connection& to, const std::string& iface, bool as_json,
              bool certified) {
  json request = gw::control::peer_list_request(certified);
  const auto reply = exchange(to, iface, request);
  if (!reply) return kFailure;
  if (!reply->contains("peers")) return fail("gwd for " + iface + " sent no \"peers\"");
  const json& peers = (*reply)["peers"];
  std::string error;
  const auto text = gw::gwctl::peer_list_text(peers, error);
  if (!text) return fail("gwd for " + iface + " sent a peer list gwctl cannot read: " + error);
  return print(as_json ? peers.dump(2) + "\n" : *text) ? 0 : kFailure;
}

// A reload reply's list member; nullopt when it is not a list of strings.
std::optional<std::vector<std::string>> string_list(const json& reply, const char* member) {
  std::vector<std::string> out;
  if (!reply.contains(member)) return out;
  const json& j = reply[member];
  if (!j.is_array()) return std::nullopt;
  for (const auto& item : j) {
    if (!item.is_string()) return std::nullopt;
    out.push_back(item.get<std::string>());
  }
  return out;
}

int reload(const gw::gwctl::Connection& to, const std::string& iface) {
  json request = gw::control::reload_request();
  const auto reply = exchange(to, iface, request);
  if (!reply) return kFailure;
  const auto added = string_list(*reply, "added");
  const auto removed = string_list(*reply, "removed");
  const auto changed = string_list(*reply, "changed");
  const auto restart = string_list(*reply, "restart_required");
  if (!added || !removed || !changed || !restart) {
    return fail("gwd for " + iface + " sent a reload reply gwctl cannot read");
  }
  if (!print(gw::gwctl::reload_text(*added, *removed, *changed))) return kFailure;
  if (!restart->empty()) {
    return fail("reload: applied; these need a restart of gwd: " + gw::gwctl::join(*restart, ", "));
  }
  return 0;
}

int version(const gw::gwctl::Connection& to, const std::string& iface) {
  std::string text = "gwctl " GW_VERSION "\n";
  if (!iface.empty()) {
    json request = gw::control::version_request();
    const auto reply = exchange(to, iface, request);
    if (!reply) return kFailure;
    const json& j = *reply;
    if (!j.contains("gwd") || !j["gwd"].is_string() || !j.contains("protocol") ||
        !j["protocol"].is_number_integer()) {
      return fail("gwd for " + iface + " sent a version reply gwctl cannot read");
    }
    text += "gwd " + j["gwd"].get<std::string>() + " (" + iface + ", control protocol " +
            std::to_string(j["protocol"].get<long long>()) + ")\n";
  }
  return print(text) ? 0 : kFailure;
}

// An option's value when it was given.
std::optional<std::string> given(const CLI::Option* option, const std::string& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  gw::crypto::ensure_sodium();
  CLI::App app{"gwctl: manage gw keys, peers and interfaces", "gwctl"};
  app.require_subcommand(0, 1);  // none is reported below, after unknown arguments
  app.set_help_all_flag("--help-all", "show help for every command");
  app.set_version_flag("--version", "gwctl " GW_VERSION);
  std::string run_dir;
  app.add_option("--run-dir", run_dir,
                 "the folder of gwd's control sockets (default " +
                     std::string(gw::gwctl::kDefaultRunDir) + ")")
      ->envname("GW_RUN_DIR");
  gw::gwctl::Connection to;
  app.add_option("--timeout", to.timeout_seconds,
                 "seconds to wait for gwd to accept, take and answer a request (default " +
                     std::to_string(gw::gwctl::kDefaultTimeoutSeconds) + ")")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, gw::gwctl::kMaxTimeoutSeconds))
      ->envname("GW_TIMEOUT");
  // Subcommands pass options they do not know to gwctl itself, so that
  // --run-dir may come after them too.
  app.fallthrough();

  auto* genkey_cmd = app.add_subcommand("genkey", "print a new private key (base64)");
  auto* pubkey_cmd =
      app.add_subcommand("pubkey", "print the public key of the private key on stdin");
  auto* genpsk_cmd = app.add_subcommand("genpsk", "print a new pre-shared key (base64)");

  std::string iface, peer_arg;
  bool as_json = false;
  auto* show_cmd = app.add_subcommand(
      "show", "show interfaces and peers (every running interface without IFACE)");
  show_cmd->add_option("IFACE", iface, "the interface");
  show_cmd->add_flag("--json", as_json, "print gwd's show reply as JSON");

  auto* peer_cmd = app.add_subcommand("peer", "list, add, remove and change peers");
  peer_cmd->require_subcommand(0, 1);
  auto* list_cmd = peer_cmd->add_subcommand("list", "list the configured peers");
  list_cmd->add_option("IFACE", iface, "the interface");
  list_cmd->add_flag("--json", as_json, "print the peers as a JSON array");
  bool certified = false;
  list_cmd->add_flag("--certified", certified,
                     "the peers admitted by certificate (not in the config file), with each "
                     "certificate's fingerprint and end");

  auto* add_cmd = peer_cmd->add_subcommand("add", "add a peer and save it to the config");
  add_cmd->add_option("IFACE", iface, "the interface");
  add_cmd->add_option("NAME", peer_arg, "the new peer's name");
  std::string public_key_text, public_key_path;
  auto* public_key_opt =
      add_cmd->add_option("--public-key", public_key_text, "the peer's public key (base64)");
  auto* public_key_file_opt = add_cmd->add_option(
      "--public-key-file", public_key_path, "a file holding the peer's public key; - for stdin");
  public_key_opt->excludes(public_key_file_opt);
  PeerOptions add_options;
  add_peer_options(add_cmd, add_options);

  auto* remove_cmd = peer_cmd->add_subcommand("remove", "remove a peer and wipe its keys");
  remove_cmd->add_option("IFACE", iface, "the interface");
  remove_cmd->add_option("PEER", peer_arg, "the peer's name or public key");

  auto* set_cmd = peer_cmd->add_subcommand("set", "change a peer in place");
  set_cmd->add_option("IFACE", iface, "the interface");
  set_cmd->add_option("PEER", peer_arg, "the peer's name or public key");
  PeerOptions set_options;
  add_peer_options(set_cmd, set_options);
  bool no_endpoint = false, no_psk = false;
  set_options.endpoint->excludes(
      set_cmd->add_flag("--no-endpoint", no_endpoint, "forget the configured endpoint"));
  set_options.psk_file->excludes(
      set_cmd->add_flag("--no-psk", no_psk, "remove the pre-shared key"));

  auto* reload_cmd =
      app.add_subcommand("reload", "apply the config file's changes to the running gwd");
  reload_cmd->add_option("IFACE", iface, "the interface");

  auto* version_cmd = app.add_subcommand("version", "print gwctl's version, and gwd's for IFACE");
  version_cmd->add_option("IFACE", iface, "the interface");

  // Certificates (cert_commands.hpp).
  auto* ca_cmd = app.add_subcommand("ca", "make a certificate authority, revoke certificates");
  ca_cmd->require_subcommand(0, 1);
  gw::gwctl::CaInitArgs ca_init_args;
  auto* ca_init_cmd = ca_cmd->add_subcommand(
      "init", "make a CA: PREFIX.key (its private key, mode 0600) and PREFIX.pub");
  ca_init_cmd->add_option("PREFIX", ca_init_args.prefix, "the files' path without .key or .pub");
  ca_init_cmd->add_flag("--force", ca_init_args.force, "replace existing files");
  gw::gwctl::CaUpgradeArgs ca_upgrade_args;
  auto* ca_upgrade_cmd = ca_cmd->add_subcommand(
      "upgrade", "rewrite a CA's PREFIX.key and PREFIX.pub from before they named their kind");
  ca_upgrade_cmd->add_option("PREFIX", ca_upgrade_args.prefix,
                             "the files' path without .key or .pub");

  auto* ca_revoke_cmd = ca_cmd->add_subcommand(
      "revoke", "add a certificate's fingerprint to a revocation list (created if missing)");
  std::string revoke_list, revoke_cert, revoke_fingerprint;
  auto* revoke_cert_opt =
      ca_revoke_cmd->add_option("CERT_FILE", revoke_cert, "the certificate to revoke; - for stdin");
  auto* revoke_list_opt =
      ca_revoke_cmd->add_option("--list", revoke_list, "the revocation list file");
  auto* revoke_fingerprint_opt =
      ca_revoke_cmd->add_option("--fingerprint", revoke_fingerprint,
                                "the certificate's fingerprint (hex), instead of a file");
  revoke_fingerprint_opt->excludes(revoke_cert_opt);

  auto* cert_cmd = app.add_subcommand("cert", "sign, show and verify certificates");
  cert_cmd->require_subcommand(0, 1);
  auto* sign_cmd = cert_cmd->add_subcommand(
      "sign", "sign a certificate for a public key; print it, or write it with --out");
  std::string sign_ca_key, sign_name, sign_public_key, sign_public_key_file, sign_addresses,
      sign_subnets, sign_groups, sign_duration, sign_not_before, sign_out;
  auto* sign_ca_key_opt =
      sign_cmd->add_option("--ca-key", sign_ca_key, "the CA's private key file (mode 0600)");
  auto* sign_name_opt = sign_cmd->add_option("--name", sign_name, "the holder's name");
  auto* sign_public_key_opt =
      sign_cmd->add_option("--public-key", sign_public_key, "the holder's public key (base64)");
  auto* sign_public_key_file_opt =
      sign_cmd->add_option("--public-key-file", sign_public_key_file,
                           "a file holding the holder's public key; - for stdin");
  sign_public_key_opt->excludes(sign_public_key_file_opt);
  auto* sign_addresses_opt = sign_cmd->add_option(
      "--addresses", sign_addresses, "overlay addresses, comma-separated: 10.88.0.2/24,fd88::2/64");
  auto* sign_subnets_opt = sign_cmd->add_option(
      "--subnets", sign_subnets, "networks it may route, comma-separated: 10.2.0.0/24");
  auto* sign_groups_opt =
      sign_cmd->add_option("--groups", sign_groups, "groups, comma-separated: dev,ops");
  auto* sign_duration_opt = sign_cmd->add_option(
      "--duration", sign_duration, "lifetime: 3600s, 30m, 8760h or 90d (default 365d)");
  auto* sign_not_before_opt = sign_cmd->add_option("--not-before", sign_not_before,
                                                   "start of validity, Unix seconds (default now)");
  auto* sign_out_opt = sign_cmd->add_option(
      "--out", sign_out, "write the certificate to this file (mode 0644) instead of stdout");

  gw::gwctl::CertShowArgs show_args;
  auto* cert_show_cmd = cert_cmd->add_subcommand("show", "show what a certificate says");
  cert_show_cmd->add_option("FILE", show_args.file, "the certificate; - for stdin");
  cert_show_cmd->add_flag("--json", show_args.json, "print it as a JSON object");

  gw::gwctl::CertVerifyArgs verify_args;
  std::string verify_revoked, verify_public_key, verify_public_key_file, verify_at;
  auto* verify_cmd =
      cert_cmd->add_subcommand("verify", "check a certificate against CAs; print \"valid\"");
  verify_cmd->add_option("FILE", verify_args.file, "the certificate; - for stdin");
  verify_cmd
      ->add_option("--ca", verify_args.ca_files, "a trusted CA's public key file (repeatable)")
      ->allow_extra_args(false);
  auto* verify_revoked_opt =
      verify_cmd->add_option("--revoked", verify_revoked, "a revocation list file");
  auto* verify_public_key_opt = verify_cmd->add_option(
      "--public-key", verify_public_key, "require the certificate to bind this public key");
  auto* verify_public_key_file_opt = verify_cmd->add_option(
      "--public-key-file", verify_public_key_file, "the same from a file; - for stdin");
  verify_public_key_opt->excludes(verify_public_key_file_opt);
  auto* verify_at_opt =
      verify_cmd->add_option("--at", verify_at, "check at this time, Unix seconds (default now)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    // CLI11 repeats a stray argument; a key typed where none belongs (a PSK
    // after an option gwctl does not have) must not reach a terminal or log.
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg(argv[i]);
      if (!gw::config::parse_secret_key(arg)) continue;
      for (auto at = what.find(arg); at != std::string::npos; at = what.find(arg, at)) {
        what.replace(at, arg.size(), "(a key: not shown)");
      }
    }
    std::cerr << "gwctl: " << what << " (see gwctl --help)\n";
    return kUsage;
  }
  if (app.get_subcommands().empty()) {
    return usage(
        "a subcommand is required: genkey, pubkey, genpsk, show, peer, reload, version, ca or "
        "cert (see gwctl --help)");
  }
  if (genkey_cmd->parsed()) return genkey();
  if (pubkey_cmd->parsed()) return pubkey();
  if (genpsk_cmd->parsed()) return genpsk();
  if (ca_cmd->parsed()) {
    if (ca_init_cmd->parsed()) return gw::gwctl::ca_init(ca_init_args);
    if (ca_upgrade_cmd->parsed()) return gw::gwctl::ca_upgrade(ca_upgrade_args);
    if (ca_revoke_cmd->parsed()) {
      return gw::gwctl::ca_revoke({given(revoke_list_opt, revoke_list),
                                   given(revoke_cert_opt, revoke_cert),
                                   given(revoke_fingerprint_opt, revoke_fingerprint)});
    }
    return usage("ca: a subcommand is required: init, revoke or upgrade (see gwctl ca --help)");
  }
  if (cert_cmd->parsed()) {
    const std::int64_t now = std::time(nullptr);
    if (sign_cmd->parsed()) {
      gw::gwctl::CertSignArgs args;
      args.ca_key = given(sign_ca_key_opt, sign_ca_key);
      args.name = given(sign_name_opt, sign_name);
      args.public_key = given(sign_public_key_opt, sign_public_key);
      args.public_key_file = given(sign_public_key_file_opt, sign_public_key_file);
      args.addresses = given(sign_addresses_opt, sign_addresses);
      args.subnets = given(sign_subnets_opt, sign_subnets);
      args.groups = given(sign_groups_opt, sign_groups);
      args.duration = given(sign_duration_opt, sign_duration);
      args.not_before = given(sign_not_before_opt, sign_not_before);
      args.out = given(sign_out_opt, sign_out);
      return gw::gwctl::cert_sign(args, now);
    }
    if (cert_show_cmd->parsed()) return gw::gwctl::cert_show(show_args, now);
    if (verify_cmd->parsed()) {
      verify_args.revoked = given(verify_revoked_opt, verify_revoked);
      verify_args.public_key = given(verify_public_key_opt, verify_public_key);
      verify_args.public_key_file = given(verify_public_key_file_opt, verify_public_key_file);
      verify_args.at = given(verify_at_opt, verify_at);
      return gw::gwctl::cert_verify(verify_args, now);
    }
    return usage("cert: a subcommand is required: sign, show or verify (see gwctl cert --help)");
  }
  if (!run_dir.empty()) to.run_dir = run_dir;

  if (show_cmd->parsed()) {
    if (!iface.empty()) {
      if (auto e = check_interface("show", iface)) return usage(*e);
    }
    return show(to, iface, as_json);
  }
  if (version_cmd->parsed()) {
    if (!iface.empty()) {
      if (auto e = check_interface("version", iface)) return usage(*e);
    }
    return version(to, iface);
  }
  if (reload_cmd->parsed()) {
    if (auto e = check_interface("reload", iface)) return usage(*e);
    return reload(to, iface);
  }
  if (!peer_cmd->parsed()) return kUsage;
  if (peer_cmd->get_subcommands().empty()) {
    return usage(
        "peer: a subcommand is required: list, add, remove or set (see gwctl peer --help)");
  }
  if (list_cmd->parsed()) {
    if (auto e = check_interface("peer list", iface)) return usage(*e);
    return peer_list(to, iface, as_json, certified);
  }
  if (remove_cmd->parsed()) {
    if (auto e = check_interface("peer remove", iface)) return usage(*e);
    if (auto e = check_peer_ref("peer remove", peer_arg)) return usage(*e);
    json request = gw::control::peer_remove_request(peer_arg);
    return exchange(to, iface, request) ? 0 : kFailure;
  }
  if (add_cmd->parsed()) {
    const std::string cmd = "peer add";
    if (auto e = check_interface(cmd, iface)) return usage(*e);
    if (peer_arg.empty()) return usage(cmd + ": NAME is required (see gwctl peer add --help)");
    if (!valid_peer_name(peer_arg)) {
      return usage(cmd + ": \"" + peer_arg +
                   "\" is not a peer name (1 to 64 letters, digits or _ . @ + -)");
    }
    if (!*public_key_opt && !*public_key_file_opt) {
      return usage(cmd + ": --public-key or --public-key-file is required");
    }
    if (public_key_path == "-" && add_options.psk_path == "-") {
      return usage(cmd + ": only one of --public-key-file and --psk-file can be - (stdin)");
    }
    std::optional<gw::crypto::PublicKey> key;
    if (*public_key_opt) {
      key = gw::config::parse_public_key(public_key_text);
      if (!key) {
        return usage(cmd + ": --public-key: expected base64 of a 32-byte key, got \"" +
                     public_key_text + "\"");
      }
    }
    PeerFields fields;
    std::string failure;
    if (auto e = fill_peer_members(cmd, add_options, fields, failure)) return usage(*e);
    // Files last: every usage error is reported before stdin is read.
    if (*public_key_file_opt) {
      if (public_key_path == "-") {
        KeyBuffer buf{};
        const auto text = read_stdin_key_line(buf);
        const auto wrong = wrong_kind_on_stdin(text, gw::config::KeyUse::public_key);
        key = text && !wrong ? gw::config::parse_public_key(*text) : std::nullopt;
        if (!key) {
          failure =
              cmd + ": " + (wrong ? *wrong : "expected a base64 public key of 32 bytes on stdin");
        }
      } else {
        auto loaded = gw::config::load_public_key(public_key_path);
        key = loaded.key;
        if (!key) failure = cmd + ": " + loaded.error;
      }
    }
    if (!failure.empty()) return fail(failure);
    gw::control::NewPeer peer;
    peer.name = peer_arg;
    peer.public_key = *key;
    peer.endpoint = std::move(fields.endpoint);
    peer.allowed_ips = std::move(fields.allowed_ips);
    peer.persistent_keepalive = fields.persistent_keepalive;
    if (fields.psk) peer.psk = fields.psk->bytes();
    json request = gw::control::peer_add_request(peer);
    return exchange(to, iface, request) ? 0 : kFailure;
  }
  if (set_cmd->parsed()) {
    const std::string cmd = "peer set";
    if (auto e = check_interface(cmd, iface)) return usage(*e);
    if (auto e = check_peer_ref(cmd, peer_arg)) return usage(*e);
    if (!*set_options.endpoint && !no_endpoint && !*set_options.allowed_ips &&
        !*set_options.keepalive && !*set_options.psk_file && !no_psk) {
      return usage(cmd +
                   ": nothing to change: give --endpoint, --no-endpoint, --allowed-ips, "
                   "--persistent-keepalive, --psk-file or --no-psk");
    }
    PeerFields fields;
    std::string failure;
    if (auto e = fill_peer_members(cmd, set_options, fields, failure)) return usage(*e);
    if (!failure.empty()) return fail(failure);
    gw::control::PeerUpdate update;
    if (fields.endpoint || no_endpoint) update.endpoint = std::move(fields.endpoint);
    update.allowed_ips = std::move(fields.allowed_ips);
    update.persistent_keepalive = fields.persistent_keepalive;
    if (fields.psk) update.psk = fields.psk->bytes();
    if (no_psk) update.psk = gw::Bytes();
    json request = gw::control::peer_set_request(peer_arg, update);
    return exchange(to, iface, request) ? 0 : kFailure;
  }
  return kUsage;
}
