// SPDX-License-Identifier: MIT
#include "gw/control/status.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::control {

namespace {

using json = nlohmann::json;

json optional_string(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

json counts(const std::map<std::string, std::uint64_t>& m) {
  json j = json::object();
  for (const auto& [reason, n] : m)
    j[reason] = n;
  return j;
}

json peer_json(const PeerStatus& p) {
  return {
      {"name", p.name},
      {"public_key", p.public_key},
      {"endpoint", optional_string(p.endpoint)},
      {"configured_endpoint", optional_string(p.configured_endpoint)},
      {"allowed_ips", p.allowed_ips},
      {"persistent_keepalive", p.persistent_keepalive},
      {"psk", p.psk},
      {"session", p.session},
      {"latest_handshake", p.latest_handshake},
      {"rx_bytes", p.rx_bytes},
      {"tx_bytes", p.tx_bytes},
      {"rx_packets", p.rx_packets},
      {"tx_packets", p.tx_packets},
      {"handshakes", p.handshakes},
      {"suite", optional_string(p.suite)},
      {"handshake_pending_since", p.handshake_pending_since},
      {"handshake_attempts", p.handshake_attempts},
      {"handshake_trouble", optional_string(p.handshake_trouble)},
      {"certificate", optional_string(p.certificate)},
      {"certificate_expires", p.certificate_expires},
  };
}

bool is_plain_key(std::string_view key) noexcept {
  if (key.empty()) return false;
  for (const char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return !(key[0] >= '0' && key[0] <= '9');
}

std::string key_path(const std::string& path, std::string_view key) {
  if (is_plain_key(key)) return path + "." + std::string(key);
  // replace: a key built in memory may hold invalid UTF-8, and the reader never throws.
  return path + "[" + json(std::string(key)).dump(-1, ' ', false, json::error_handler_t::replace) +
         "]";
}

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Reads members of a known type, stopping at the first problem: `error`
// then names its JSON path and what was expected there.
class Reader {
 public:
  explicit Reader(std::string& error) : error_(error) {}

  bool fail(const std::string& path, std::string_view expected) {
    error_ = path + ": expected " + std::string(expected);
    return false;
  }

  bool object(const json& v, const std::string& path) {
    return v.is_object() || fail(path, "an object");
  }

  // obj[key] (obj is an object), or nullptr after reporting it missing.
  const json* member(const json& obj, const std::string& path, std::string_view key,
                     std::string_view expected) {
    const auto it = obj.find(std::string(key));
    if (it == obj.end()) {
      error_ = key_path(path, key) + ": missing (expected " + std::string(expected) + ")";
      return nullptr;
    }
    return &*it;
  }

  bool string(const json& obj, const std::string& path, std::string_view key, std::string& out) {
    const json* v = member(obj, path, key, "a string");
    if (v == nullptr) return false;
    if (!v->is_string()) return fail(key_path(path, key), "a string");
    out = v->get_ref<const std::string&>();
    return true;
  }

  bool optional_string(const json& obj, const std::string& path, std::string_view key,
                       std::optional<std::string>& out) {
    const json* v = member(obj, path, key, "a string or null");
    if (v == nullptr) return false;
    if (v->is_null()) {
      out.reset();
      return true;
    }
    if (!v->is_string()) return fail(key_path(path, key), "a string or null");
    out = v->get_ref<const std::string&>();
    return true;
  }

  bool boolean(const json& obj, const std::string& path, std::string_view key, bool& out) {
    const json* v = member(obj, path, key, "true or false");
    if (v == nullptr) return false;
    if (!v->is_boolean()) return fail(key_path(path, key), "true or false");
    out = v->get<bool>();
    return true;
  }

  bool uint64(const json& v, const std::string& path, std::uint64_t& out) {
    // A json built in memory holds small numbers as signed: accept those too.
    if (v.is_number_unsigned()) {
      out = v.get<std::uint64_t>();
      return true;
    }
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
      out = static_cast<std::uint64_t>(v.get<std::int64_t>());
      return true;
    }
    return fail(path, "an unsigned integer");
  }

  bool uint64(const json& obj, const std::string& path, std::string_view key, std::uint64_t& out) {
    const json* v = member(obj, path, key, "an unsigned integer");
    return v != nullptr && uint64(*v, key_path(path, key), out);
  }

  bool uint16(const json& obj, const std::string& path, std::string_view key, std::uint16_t& out) {
    constexpr std::string_view kExpected = "an integer from 0 to 65535";
    const json* v = member(obj, path, key, kExpected);
    if (v == nullptr) return false;
    std::uint64_t n = 0;
    if (!uint64(*v, key_path(path, key), n) || n > std::numeric_limits<std::uint16_t>::max()) {
      return fail(key_path(path, key), kExpected);
    }
    out = static_cast<std::uint16_t>(n);
    return true;
  }

  bool int64(const json& obj, const std::string& path, std::string_view key, std::int64_t& out) {
    const json* v = member(obj, path, key, "an integer");
    if (v == nullptr) return false;
    if (v->is_number_unsigned()) {
      const auto n = v->get<std::uint64_t>();
      if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return fail(key_path(path, key), "an integer");
      }
      out = static_cast<std::int64_t>(n);
      return true;
    }
    if (!v->is_number_integer()) return fail(key_path(path, key), "an integer");
    out = v->get<std::int64_t>();
    return true;
  }

  bool strings(const json& obj, const std::string& path, std::string_view key,
               std::vector<std::string>& out) {
    const json* v = member(obj, path, key, "an array of strings");
    if (v == nullptr) return false;
    const std::string at = key_path(path, key);
    if (!v->is_array()) return fail(at, "an array of strings");
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (!e.is_string()) return fail(index_path(at, i), "a string");
      out.push_back(e.get_ref<const std::string&>());
    }
    return true;
  }

  bool counts(const json& obj, const std::string& path, std::string_view key,
              std::map<std::string, std::uint64_t>& out) {
    const json* v = member(obj, path, key, "an object of counts");
    if (v == nullptr) return false;
    const std::string at = key_path(path, key);
    if (!v->is_object()) return fail(at, "an object of counts");
    out.clear();
    for (const auto& [reason, n] : v->items()) {
      std::uint64_t count = 0;
      if (!uint64(n, key_path(at, reason), count)) return false;
      out.emplace(reason, count);
    }
    return true;
  }

 private:
  std::string& error_;
};

// Members newer gwds send: absent from an older one's reply, and then left
// at their defaults.
bool read_peer_additions(Reader& r, const json& j, const std::string& path, PeerStatus& p) {
  const auto has = [&](const char* key) { return j.contains(key); };
  return (!has("handshake_pending_since") ||
          r.int64(j, path, "handshake_pending_since", p.handshake_pending_since)) &&
         (!has("handshake_attempts") ||
          r.uint64(j, path, "handshake_attempts", p.handshake_attempts)) &&
         (!has("handshake_trouble") ||
          r.optional_string(j, path, "handshake_trouble", p.handshake_trouble)) &&
         (!has("certificate") || r.optional_string(j, path, "certificate", p.certificate)) &&
         (!has("certificate_expires") ||
          r.int64(j, path, "certificate_expires", p.certificate_expires));
}

bool read_peer(Reader& r, const json& j, const std::string& path, PeerStatus& p) {
  return r.object(j, path) && r.string(j, path, "name", p.name) &&
         r.string(j, path, "public_key", p.public_key) &&
         r.optional_string(j, path, "endpoint", p.endpoint) &&
         r.optional_string(j, path, "configured_endpoint", p.configured_endpoint) &&
         r.strings(j, path, "allowed_ips", p.allowed_ips) &&
         r.uint16(j, path, "persistent_keepalive", p.persistent_keepalive) &&
         r.boolean(j, path, "psk", p.psk) && r.boolean(j, path, "session", p.session) &&
         r.int64(j, path, "latest_handshake", p.latest_handshake) &&
         r.uint64(j, path, "rx_bytes", p.rx_bytes) && r.uint64(j, path, "tx_bytes", p.tx_bytes) &&
         r.uint64(j, path, "rx_packets", p.rx_packets) &&
         r.uint64(j, path, "tx_packets", p.tx_packets) &&
         r.uint64(j, path, "handshakes", p.handshakes) &&
         r.optional_string(j, path, "suite", p.suite) && read_peer_additions(r, j, path, p);
}

bool read_interface(Reader& r, const json& j, const std::string& path, Status& s) {
  return r.object(j, path) && r.string(j, path, "name", s.name) &&
         r.string(j, path, "public_key", s.public_key) &&
         r.uint16(j, path, "listen_port", s.listen_port) && r.uint16(j, path, "mtu", s.mtu) &&
         r.strings(j, path, "addresses", s.addresses) && r.strings(j, path, "suites", s.suites) &&
         r.boolean(j, path, "full_tunnel", s.full_tunnel);
}

bool read_counters(Reader& r, const json& j, const std::string& path, Counters& c) {
  return r.object(j, path) && r.counts(j, path, "dropped", c.dropped) &&
         r.counts(j, path, "handshakes_failed", c.handshakes_failed) &&
         r.uint64(j, path, "cookie_replies_sent", c.cookie_replies_sent) &&
         r.uint64(j, path, "sessions_active", c.sessions_active);
}

}  // namespace

json to_json(const Status& status) {
  json peers = json::array();
  for (const PeerStatus& p : status.peers)
    peers.push_back(peer_json(p));
  return {
      {"interface",
       {
           {"name", status.name},
           {"public_key", status.public_key},
           {"listen_port", status.listen_port},
           {"mtu", status.mtu},
           {"addresses", status.addresses},
           {"suites", status.suites},
           {"full_tunnel", status.full_tunnel},
       }},
      {"time", status.time},
      {"peers", std::move(peers)},
      {"counters",
       {
           {"dropped", counts(status.counters.dropped)},
           {"handshakes_failed", counts(status.counters.handshakes_failed)},
           {"cookie_replies_sent", status.counters.cookie_replies_sent},
           {"sessions_active", status.counters.sessions_active},
       }},
  };
}

std::optional<Status> status_from_json(const json& j, std::string& error) {
  Reader r(error);
  Status s;
  if (!r.object(j, "$")) return std::nullopt;
  const json* interface = r.member(j, "$", "interface", "an object");
  if (interface == nullptr || !read_interface(r, *interface, "$.interface", s)) return std::nullopt;
  if (!r.int64(j, "$", "time", s.time)) return std::nullopt;
  const json* peers = r.member(j, "$", "peers", "an array of peers");
  if (peers == nullptr) return std::nullopt;
  if (!peers->is_array()) {
    r.fail("$.peers", "an array of peers");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < peers->size(); ++i) {
    PeerStatus p;
    if (!read_peer(r, (*peers)[i], index_path("$.peers", i), p)) return std::nullopt;
    s.peers.push_back(std::move(p));
  }
  const json* counters = r.member(j, "$", "counters", "an object");
  if (counters == nullptr || !read_counters(r, *counters, "$.counters", s.counters)) {
    return std::nullopt;
  }
  error.clear();
  return s;
}

}  // namespace gw::control
