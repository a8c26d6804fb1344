// SPDX-License-Identifier: MIT
#include "gw/config/config.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <utility>

#include "gw/routing/allowed_ips.hpp"

namespace gw::config {

namespace {

using json = nlohmann::json;
using Family = session::Endpoint::Family;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal digits only, no sign, no leading zero (except "0"), value <= max.
std::optional<std::uint32_t> parse_decimal(std::string_view s, std::uint32_t max) noexcept {
  if (s.empty() || s.size() > 5) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  std::uint32_t v = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

bool parse_ipv4(std::string_view s, std::array<std::uint8_t, 4>& out) noexcept {
  std::size_t part = 0;
  while (true) {
    const std::size_t dot = s.find('.');
    const std::string_view tok = s.substr(0, dot);
    if (tok.size() > 3) return false;
    const auto v = parse_decimal(tok, 255);
    if (!v || part >= 4) return false;
    out[part++] = static_cast<std::uint8_t>(*v);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return part == 4;
}

bool parse_ipv6(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept {
  if (s.size() < 2 || s.size() > 45) return false;
  std::array<std::uint16_t, 8> groups{};
  std::size_t n = 0;
  std::ptrdiff_t gap = -1;  // where "::" stands, in groups
  std::size_t i = 0;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    gap = 0;
    i = 2;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] != ':')
      ++j;
    const std::string_view tok = s.substr(i, j - i);
    if (tok.empty()) return false;
    if (tok.find('.') != std::string_view::npos) {  // a trailing dotted quad
      std::array<std::uint8_t, 4> v4{};
      if (j != s.size() || n > 6 || !parse_ipv4(tok, v4)) return false;
      groups[n++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
      groups[n++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
      break;
    }
    if (tok.size() > 4 || n >= 8) return false;
    unsigned v = 0;
    for (const char c : tok) {
      const int h = hex_value(c);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    groups[n++] = static_cast<std::uint16_t>(v);
    if (j == s.size()) break;
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (gap >= 0) return false;
      gap = static_cast<std::ptrdiff_t>(n);
      i = j + 2;
    } else {
      i = j + 1;
      if (i == s.size()) return false;  // a trailing single ':'
    }
  }
  if (gap < 0) {
    if (n != 8) return false;
  } else {
    if (n > 7) return false;  // "::" stands for at least one group
    const auto g = static_cast<std::size_t>(gap);
    const std::size_t tail = n - g;
    std::array<std::uint16_t, 8> full{};
    std::copy_n(groups.begin(), g, full.begin());
    std::copy_n(groups.begin() + static_cast<std::ptrdiff_t>(g), tail,
                full.end() - static_cast<std::ptrdiff_t>(tail));
    groups = full;
  }
  for (std::size_t k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(groups[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(groups[k]);
  }
  return true;
}

bool valid_dns_name(std::string_view s) noexcept {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  std::string_view last;
  while (true) {
    const std::size_t dot = s.find('.');
    const std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  // An all-digit last label is a mistyped IPv4 address ("300.1.1.1"), not a name.
  return !std::all_of(last.begin(), last.end(), is_digit);
}

bool all_of_chars(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return is_alpha(c) || is_digit(c) || extra.find(c) != std::string_view::npos;
  });
}

bool valid_interface_name(std::string_view s) {
  return !s.empty() && s.size() <= kMaxInterfaceName && s != "." && s != ".." &&
         all_of_chars(s, "_.-");
}

bool valid_account_name(std::string_view s) {
  return !s.empty() && s.size() <= 32 && s.front() != '-' && all_of_chars(s, "_.-");
}

bool valid_peer_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && all_of_chars(s, "_.@+-");
}

bool valid_file_name(std::string_view s) {
  return !s.empty() && s.size() <= 4096 && s.find('\0') == std::string_view::npos;
}

const char* const kSuiteNames = "ChaChaPoly_BLAKE2b, AESGCM_SHA256 or ChaChaPoly_SHA256";

std::optional<std::uint8_t> suite_id(std::string_view name) {
  for (std::uint8_t id = 1; id <= 3; ++id) {
    const char* n = session::suite_name(id);
    if (n != nullptr && name == n) return id;
  }
  return std::nullopt;
}

std::string dump(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// What a value is, for "got ...": short, and never a whole object.
std::string describe(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return v.empty() ? "{}" : "an object";
    case json::value_t::array:
      return v.empty() ? "[]" : "an array";
    case json::value_t::null:
      return "null";
    case json::value_t::discarded:
      return "nothing";
    default:
      break;
  }
  std::string d = dump(v);
  if (d.size() > 80) d = d.substr(0, 77) + "...";
  return d;
}

std::string key_path(const std::string& path, std::string_view key) {
  const bool plain = !key.empty() && (is_alpha(key[0]) || key[0] == '_') && all_of_chars(key, "_");
  if (plain) return path + "." + std::string(key);
  return path + "[" + dump(json(std::string(key))) + "]";
}

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

class Checker {
 public:
  Checker(std::string_view file, std::vector<std::string>& errors) : file_(file), errors_(errors) {}

  void fail(const std::string& path, std::string_view expected, std::string_view got) {
    errors_.push_back(file_ + ": " + path + ": expected " + std::string(expected) + ", got " +
                      std::string(got));
  }
  void fail_value(const std::string& path, std::string_view expected, const json& v) {
    fail(path, expected, describe(v));
  }

  // Reports every key of `obj` not in `known`.
  void check_keys(const json& obj, const std::string& path,
                  std::initializer_list<std::string_view> known) {
    std::string list;
    for (const std::string_view k : known) {
      if (!list.empty()) list += ", ";
      list += k;
    }
    for (const auto& [key, value] : obj.items()) {
      (void)value;
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(key_path(path, key), "one of the keys " + list, "unknown key " + dump(json(key)));
      }
    }
  }

  // obj[key] or nullptr; a missing required key is an error.
  const json* field(const json& obj, const std::string& path, std::string_view key,
                    std::string_view expected_if_missing) {
    const auto it = obj.find(std::string(key));
    if (it == obj.end()) {
      if (!expected_if_missing.empty()) {
        fail(key_path(path, key), std::string(expected_if_missing) + " (required)", "nothing");
      }
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> string_value(const json& v, const std::string& path,
                                          std::string_view expected,
                                          bool (*valid)(std::string_view)) {
    if (!v.is_string() || !valid(v.get_ref<const std::string&>())) {
      fail_value(path, expected, v);
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<std::uint32_t> integer_value(const json& v, const std::string& path,
                                             std::uint32_t min, std::uint32_t max,
                                             std::string_view what) {
    const std::string expected =
        std::string(what) + " from " + std::to_string(min) + " to " + std::to_string(max);
    if (v.is_number_unsigned()) {
      const auto x = v.get<std::uint64_t>();
      if (x >= min && x <= max) return static_cast<std::uint32_t>(x);
    }
    fail_value(path, expected, v);
    return std::nullopt;
  }

  // The elements of an array of strings, each checked with `valid`.
  std::vector<std::string> string_list(const json& v, const std::string& path,
                                       std::string_view expected_each,
                                       bool (*valid)(std::string_view)) {
    std::vector<std::string> out;
    if (!v.is_array()) {
      fail_value(path, "an array of " + std::string(expected_each) + "s", v);
      return out;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (auto s = string_value(v[i], index_path(path, i), expected_each, valid)) {
        out.push_back(std::move(*s));
      }
    }
    return out;
  }

  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
  std::vector<std::string>& errors_;
};

constexpr const char* kPrefixExpected =
    "an IPv4 or IPv6 prefix like \"10.77.0.0/24\" or \"fd77::/64\"";

// The network a prefix names (host bits cleared), as a map key.
std::array<std::uint8_t, 18> network_key(const routing::Prefix& p) {
  const routing::Prefix m = p.masked();
  std::array<std::uint8_t, 18> k{};
  k[0] = static_cast<std::uint8_t>(m.family);
  k[1] = m.length;
  std::copy(m.address.begin(), m.address.end(), k.begin() + 2);
  return k;
}

// Object keys seen twice and the JSON path of each, during parsing: nlohmann
// keeps the last of two equal keys silently.
class DuplicateKeys {
 public:
  explicit DuplicateKeys(Checker& c) : c_(c) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    // Inside a container skipped for its depth, nlohmann still reports the
    // starts and keys below it (nothing else): ignored here.
    if (static_cast<std::size_t>(depth) > stack_.size()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (stack_.size() >= kMaxConfigDepth) {
          c_.fail(child_path(),
                  "at most " + std::to_string(kMaxConfigDepth) + " nested objects and arrays",
                  "more");
          too_deep_ = true;
          return false;  // skipped whole by the parser, which does not recurse
        }
        stack_.push_back(Frame{child_path(), event == json::parse_event_t::array_start, 0, {}, {}});
        break;
      case json::parse_event_t::key:
        if (!stack_.empty() && parsed.is_string()) {
          Frame& f = stack_.back();
          f.key = parsed.get<std::string>();
          if (!f.keys.insert(f.key).second) {
            c_.fail(key_path(f.path, f.key), "each key once in an object", "it again");
          }
        }
        break;
      case json::parse_event_t::value:
        element_done();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack_.empty()) stack_.pop_back();
        element_done();
        break;
    }
    return true;
  }
  // Whether a container nested too deep was skipped (and reported).
  bool too_deep() const noexcept { return too_deep_; }

 private:
  struct Frame {
    std::string path;
    bool array;
    std::size_t index;
    std::string key;
    std::set<std::string> keys;
  };

  std::string child_path() const {
    if (stack_.empty()) return "$";
    const Frame& f = stack_.back();
    return f.array ? index_path(f.path, f.index) : key_path(f.path, f.key);
  }
  void element_done() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
  }

  Checker& c_;
  std::vector<Frame> stack_;
  bool too_deep_ = false;
};

void syntax_error(Checker& c, std::vector<std::string>& errors, std::string_view text,
                  const json::exception& e, std::size_t byte) {
  // nlohmann counts `byte` from 1: the position of the last character read,
  // one past the end when the input ended too soon.
  const std::size_t offset = byte == 0 ? 0 : byte - 1;
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const std::size_t column = offset - line_start + 1;
  std::string what = e.what();
  const std::size_t colon = what.find(": ");
  if (colon != std::string::npos) what = what.substr(colon + 2);
  errors.push_back(c.file() + ": line " + std::to_string(line) + ", column " +
                   std::to_string(column) + ": expected valid JSON, got " + what);
}

}  // namespace

std::optional<session::Endpoint> parse_ip_address(std::string_view text, std::uint16_t port) {
  if (text.find(':') != std::string_view::npos) {
    std::array<std::uint8_t, 16> a{};
    if (!parse_ipv6(text, a)) return std::nullopt;
    return session::Endpoint::ipv6(a, port);
  }
  std::array<std::uint8_t, 4> a{};
  if (!parse_ipv4(text, a)) return std::nullopt;
  return session::Endpoint::ipv4(a, port);
}

bool valid_prefix(std::string_view text) noexcept {
  return text.find('/') != std::string_view::npos && routing::Prefix::parse(text).has_value();
}

std::string HostPort::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto port = parse_decimal(text.substr(colon + 1), 65535);
  if (!port || *port == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  HostPort hp;
  hp.port = static_cast<std::uint16_t>(*port);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    std::array<std::uint8_t, 16> a{};
    if (!parse_ipv6(host, a)) return std::nullopt;
    hp.address = session::Endpoint::ipv6(a, hp.port);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // IPv6 needs brackets
  } else {
    std::array<std::uint8_t, 4> a{};
    if (parse_ipv4(host, a)) {
      hp.address = session::Endpoint::ipv4(a, hp.port);
    } else if (!valid_dns_name(host)) {
      return std::nullopt;
    }
  }
  hp.host = std::string(host);
  return hp;
}

ParseResult parse_config(std::string_view text, std::string_view file_name) {
  ParseResult r;
  Checker c(file_name, r.errors);
  if (text.size() > kMaxConfigSize) {
    c.fail("$", "a config of at most " + std::to_string(kMaxConfigSize) + " bytes",
           std::to_string(text.size()) + " bytes");
    return r;
  }
  json root;
  try {
    DuplicateKeys dup(c);
    root = json::parse(text.begin(), text.end(), std::ref(dup), true, false);
    if (dup.too_deep()) return r;  // the rest would see holes where it was skipped
  } catch (const json::parse_error& e) {
    r.errors.clear();  // duplicate keys seen before the syntax error do not matter
    syntax_error(c, r.errors, text, e, e.byte);
    return r;
  } catch (const json::exception& e) {
    r.errors.clear();
    syntax_error(c, r.errors, text, e, text.size());
    return r;
  }
  if (!root.is_object()) {
    c.fail_value("$", "an object", root);
    return r;
  }
  InterfaceConfig cfg;
  c.check_keys(
      root, "$",
      {"name", "private_key_file", "listen_port", "addresses", "mtu", "suites", "user", "group",
       "control_group", "metrics_port", "certificate_file", "trusted_cas", "revocation_file",
       "certificate_exit_nodes", "network_key_file", "under_load_threshold", "peers"});

  if (const json* v = c.field(root, "$", "name", "an interface name")) {
    if (auto s =
            c.string_value(*v, "$.name", "an interface name of 1 to 15 letters, digits or _ . -",
                           valid_interface_name)) {
      cfg.name = std::move(*s);
    }
  }
  if (const json* v = c.field(root, "$", "private_key_file", "a key file path")) {
    if (auto s = c.string_value(*v, "$.private_key_file", "a key file path", valid_file_name)) {
      cfg.private_key_file = std::move(*s);
    }
  }
  if (const json* v = c.field(root, "$", "listen_port", "")) {
    if (auto n = c.integer_value(*v, "$.listen_port", 0, 65535, "a UDP port")) {
      cfg.listen_port = static_cast<std::uint16_t>(*n);
    }
  }
  if (const json* v = c.field(root, "$", "addresses", "")) {
    cfg.addresses = c.string_list(*v, "$.addresses", kPrefixExpected, valid_prefix);
  }
  if (const json* v = c.field(root, "$", "mtu", "")) {
    if (auto n = c.integer_value(*v, "$.mtu", kMinMtu, kMaxMtu, "an MTU")) {
      cfg.mtu = static_cast<std::uint16_t>(*n);
    }
  }
  if (const json* v = c.field(root, "$", "suites", "")) {
    if (!v->is_array() || v->empty()) {
      c.fail_value("$.suites",
                   std::string("a non-empty array of suite names (") + kSuiteNames + ")", *v);
    } else {
      cfg.suites.clear();
      for (std::size_t i = 0; i < v->size(); ++i) {
        const json& e = (*v)[i];
        const std::string path = index_path("$.suites", i);
        const auto id = e.is_string() ? suite_id(e.get_ref<const std::string&>()) : std::nullopt;
        if (!id) {
          c.fail_value(path, std::string("a suite name: ") + kSuiteNames, e);
        } else if (!session::suite_available(*id)) {
          c.fail_value(path, "a suite this machine runs (AES-GCM needs hardware AES)", e);
        } else if (std::find(cfg.suites.begin(), cfg.suites.end(), *id) != cfg.suites.end()) {
          c.fail_value(path, "each suite once", e);
        } else {
          cfg.suites.push_back(*id);
        }
      }
    }
  }
  for (std::optional<std::string>* field : {&cfg.user, &cfg.group, &cfg.control_group}) {
    const char* key = field == &cfg.user ? "user" : field == &cfg.group ? "group" : "control_group";
    if (const json* v = c.field(root, "$", key, "")) {
      *field =
          c.string_value(*v, key_path("$", key),
                         "an account name of 1 to 32 letters, digits or _ . -", valid_account_name);
    }
  }
  for (std::optional<std::string>* field :
       {&cfg.certificate_file, &cfg.revocation_file, &cfg.network_key_file}) {
    const char* key = field == &cfg.certificate_file  ? "certificate_file"
                      : field == &cfg.revocation_file ? "revocation_file"
                                                      : "network_key_file";
    if (const json* v = c.field(root, "$", key, "")) {
      *field = c.string_value(*v, key_path("$", key), "a file path", valid_file_name);
    }
  }
  if (const json* v = c.field(root, "$", "trusted_cas", "")) {
    cfg.trusted_cas =
        c.string_list(*v, "$.trusted_cas", "CA public key file path", valid_file_name);
  }
  if (const json* v = c.field(root, "$", "metrics_port", "")) {
    if (auto n = c.integer_value(*v, "$.metrics_port", 0, 65535, "a TCP port (0: off)")) {
      cfg.metrics_port = static_cast<std::uint16_t>(*n);
    }
  }
  if (const json* v = c.field(root, "$", "certificate_exit_nodes", "")) {
    if (v->is_boolean()) {
      cfg.certificate_exit_nodes = v->get<bool>();
    } else {
      c.fail_value("$.certificate_exit_nodes", "true or false", *v);
    }
  }
  if (const json* v = c.field(root, "$", "under_load_threshold", "")) {
    if (auto n = c.integer_value(*v, "$.under_load_threshold", 0, kMaxUnderLoadThreshold,
                                 "initiations per second (0: always under load)")) {
      cfg.under_load_threshold = *n;
    }
  }

  if (const json* v = c.field(root, "$", "peers", "")) {
    if (!v->is_array()) {
      c.fail_value("$.peers", "an array of peer objects", *v);
    } else {
      std::map<std::string, std::string> names;                    // name -> path
      std::map<crypto::PublicKey, std::string> keys;               // key -> path
      std::map<std::array<std::uint8_t, 18>, std::string> routes;  // network -> path
      for (std::size_t i = 0; i < v->size(); ++i) {
        const json& pj = (*v)[i];
        const std::string path = index_path("$.peers", i);
        if (!pj.is_object()) {
          c.fail_value(path, "a peer object", pj);
          continue;
        }
        c.check_keys(pj, path,
                     {"name", "public_key", "public_key_file", "endpoint", "allowed_ips",
                      "persistent_keepalive", "psk_file"});
        Peer peer;
        if (const json* f = c.field(pj, path, "name", "a peer name")) {
          const std::string p = path + ".name";
          if (auto s = c.string_value(*f, p, "a peer name of 1 to 64 letters, digits or _ . @ + -",
                                      valid_peer_name)) {
            const auto [it, fresh] = names.emplace(*s, p);
            if (!fresh) c.fail_value(p, "a name no other peer has (" + it->second + ")", *f);
            peer.name = std::move(*s);
          }
        }
        const json* key_file = c.field(pj, path, "public_key_file", "");
        if (key_file != nullptr) {
          peer.public_key_file = c.string_value(*key_file, path + ".public_key_file",
                                                "a key file path", valid_file_name);
          if (pj.contains("public_key")) {
            c.fail_value(path + ".public_key", "no public_key beside public_key_file",
                         pj["public_key"]);
          }
        } else if (const json* f = c.field(pj, path, "public_key",
                                           "a base64 public key, or a public_key_file")) {
          const std::string p = path + ".public_key";
          const auto key =
              f->is_string() ? parse_public_key(f->get_ref<const std::string&>()) : std::nullopt;
          if (!key) {
            c.fail_value(p, "base64 of a 32-byte key (44 characters)", *f);
          } else {
            const auto [it, fresh] = keys.emplace(*key, p);
            if (!fresh) c.fail_value(p, "a key no other peer has (" + it->second + ")", *f);
            peer.public_key = *key;
          }
        }
        if (const json* f = c.field(pj, path, "endpoint", "")) {
          const auto hp =
              f->is_string() ? parse_host_port(f->get_ref<const std::string&>()) : std::nullopt;
          if (!hp) {
            c.fail_value(path + ".endpoint",
                         "\"host:port\" or \"[IPv6]:port\" with a port from 1 to 65535", *f);
          } else {
            peer.endpoint = *hp;
          }
        }
        if (const json* f = c.field(pj, path, "allowed_ips", "")) {
          const std::string p = path + ".allowed_ips";
          peer.allowed_ips = c.string_list(*f, p, kPrefixExpected, valid_prefix);
          if (f->is_array()) {
            for (std::size_t k = 0; k < f->size(); ++k) {
              const json& e = (*f)[k];
              if (!e.is_string()) continue;
              const auto prefix = routing::Prefix::parse(e.get_ref<const std::string&>());
              if (!prefix) continue;
              const std::string ep = index_path(p, k);
              const auto [it, fresh] = routes.emplace(network_key(*prefix), ep);
              if (!fresh && it->second.rfind(path + ".", 0) != 0) {
                c.fail_value(ep, "a prefix no other peer routes (" + it->second + ")", e);
              }
            }
          }
        }
        if (const json* f = c.field(pj, path, "persistent_keepalive", "")) {
          if (auto n = c.integer_value(*f, path + ".persistent_keepalive", 0, 65535,
                                       "seconds (0: off)")) {
            peer.persistent_keepalive = static_cast<std::uint16_t>(*n);
          }
        }
        if (const json* f = c.field(pj, path, "psk_file", "")) {
          peer.psk_file =
              c.string_value(*f, path + ".psk_file", "a key file path", valid_file_name);
        }
        cfg.peers.push_back(std::move(peer));
      }
    }
  }

  if (r.errors.empty()) r.config = std::move(cfg);
  return r;
}

std::string resolve_path(const std::string& config_path, const std::string& file) {
  const std::filesystem::path f(file);
  if (f.is_absolute()) return file;
  const std::filesystem::path dir = std::filesystem::path(config_path).parent_path();
  return dir.empty() ? file : (dir / f).string();
}

namespace {

// The whole file, or an error naming it.
std::optional<std::string> read_config_file(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = path + ": cannot open: " + std::generic_category().message(errno);
    return std::nullopt;
  }
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": expected a regular file";
  } else if ((st.st_mode & 022) != 0) {
    // Whoever may change the config may name any key, peer or route.
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    error = path + ": refused: mode " + mode.data() +
            " lets group or others change the config; expected no write access for them (chmod "
            "go-w " +
            path + ")";
  } else if (st.st_size > static_cast<off_t>(kMaxConfigSize)) {
    error = path + ": expected a config of at most " + std::to_string(kMaxConfigSize) +
            " bytes, got " + std::to_string(st.st_size);
  } else {
    std::array<char, 4096> buf{};
    while (text.size() <= kMaxConfigSize) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = path + ": cannot read: " + std::generic_category().message(errno);
        break;
      }
      if (n == 0) break;
      text.append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  if (!error.empty()) return std::nullopt;
  return text;
}

// The uid of the user named `name`, if there is one.
std::optional<std::uint32_t> user_id(const std::string& name) {
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return found->pw_uid;
}

}  // namespace

LoadResult load_config(const std::string& path) {
  LoadResult r;
  std::string error;
  const auto text = read_config_file(path, error);
  if (!text) {
    r.errors.push_back(std::move(error));
    return r;
  }
  ParseResult p = parse_config(*text, path);
  if (!p) {
    r.errors = std::move(p.errors);
    return r;
  }
  InterfaceConfig& cfg = *p.config;
  // gwd's own user may own the key files too: it writes PSK files as that user.
  const std::optional<std::uint32_t> user = cfg.user ? user_id(*cfg.user) : std::nullopt;
  KeyFileResult k = load_private_key(resolve_path(path, cfg.private_key_file), user);
  if (!k) {
    r.errors.push_back(path + ": $.private_key_file: expected a usable key file, got " + k.error);
  } else {
    r.key = crypto::LockedKeyPair(crypto::KeyPair::from_private(*k.key));
  }
  // key -> (path, from a file): parse_config found duplicates among inline keys.
  std::map<crypto::PublicKey, std::pair<std::string, bool>> keys;
  for (std::size_t i = 0; i < cfg.peers.size(); ++i) {
    Peer& peer = cfg.peers[i];
    const std::string ppath = index_path("$.peers", i);
    if (peer.public_key_file) {
      PublicKeyFileResult pk = load_public_key(resolve_path(path, *peer.public_key_file));
      if (!pk) {
        r.errors.push_back(path + ": " + ppath +
                           ".public_key_file: expected a usable key file, got " + pk.error);
        r.psks.emplace_back();
        continue;
      }
      peer.public_key = *pk.key;
    }
    const bool from_file = peer.public_key_file.has_value();
    const auto [dup, fresh] = keys.emplace(peer.public_key, std::pair{ppath, from_file});
    if (!fresh && (from_file || dup->second.second)) {
      r.errors.push_back(path + ": " + ppath + (from_file ? ".public_key_file" : ".public_key") +
                         ": expected a key no other peer has, got the key of " + dup->second.first);
    }
    if (r.key && peer.public_key == r.key->public_key) {
      r.errors.push_back(path + ": " + ppath +
                         ".public_key: expected another host's key, got this interface's own "
                         "public key");
    }
    if (!peer.psk_file) {
      r.psks.emplace_back();
      continue;
    }
    KeyFileResult psk = load_psk(resolve_path(path, *peer.psk_file), user);
    if (!psk) {
      r.errors.push_back(path + ": " + ppath + ".psk_file: expected a usable key file, got " +
                         psk.error);
    }
    r.psks.push_back(psk.key ? crypto::LockedKey(psk.key->bytes()) : crypto::LockedKey());
  }
  if (cfg.network_key_file) {
    KeyFileResult nk = load_psk(resolve_path(path, *cfg.network_key_file), user);
    if (!nk) {
      r.errors.push_back(path + ": $.network_key_file: expected a usable key file, got " +
                         nk.error);
    }
    r.network_key = std::move(nk.key);
  }
  if (cfg.certificate_file) {
    const std::string file = resolve_path(path, *cfg.certificate_file);
    std::string read_error, cert_error;
    const auto cert_text = read_config_file(file, read_error);
    const auto cert = cert_text ? identity::dearmor(*cert_text, &cert_error) : std::nullopt;
    const std::string where = path + ": $.certificate_file: ";
    if (!cert_text) {
      r.errors.push_back(where + "expected a certificate file, got " + read_error);
    } else if (!cert) {
      r.errors.push_back(where + "expected a certificate, got " + file + ": " + cert_error);
    } else if (r.key && cert->public_key != r.key->public_key) {
      r.errors.push_back(where + "expected a certificate of this interface's key, got " + file +
                         ", which binds another key");
    } else if (identity::encode(*cert).size() > kMaxHandshakeCertificate) {
      r.errors.push_back(where + "expected a certificate of at most " +
                         std::to_string(kMaxHandshakeCertificate) +
                         " bytes (it travels in the handshake), got " + file + " of " +
                         std::to_string(identity::encode(*cert).size()));
    } else {
      r.certificate = *cert;
    }
  }
  for (std::size_t i = 0; i < cfg.trusted_cas.size(); ++i) {
    // The CA public key armour; a peer's key (or a CA key from before the armour) is refused.
    CaPublicKeyFileResult ca = load_ca_public_key(resolve_path(path, cfg.trusted_cas[i]));
    if (!ca) {
      r.errors.push_back(path + ": " + index_path("$.trusted_cas", i) +
                         ": expected a usable CA public key file, got " + ca.error);
      continue;
    }
    r.cas.push_back(*ca.key);
  }
  if (cfg.revocation_file) {
    const std::string file = resolve_path(path, *cfg.revocation_file);
    std::string read_error, list_error;
    const auto list_text = read_config_file(file, read_error);
    auto list = list_text ? identity::RevocationList::parse(*list_text, &list_error) : std::nullopt;
    if (!list) {
      r.errors.push_back(path + ": $.revocation_file: expected a revocation list, got " +
                         (list_text ? file + ": " + list_error : read_error));
    } else {
      r.revoked = std::move(*list);
    }
  }
  if (!r.errors.empty()) {
    r.key.reset();
    r.psks.clear();
    r.network_key.reset();
    return r;
  }
  r.config = std::move(cfg);
  return r;
}

std::string to_json(const InterfaceConfig& config) {
  using ojson = nlohmann::ordered_json;
  ojson j;
  j["name"] = config.name;
  j["private_key_file"] = config.private_key_file;
  j["listen_port"] = config.listen_port;
  j["addresses"] = config.addresses;
  j["mtu"] = config.mtu;
  ojson suites = ojson::array();
  for (const std::uint8_t id : config.suites) {
    const char* n = session::suite_name(id);
    suites.push_back(n != nullptr ? std::string(n) : std::to_string(id));
  }
  j["suites"] = std::move(suites);
  if (config.user) j["user"] = *config.user;
  if (config.group) j["group"] = *config.group;
  if (config.control_group) j["control_group"] = *config.control_group;
  if (config.metrics_port != 0) j["metrics_port"] = config.metrics_port;
  if (config.certificate_file) j["certificate_file"] = *config.certificate_file;
  if (!config.trusted_cas.empty()) j["trusted_cas"] = config.trusted_cas;
  if (config.revocation_file) j["revocation_file"] = *config.revocation_file;
  if (config.certificate_exit_nodes) j["certificate_exit_nodes"] = true;
  if (config.network_key_file) j["network_key_file"] = *config.network_key_file;
  if (config.under_load_threshold != cookie_spec::kUnderLoadThreshold) {
    j["under_load_threshold"] = config.under_load_threshold;
  }
  ojson peers = ojson::array();
  for (const Peer& p : config.peers) {
    ojson pj;
    pj["name"] = p.name;
    if (p.public_key_file) {
      pj["public_key_file"] = *p.public_key_file;
    } else {
      pj["public_key"] = to_base64(p.public_key);
    }
    if (p.endpoint) pj["endpoint"] = p.endpoint->to_string();
    pj["allowed_ips"] = p.allowed_ips;
    pj["persistent_keepalive"] = p.persistent_keepalive;
    if (p.psk_file) pj["psk_file"] = *p.psk_file;
    peers.push_back(std::move(pj));
  }
  j["peers"] = std::move(peers);
  return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

SaveResult save_config(const std::string& path, const InterfaceConfig& config) {
  const std::string text = to_json(config);
  if (const ParseResult check = parse_config(text, path); !check) {
    return {path + ": not saved: the config would not load back: " + check.errors.front()};
  }
  return write_file_atomically(path, text);
}

SaveResult write_file_atomically(const std::string& path, std::string_view text) {
  SaveResult r;
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  // Built with append: `"." + string` trips a false -Wrestrict in g++ 12 at -O3.
  std::string name(".");
  name.append(target.filename().string()).append(".tmp-XXXXXX");
  std::string tmp = (dir / name).string();
  const int fd = ::mkstemp(tmp.data());  // mode 0600
  if (fd < 0) {
    r.error = path + ": cannot create a temporary file in " + dir.string() + ": " +
              std::generic_category().message(errno);
    return r;
  }
  auto fail = [&](const char* what, int err) {
    r.error = path + ": " + what + " " + tmp + ": " + std::generic_category().message(err);
  };
  bool ok = ::fchmod(fd, 0600) == 0 || (fail("cannot chmod", errno), false);
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fail("cannot write", errno);
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (ok && ::fsync(fd) != 0) {
    fail("cannot fsync", errno);
    ok = false;
  }
  if (::close(fd) != 0 && ok) {
    fail("cannot close", errno);
    ok = false;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    fail("cannot rename over the target:", errno);
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return r;
  }
  // The rename is durable once the folder is on disk.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    r.error = path + ": saved, but cannot fsync the folder " + dir.string() + ": " +
              std::generic_category().message(errno);
  }
  if (dfd >= 0) ::close(dfd);
  return r;
}

}  // namespace gw::config
