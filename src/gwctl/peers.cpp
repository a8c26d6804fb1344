// SPDX-License-Identifier: MIT
// gwctl's peer commands, as `wg set` users expect them:
//   gwctl peer list IFACE [--json] [--certified]
//   gwctl peer add IFACE NAME (--public-key KEY | --public-key-file FILE) [--endpoint HOST:PORT]
//                  [--allowed-ips LIST] [--persistent-keepalive SECONDS] [--psk-file FILE]
//   gwctl peer remove IFACE PEER
//   gwctl peer set IFACE PEER [--endpoint HOST:PORT | --no-endpoint] [--allowed-ips LIST]
//                  [--persistent-keepalive SECONDS] [--psk-file FILE | --no-psk]
// Every usage error is reported before a file (or stdin) is read, and every
// argument is checked before gwd is contacted.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "command.hpp"
#include "exit.hpp"
#include "format.hpp"
#include "gw/config/config.hpp"
#include "gw/control/request_builder.hpp"
#include "key_input.hpp"

namespace gw::gwctl {

namespace {

using nlohmann::json;

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

// What the options of peer add and peer set give, checked; the PSK is read
// later (read_peer_psk), after every usage error.
struct PeerFields {
  std::optional<std::string> endpoint;
  std::optional<std::vector<std::string>> allowed_ips;
  std::optional<std::uint16_t> persistent_keepalive;
};

// Checks the given options into `fields`; returns a usage error's line.
std::optional<std::string> check_peer_fields(const std::string& cmd, const PeerOptions& o,
                                             PeerFields& fields) {
  if (*o.endpoint) {
    if (!config::parse_host_port(o.endpoint_text)) {
      return cmd + ": --endpoint: expected HOST:PORT or [IPV6]:PORT with a port 1..65535, got \"" +
             o.endpoint_text + "\"";
    }
    fields.endpoint = o.endpoint_text;
  }
  if (*o.allowed_ips) {
    std::string bad;
    auto list = parse_allowed_ips(o.allowed_ips_text, bad);
    if (!list) return cmd + ": --allowed-ips: expected ADDRESS/LENGTH, got \"" + bad + "\"";
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
  return std::nullopt;
}

// --psk-file's key when it was given; `error` says why it could not be read.
std::optional<SecretKey> read_peer_psk(const PeerOptions& o, std::string& error) {
  if (!*o.psk_file) return std::nullopt;
  return read_psk(o.psk_path, error);
}

// --- peer list

struct ListArgs {
  std::string iface;
  bool json = false;
  bool certified = false;
};

int peer_list(const Connection& to, const ListArgs& args) {
  const std::string& iface = args.iface;
  if (auto e = check_interface("peer list", iface)) return usage(*e);
  json request = control::peer_list_request(args.certified);
  const Reply reply = call(to, iface, request);
  if (!reply) return fail(reply.error);
  if (!reply.json.contains("peers")) return fail("gwd for " + iface + " sent no \"peers\"");
  const json& peers = reply.json["peers"];
  std::string error;
  const auto text = peer_list_text(peers, error);
  if (!text) return fail("gwd for " + iface + " sent a peer list gwctl cannot read: " + error);
  return print(args.json ? peers.dump(2) + "\n" : *text) ? 0 : kFailure;
}

// --- peer add

struct AddArgs {
  std::string iface, name, public_key_text, public_key_path;
  CLI::Option* public_key = nullptr;
  CLI::Option* public_key_file = nullptr;
  PeerOptions options;
};

// Every usage error of peer add: its line, or nullopt; the --public-key's
// key into `key`.
std::optional<std::string> check_add(const AddArgs& args, std::optional<crypto::PublicKey>& key,
                                     PeerFields& fields) {
  const std::string cmd = "peer add";
  if (auto e = check_interface(cmd, args.iface)) return e;
  if (args.name.empty()) return cmd + ": NAME is required (see gwctl peer add --help)";
  if (!valid_peer_name(args.name)) {
    return cmd + ": \"" + args.name +
           "\" is not a peer name (1 to 64 letters, digits or _ . @ + -)";
  }
  if (!*args.public_key && !*args.public_key_file) {
    return cmd + ": --public-key or --public-key-file is required";
  }
  if (args.public_key_path == "-" && args.options.psk_path == "-") {
    return cmd + ": only one of --public-key-file and --psk-file can be - (stdin)";
  }
  if (*args.public_key) {
    key = config::parse_public_key(args.public_key_text);
    if (!key) {
      return cmd + ": --public-key: expected base64 of a 32-byte key, got \"" +
             args.public_key_text + "\"";
    }
  }
  return check_peer_fields(cmd, args.options, fields);
}

int peer_add(const Connection& to, const AddArgs& args) {
  std::optional<crypto::PublicKey> key;
  PeerFields fields;
  if (auto e = check_add(args, key, fields)) return usage(*e);
  // Files last: every usage error is reported before stdin is read. When
  // both fail, the public key's error is the one reported.
  std::string psk_error, key_error;
  const auto psk = read_peer_psk(args.options, psk_error);
  if (*args.public_key_file) key = read_public_key(args.public_key_path, key_error);
  if (!key_error.empty()) return fail("peer add: " + key_error);
  if (!psk_error.empty()) return fail("peer add: " + psk_error);

  control::NewPeer peer;
  peer.name = args.name;
  peer.public_key = *key;
  peer.endpoint = std::move(fields.endpoint);
  peer.allowed_ips = std::move(fields.allowed_ips);
  peer.persistent_keepalive = fields.persistent_keepalive;
  if (psk) peer.psk = psk->bytes();
  json request = control::peer_add_request(peer);
  const Reply reply = call(to, args.iface, request);
  return reply ? 0 : fail(reply.error);
}

// --- peer remove

struct RemoveArgs {
  std::string iface, peer;
};

int peer_remove(const Connection& to, const RemoveArgs& args) {
  if (auto e = check_interface("peer remove", args.iface)) return usage(*e);
  if (auto e = check_peer_ref("peer remove", args.peer)) return usage(*e);
  json request = control::peer_remove_request(args.peer);
  const Reply reply = call(to, args.iface, request);
  return reply ? 0 : fail(reply.error);
}

// --- peer set

struct SetArgs {
  std::string iface, peer;
  PeerOptions options;
  bool no_endpoint = false;
  bool no_psk = false;
};

std::optional<std::string> check_set(const SetArgs& args, PeerFields& fields) {
  const std::string cmd = "peer set";
  if (auto e = check_interface(cmd, args.iface)) return e;
  if (auto e = check_peer_ref(cmd, args.peer)) return e;
  const PeerOptions& o = args.options;
  if (!*o.endpoint && !args.no_endpoint && !*o.allowed_ips && !*o.keepalive && !*o.psk_file &&
      !args.no_psk) {
    return cmd +
           ": nothing to change: give --endpoint, --no-endpoint, --allowed-ips, "
           "--persistent-keepalive, --psk-file or --no-psk";
  }
  return check_peer_fields(cmd, o, fields);
}

int peer_set(const Connection& to, const SetArgs& args) {
  PeerFields fields;
  if (auto e = check_set(args, fields)) return usage(*e);
  std::string error;
  const auto psk = read_peer_psk(args.options, error);
  if (!error.empty()) return fail("peer set: " + error);

  control::PeerUpdate update;
  if (fields.endpoint || args.no_endpoint) update.endpoint = std::move(fields.endpoint);
  update.allowed_ips = std::move(fields.allowed_ips);
  update.persistent_keepalive = fields.persistent_keepalive;
  if (psk) update.psk = psk->bytes();
  if (args.no_psk) update.psk = Bytes();
  json request = control::peer_set_request(args.peer, update);
  const Reply reply = call(to, args.iface, request);
  return reply ? 0 : fail(reply.error);
}

// --- Registration

struct PeerCommands {
  CLI::App* list = nullptr;
  CLI::App* add = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* set = nullptr;
  ListArgs list_args;
  AddArgs add_args;
  RemoveArgs remove_args;
  SetArgs set_args;
};

void add_list(CLI::App* peer, PeerCommands& c) {
  c.list = peer->add_subcommand("list", "list the configured peers");
  c.list->add_option("IFACE", c.list_args.iface, "the interface");
  c.list->add_flag("--json", c.list_args.json, "print the peers as a JSON array");
  c.list->add_flag("--certified", c.list_args.certified,
                   "the peers admitted by certificate (not in the config file), with each "
                   "certificate's fingerprint and end");
}

void add_add(CLI::App* peer, PeerCommands& c) {
  AddArgs& a = c.add_args;
  c.add = peer->add_subcommand("add", "add a peer and save it to the config");
  c.add->add_option("IFACE", a.iface, "the interface");
  c.add->add_option("NAME", a.name, "the new peer's name");
  a.public_key =
      c.add->add_option("--public-key", a.public_key_text, "the peer's public key (base64)");
  a.public_key_file = c.add->add_option("--public-key-file", a.public_key_path,
                                        "a file holding the peer's public key; - for stdin");
  a.public_key->excludes(a.public_key_file);
  add_peer_options(c.add, a.options);
}

void add_remove(CLI::App* peer, PeerCommands& c) {
  c.remove = peer->add_subcommand("remove", "remove a peer and wipe its keys");
  c.remove->add_option("IFACE", c.remove_args.iface, "the interface");
  c.remove->add_option("PEER", c.remove_args.peer, "the peer's name or public key");
}

void add_set(CLI::App* peer, PeerCommands& c) {
  SetArgs& s = c.set_args;
  c.set = peer->add_subcommand("set", "change a peer in place");
  c.set->add_option("IFACE", s.iface, "the interface");
  c.set->add_option("PEER", s.peer, "the peer's name or public key");
  add_peer_options(c.set, s.options);
  s.options.endpoint->excludes(
      c.set->add_flag("--no-endpoint", s.no_endpoint, "forget the configured endpoint"));
  s.options.psk_file->excludes(c.set->add_flag("--no-psk", s.no_psk, "remove the pre-shared key"));
}

int run_peer(const Connection& to, const CLI::App& peer, const PeerCommands& c) {
  if (peer.get_subcommands().empty()) {
    return usage(
        "peer: a subcommand is required: list, add, remove or set (see gwctl peer --help)");
  }
  if (c.list->parsed()) return peer_list(to, c.list_args);
  if (c.remove->parsed()) return peer_remove(to, c.remove_args);
  if (c.add->parsed()) return peer_add(to, c.add_args);
  if (c.set->parsed()) return peer_set(to, c.set_args);
  return kUsage;
}

}  // namespace

void add_peer_commands(CLI::App& app, const Connection& to, Commands& out) {
  auto* peer = app.add_subcommand("peer", "list, add, remove and change peers");
  peer->require_subcommand(0, 1);
  auto c = std::make_shared<PeerCommands>();
  add_list(peer, *c);
  add_add(peer, *c);
  add_remove(peer, *c);
  add_set(peer, *c);
  out.push_back({peer, [&to, peer, c] { return run_peer(to, *peer, *c); }});
}

}  // namespace gw::gwctl
