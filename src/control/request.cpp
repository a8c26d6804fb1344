// SPDX-License-Identifier: MIT
#include "gw/control/request.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <sodium.h>

#include "gw/config/key_file.hpp"
#include "gw/control/wipe_heap.hpp"

namespace gw::control {
namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, Command>, 7> kCommands{{
    {"version", Command::version},
    {"show", Command::show},
    {"peer.list", Command::peer_list},
    {"peer.add", Command::peer_add},
    {"peer.remove", Command::peer_remove},
    {"peer.set", Command::peer_set},
    {"reload", Command::reload},
}};

Error bad(std::string message) {
  return {"bad_request", std::move(message)};
}

std::string describe(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Every member of `obj` must be one of `known`.
std::optional<Error> check_members(const json& obj, std::string_view path,
                                   std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    (void)value;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const std::string_view k : known)
        list += std::string(list.empty() ? "" : ", ") + std::string(k);
      return bad(std::string(path) + ": unknown member " + describe(json(key)) +
                 (known.size() != 0 ? " (expected " + list + ")" : " (it takes none)"));
    }
  }
  return std::nullopt;
}

// Overwrites, in place, the text of every "psk" member in `v` and below it.
void wipe_psks(json& v) noexcept {
  if (v.is_object()) {
    for (auto& [key, value] : v.items()) {
      if (key == "psk" && value.is_string()) {
        std::string& text = value.get_ref<std::string&>();
        sodium_memzero(text.data(), text.size());
      } else {
        wipe_psks(value);
      }
    }
  } else if (v.is_array()) {
    for (json& e : v)
      wipe_psks(e);
  }
}

// The request's PSKs are wiped whichever way parse_request returns.
struct WipePsks {
  json& request;
  ~WipePsks() { wipe_psks(request); }
};

std::variant<crypto::LockedKey, Error> psk_value(const json& v, std::string_view path,
                                                 bool null_ok) {
  if (null_ok && v.is_null()) return crypto::LockedKey();
  if (v.is_string()) {
    if (auto key = config::parse_secret_key(v.get_ref<const std::string&>())) {
      return crypto::LockedKey(key->bytes());  // `key` wipes itself
    }
  }
  // The value is not echoed: it may be a key with a typo.
  return bad(std::string(path) + ": expected base64 of a 32-byte key" +
             (null_ok ? " or null" : ""));
}

// A peer object, checked by the config file's own rules: it is parsed as the
// one peer of a minimal config, and the errors' paths are renamed.
std::variant<config::Peer, Error> peer_value(json obj) {
  if (!obj.is_object()) return bad("$.peer: expected a peer object, got " + describe(obj));
  for (const char* file_key : {"public_key_file", "psk_file"}) {
    if (obj.contains(file_key)) {
      return bad(std::string("$.peer.") + file_key +
                 ": file names are not taken here (the client reads the file and sends the key)");
    }
  }
  obj.erase("psk");
  const json wrapper = {
      {"name", "gw0"}, {"private_key_file", "key"}, {"peers", json::array({obj})}};
  const config::ParseResult r =
      config::parse_config(wrapper.dump(-1, ' ', false, json::error_handler_t::replace), "");
  if (!r) {
    std::string message;
    for (std::string e : r.errors) {
      constexpr std::string_view kFrom = ": $.peers[0]";
      if (e.starts_with(kFrom)) e = "$.peer" + e.substr(kFrom.size());
      message += (message.empty() ? "" : "; ") + e;
    }
    return bad(message);
  }
  return std::move(r.config->peers.front());
}

std::variant<PeerChanges, Error> changes_value(const json& obj) {
  if (!obj.is_object()) return bad("$.set: expected an object of changes, got " + describe(obj));
  if (auto e =
          check_members(obj, "$.set", {"endpoint", "allowed_ips", "persistent_keepalive", "psk"})) {
    return *e;
  }
  PeerChanges c;
  if (const auto it = obj.find("endpoint"); it != obj.end()) {
    if (it->is_null()) {
      c.endpoint.emplace();
    } else {
      const auto hp = it->is_string() ? config::parse_host_port(it->get_ref<const std::string&>())
                                      : std::nullopt;
      if (!hp) {
        return bad("$.set.endpoint: expected \"host:port\", \"[v6]:port\" or null, got " +
                   describe(*it));
      }
      c.endpoint.emplace(*hp);
    }
  }
  if (const auto it = obj.find("allowed_ips"); it != obj.end()) {
    if (!it->is_array()) {
      return bad("$.set.allowed_ips: expected an array of prefixes, got " + describe(*it));
    }
    std::vector<std::string> list;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& e = (*it)[i];
      if (!e.is_string() || !config::valid_prefix(e.get_ref<const std::string&>())) {
        return bad("$.set.allowed_ips[" + std::to_string(i) +
                   "]: expected an IPv4 or IPv6 prefix like \"10.77.0.0/24\", got " + describe(e));
      }
      list.push_back(e.get<std::string>());
    }
    c.allowed_ips = std::move(list);
  }
  if (const auto it = obj.find("persistent_keepalive"); it != obj.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 65535) {
      return bad("$.set.persistent_keepalive: expected seconds from 0 to 65535, got " +
                 describe(*it));
    }
    c.persistent_keepalive = static_cast<std::uint16_t>(it->get<std::uint64_t>());
  }
  if (const auto it = obj.find("psk"); it != obj.end()) {
    auto v = psk_value(*it, "$.set.psk", true);
    if (auto* e = std::get_if<Error>(&v)) return std::move(*e);
    c.psk.emplace(std::move(std::get<0>(v)));
  }
  if (c.empty()) return bad("$.set: expected at least one change");
  return c;
}

std::optional<Error> peer_name_value(const json& req, Request& out) {
  const auto it = req.find("peer");
  if (it == req.end()) return bad("$.peer: expected a peer's name or public key (required)");
  if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > 128) {
    return bad("$.peer: expected a peer's name or public key, got " + describe(*it));
  }
  out.peer = it->get<std::string>();
  return std::nullopt;
}

}  // namespace

const char* to_string(Command c) noexcept {
  for (const auto& [name, command] : kCommands) {
    if (command == c) return name.data();
  }
  return "?";
}

std::variant<Request, Error> parse_request(std::string_view line) {
  if (line.size() >= kMaxRequestLine) {
    return Error{"too_large", "a request line is at most " + std::to_string(kMaxRequestLine) +
                                  " bytes, newline included"};
  }
  // The lexer's buffers hold a PSK's text too, and are freed inside parse().
  const WipeFreedMemory wiping;
  // Containers deeper than kMaxDepth are skipped by the (iterative) parser,
  // so that nothing after it recurses once per level of a hostile line.
  bool too_deep = false;
  const auto bound = [&too_deep](int depth, json::parse_event_t event, json& /*parsed*/) {
    const bool opens =
        event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= static_cast<int>(kMaxDepth)) {
      too_deep = true;
      return false;
    }
    return true;
  };
  json req = json::parse(line.begin(), line.end(), bound, false);
  const WipePsks wipe_at_return{req};
  if (too_deep) {
    return Error{"bad_json",
                 "the request nests deeper than " + std::to_string(kMaxDepth) + " levels"};
  }
  if (req.is_discarded()) return Error{"bad_json", "the request is not valid JSON"};
  if (!req.is_object()) return Error{"bad_json", "expected a JSON object, got " + describe(req)};

  const auto version = req.find("version");
  if (version == req.end() || !version->is_number_integer() ||
      version->get<std::int64_t>() != kProtocolVersion) {
    return Error{"unsupported_version",
                 "$.version: expected " + std::to_string(kProtocolVersion) +
                     " (the protocol versions gwd speaks: 1), got " +
                     (version == req.end() ? std::string("nothing") : describe(*version))};
  }
  const auto command = req.find("command");
  std::string list;
  for (const auto& [name, c] : kCommands)
    list += std::string(list.empty() ? "" : ", ") + std::string(name);
  if (command == req.end() || !command->is_string()) {
    return Error{"unknown_command",
                 "$.command: expected one of " + list + ", got " +
                     (command == req.end() ? std::string("nothing") : describe(*command))};
  }
  Request out;
  const std::string& name = command->get_ref<const std::string&>();
  const auto known = std::find_if(kCommands.begin(), kCommands.end(),
                                  [&](const auto& entry) { return entry.first == name; });
  if (known == kCommands.end()) {
    return Error{"unknown_command",
                 "$.command: expected one of " + list + ", got " + describe(*command)};
  }
  out.command = known->second;

  switch (out.command) {
    case Command::version:
    case Command::show:
    case Command::reload:
      if (auto e = check_members(req, "$", {"version", "command"})) return *e;
      break;
    case Command::peer_list:
      if (auto e = check_members(req, "$", {"version", "command", "certified"})) return *e;
      if (const auto it = req.find("certified"); it != req.end()) {
        if (!it->is_boolean())
          return bad("$.certified: expected true or false, got " + describe(*it));
        out.certified = it->get<bool>();
      }
      break;
    case Command::peer_add: {
      if (auto e = check_members(req, "$", {"version", "command", "peer"})) return *e;
      const auto it = req.find("peer");
      if (it == req.end()) return bad("$.peer: expected a peer object (required)");
      if (it->is_object() && it->contains("psk")) {
        auto v = psk_value((*it)["psk"], "$.peer.psk", false);
        wipe_psks(*it);  // before the peer object moves out of `req`
        if (auto* e = std::get_if<Error>(&v)) return std::move(*e);
        out.psk = std::move(std::get<0>(v));
      }
      auto peer = peer_value(std::move(*it));
      if (auto* e = std::get_if<Error>(&peer)) return std::move(*e);
      out.new_peer = std::move(std::get<config::Peer>(peer));
      break;
    }
    case Command::peer_remove:
      if (auto e = check_members(req, "$", {"version", "command", "peer"})) return *e;
      if (auto e = peer_name_value(req, out)) return *e;
      break;
    case Command::peer_set: {
      if (auto e = check_members(req, "$", {"version", "command", "peer", "set"})) return *e;
      if (auto e = peer_name_value(req, out)) return *e;
      const auto it = req.find("set");
      if (it == req.end()) return bad("$.set: expected an object of changes (required)");
      auto changes = changes_value(*it);
      if (auto* e = std::get_if<Error>(&changes)) return std::move(*e);
      out.changes = std::move(std::get<PeerChanges>(changes));
      break;
    }
  }
  return out;
}

std::string error_reply(const Error& error) {
  const json j = {{"version", kProtocolVersion},
                  {"ok", false},
                  {"error", error.code},
                  {"message", error.message}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string ok_reply(json members) {
  json j = {{"version", kProtocolVersion}, {"ok", true}};
  if (members.is_object()) {
    for (auto& [k, v] : members.items())
      j[k] = std::move(v);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace gw::control
