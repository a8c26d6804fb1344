// SPDX-License-Identifier: MIT
// The interface config (include/gw/config/config.hpp): a full round trip,
// defaults, a numbered table of every kind of error with its message, several
// errors at once, key files through load_config, and atomic saves.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/temp_dir.hpp"
#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/session/suites.hpp"
#include "support/small_stack.hpp"

using namespace gw::config;
using gw::session::Endpoint;
using gw::test::TempDir;

namespace {

std::array<std::uint8_t, 32> key_bytes(std::uint8_t seed) {
  std::array<std::uint8_t, 32> a{};
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::uint8_t>(seed + i * 3);
  return a;
}

std::string pub(std::uint8_t seed) {
  return to_base64(gw::crypto::public_key_of(gw::crypto::PrivateKey(key_bytes(seed))));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A CA public key file as `gwctl ca init` writes it (docs/CERTIFICATES.md, section 4).
std::string ca_public_armour(const gw::identity::CaPublicKey& key) {
  return "-----BEGIN GW CA PUBLIC KEY-----\n" + to_base64(key) +
         "\n-----END GW CA PUBLIC KEY-----\n";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v)
    s += e + "\n";
  return s;
}

// A config with every field set, two peers: one by DNS name, one by IPv6.
std::string full_config() {
  return R"({
  "name": "gw0",
  "private_key_file": "gw0.key",
  "listen_port": 51900,
  "addresses": ["10.77.0.1/24", "fd77::1/64"],
  "mtu": 1380,
  "suites": ["ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b"],
  "user": "gw",
  "group": "gw",
  "control_group": "gwadm",
  "metrics_port": 9586,
  "under_load_threshold": 500,
  "peers": [
    {"name": "site-b", "public_key": ")" +
         pub(2) + R"(", "endpoint": "vpn.example.net:51820",
     "allowed_ips": ["10.78.0.0/16", "fd78::/48"], "persistent_keepalive": 25,
     "psk_file": "site-b.psk"},
    {"name": "laptop", "public_key": ")" +
         pub(3) + R"(", "endpoint": "[2001:db8::7]:4500",
     "allowed_ips": ["10.77.0.2/32"]},
    {"name": "phone", "public_key": ")" +
         pub(4) + R"(", "endpoint": "192.0.2.9:51820"}
  ]
})";
}

// Writes the key files full_config() names into `dir`.
void write_keys(const TempDir& dir) {
  dir.write("gw0.key", to_base64(key_bytes(1)) + "\n");
  dir.write("site-b.psk", to_base64(key_bytes(9)) + "\n");
}

}  // namespace

TEST_CASE("config: a full config loads, and to_json reads back equal") {
  TempDir dir;
  write_keys(dir);
  const std::string path = dir.write("gw0.json", full_config(), 0644);
  const LoadResult r = load_config(path);
  REQUIRE_MESSAGE(r, joined(r.errors));
  const InterfaceConfig& c = *r.config;
  CHECK(c.name == "gw0");
  CHECK(c.private_key_file == "gw0.key");
  CHECK(c.listen_port == 51900);
  CHECK(c.addresses == std::vector<std::string>{"10.77.0.1/24", "fd77::1/64"});
  CHECK(c.mtu == 1380);
  CHECK(c.suites == std::vector<std::uint8_t>{3, 1});
  CHECK(c.user == "gw");
  CHECK(c.group == "gw");
  CHECK(c.control_group == "gwadm");
  CHECK(c.metrics_port == 9586);
  CHECK(c.under_load_threshold == 500);
  REQUIRE(c.peers.size() == 3);
  CHECK(c.peers[0].name == "site-b");
  CHECK(to_base64(c.peers[0].public_key) == pub(2));
  REQUIRE(c.peers[0].endpoint);
  CHECK(c.peers[0].endpoint->host == "vpn.example.net");
  CHECK(c.peers[0].endpoint->port == 51820);
  CHECK_FALSE(c.peers[0].endpoint->address);  // a name: the daemon resolves it
  CHECK(c.peers[0].persistent_keepalive == 25);
  CHECK(c.peers[0].psk_file == "site-b.psk");
  REQUIRE(c.peers[1].endpoint);
  CHECK(c.peers[1].endpoint->host == "2001:db8::7");
  REQUIRE(c.peers[1].endpoint->address);
  CHECK(c.peers[1].endpoint->address->address[15] == 7);
  CHECK(c.peers[1].endpoint->address->port == 4500);
  CHECK(c.peers[1].persistent_keepalive == 0);
  CHECK_FALSE(c.peers[1].psk_file);
  REQUIRE(c.peers[2].endpoint->address);
  CHECK(*c.peers[2].endpoint->address == Endpoint::ipv4({192, 0, 2, 9}, 51820));
  CHECK(c.peers[2].allowed_ips.empty());

  // Keys: ours and the one PSK, in peer order.
  REQUIRE(r.key);
  CHECK(to_base64(r.key->public_key) == pub(1));
  REQUIRE(r.psks.size() == 3);
  REQUIRE(r.psks[0]);
  CHECK(*r.psks[0] == gw::crypto::Secret<32>(key_bytes(9)));
  CHECK_FALSE(r.psks[1]);
  CHECK_FALSE(r.psks[2]);

  // Round trip: to_json, parse, equal; and to_json is stable.
  const std::string text = to_json(c);
  const ParseResult again = parse_config(text, "again.json");
  REQUIRE_MESSAGE(again, joined(again.errors));
  CHECK(*again.config == c);
  CHECK(to_json(*again.config) == text);

  // And through a file, with load_config.
  const std::string copy = dir.write("copy.json", text);
  const LoadResult r2 = load_config(copy);
  REQUIRE_MESSAGE(r2, joined(r2.errors));
  CHECK(*r2.config == c);
}

TEST_CASE("config: defaults") {
  const ParseResult r =
      parse_config(R"({"name": "gw1", "private_key_file": "/etc/gw/gw1.key"})", "min.json");
  REQUIRE_MESSAGE(r, joined(r.errors));
  const InterfaceConfig& c = *r.config;
  CHECK(c.listen_port == 51820);
  CHECK(c.mtu == 1420);
  CHECK(c.addresses.empty());
  CHECK(c.suites == gw::session::default_suites());
  CHECK(c.under_load_threshold == gw::cookie_spec::kUnderLoadThreshold);
  CHECK(to_json(c).find("under_load_threshold") == std::string::npos);  // the default, unwritten
  CHECK_FALSE(c.user);
  CHECK_FALSE(c.group);
  CHECK(c.peers.empty());
  InterfaceConfig expected;
  expected.name = "gw1";
  expected.private_key_file = "/etc/gw/gw1.key";
  CHECK(c == expected);

  const ParseResult p = parse_config(R"({"name": "gw1", "private_key_file": "k",
      "peers": [{"name": "a", "public_key": ")" +
                                         pub(2) + R"("}]})",
                                     "min.json");
  REQUIRE_MESSAGE(p, joined(p.errors));
  const Peer& peer = p.config->peers.at(0);
  CHECK_FALSE(peer.endpoint);
  CHECK(peer.allowed_ips.empty());
  CHECK(peer.persistent_keepalive == 0);
  CHECK_FALSE(peer.psk_file);

  // Edges of the ranges are accepted.
  CHECK(parse_config(R"({"name":"g","private_key_file":"k","mtu":1280,"listen_port":0})", "f"));
  CHECK(parse_config(R"({"name":"g","private_key_file":"k","mtu":9000,"listen_port":65535})", "f"));
  for (const std::uint32_t n : {0u, 1u, kMaxUnderLoadThreshold}) {
    const ParseResult t = parse_config(
        R"({"name":"g","private_key_file":"k","under_load_threshold":)" + std::to_string(n) + "}",
        "f");
    REQUIRE_MESSAGE(t, joined(t.errors));
    CHECK(t.config->under_load_threshold == n);
  }
}

TEST_CASE("config: every kind of error, with its file, JSON path and expectation") {
  const std::string head = R"("name": "gw0", "private_key_file": "k")";
  auto with_peer = [&](const std::string& peer_fields) {
    return "{" + head + R"(, "peers": [{"name": "a", "public_key": ")" + pub(2) + "\"" +
           peer_fields + "}]}";
  };
  struct Case {
    const char* what;
    std::string text;
    std::string path;      // the JSON path (or position) the error must name
    std::string expected;  // a piece of the message
  };
  const Case cases[] = {
      {"0a metrics port too big", "{" + head + R"(, "metrics_port": 65536})", "$.metrics_port",
       "expected a TCP port (0: off) from 0 to 65535, got 65536"},
      {"0b control group not a name", "{" + head + R"(, "control_group": "a b"})",
       "$.control_group", "expected an account name"},
      {"1 wrong type: port as string", "{" + head + R"(, "listen_port": "51820"})", "$.listen_port",
       "expected a UDP port from 0 to 65535, got \"51820\""},
      {"2 wrong type: mtu float", "{" + head + R"(, "mtu": 1420.5})", "$.mtu", "got 1420.5"},
      {"3 wrong type: addresses not array", "{" + head + R"(, "addresses": "10.0.0.1/8"})",
       "$.addresses", "expected an array of"},
      {"4 wrong type: peers object", "{" + head + R"(, "peers": {}})", "$.peers",
       "expected an array of peer objects, got {}"},
      {"5 wrong type: top level", "[1, 2]", "$", "expected an object, got an array"},
      {"6 missing name", R"({"private_key_file": "k"})", "$.name", "(required), got nothing"},
      {"7 missing private_key_file", R"({"name": "gw0"})", "$.private_key_file",
       "expected a key file path (required), got nothing"},
      {"8 missing peer public_key", "{" + head + R"(, "peers": [{"name": "a"}]})",
       "$.peers[0].public_key", "(required), got nothing"},
      {"9 unknown key", "{" + head + R"(, "listen_prot": 1})", "$.listen_prot",
       "unknown key \"listen_prot\""},
      {"10 unknown peer key", with_peer(R"(, "endpont": "1.2.3.4:5")"), "$.peers[0].endpont",
       "unknown key"},
      {"11 bad key base64", "{" + head + R"(, "peers": [{"name": "a", "public_key": "abc"}]})",
       "$.peers[0].public_key", "expected base64 of a 32-byte key (44 characters), got \"abc\""},
      {"12 duplicate peer name",
       "{" + head + R"(, "peers": [{"name": "a", "public_key": ")" + pub(2) +
           R"("}, {"name": "a", "public_key": ")" + pub(3) + R"("}]})",
       "$.peers[1].name", "a name no other peer has ($.peers[0].name)"},
      {"13 duplicate peer key",
       "{" + head + R"(, "peers": [{"name": "a", "public_key": ")" + pub(2) +
           R"("}, {"name": "b", "public_key": ")" + pub(2) + R"("}]})",
       "$.peers[1].public_key", "a key no other peer has ($.peers[0].public_key)"},
      {"14 endpoint without port", with_peer(R"(, "endpoint": "192.0.2.1")"), "$.peers[0].endpoint",
       "\"host:port\" or \"[IPv6]:port\""},
      {"15 endpoint IPv6 without brackets", with_peer(R"(, "endpoint": "2001:db8::1:51820")"),
       "$.peers[0].endpoint", "got \"2001:db8::1:51820\""},
      {"16 endpoint port 0", with_peer(R"(, "endpoint": "192.0.2.1:0")"), "$.peers[0].endpoint",
       "port from 1 to 65535"},
      {"17 endpoint bad IPv4", with_peer(R"(, "endpoint": "300.1.1.1:5")"), "$.peers[0].endpoint",
       "got \"300.1.1.1:5\""},
      {"18 bad prefix: no length", "{" + head + R"(, "addresses": ["10.0.0.1"]})", "$.addresses[0]",
       "an IPv4 or IPv6 prefix"},
      {"19 bad prefix: /33", with_peer(R"(, "allowed_ips": ["10.0.0.0/8", "10.0.0.0/33"])"),
       "$.peers[0].allowed_ips[1]", "got \"10.0.0.0/33\""},
      {"20 bad prefix: IPv6 /129", "{" + head + R"(, "addresses": ["fd00::/129"]})",
       "$.addresses[0]", "prefix"},
      {"21 mtu too small", "{" + head + R"(, "mtu": 1279})", "$.mtu",
       "expected an MTU from 1280 to 9000, got 1279"},
      {"22 mtu too large", "{" + head + R"(, "mtu": 9001})", "$.mtu", "got 9001"},
      {"23 negative port", "{" + head + R"(, "listen_port": -1})", "$.listen_port", "got -1"},
      {"24 keepalive too large", with_peer(R"(, "persistent_keepalive": 65536)"),
       "$.peers[0].persistent_keepalive", "seconds (0: off) from 0 to 65535"},
      {"25 unknown suite", "{" + head + R"(, "suites": ["ChaChaPoly_BLAKE2b", "Salsa"]})",
       "$.suites[1]", "expected a suite name: ChaChaPoly_BLAKE2b, AESGCM_SHA256 or"},
      {"26 duplicate suite",
       "{" + head + R"(, "suites": ["ChaChaPoly_BLAKE2b", "ChaChaPoly_BLAKE2b"]})", "$.suites[1]",
       "each suite once"},
      {"27 empty suites", "{" + head + R"(, "suites": []})", "$.suites", "a non-empty array"},
      {"28 bad interface name", R"({"name": "a/b", "private_key_file": "k"})", "$.name",
       "an interface name of 1 to 15"},
      {"29 interface name too long", R"({"name": "gw0123456789abcd", "private_key_file": "k"})",
       "$.name", "got \"gw0123456789abcd\""},
      {"30 empty key file path", R"({"name": "gw0", "private_key_file": ""})", "$.private_key_file",
       "expected a key file path, got \"\""},
      {"31 bad user", "{" + head + R"(, "user": "root user"})", "$.user", "an account name"},
      {"32 duplicate JSON key", R"({"name": "gw0", "name": "gw1", "private_key_file": "k"})",
       "$.name", "expected each key once in an object, got it again"},
      {"33 duplicate JSON key in a peer", with_peer(R"(, "name": "b")"), "$.peers[0].name",
       "each key once"},
      {"34 two peers route the same network",
       "{" + head + R"(, "peers": [{"name": "a", "public_key": ")" + pub(2) +
           R"(", "allowed_ips": ["10.1.0.0/16"]}, {"name": "b", "public_key": ")" + pub(3) +
           R"(", "allowed_ips": ["10.1.2.3/16"]}]})",
       "$.peers[1].allowed_ips[0]", "a prefix no other peer routes ($.peers[0].allowed_ips[0])"},
      {"35 bad peer name", with_peer("").replace(with_peer("").find("\"a\""), 3, "\"a b\""),
       "$.peers[0].name", "a peer name of 1 to 64"},
      {"36 syntax: trailing comma", "{\n  \"name\": \"gw0\",\n}", "line 3, column 1",
       "expected valid JSON, got syntax error"},
      {"37 syntax: bad literal", "{\"name\": \"gw0\",\n  \"mtu\": tru}", "line 2, column",
       "expected valid JSON"},
      {"38 syntax: empty file", "", "line 1, column 1", "expected valid JSON"},
      {"39 peer not an object", "{" + head + R"(, "peers": [42]})", "$.peers[0]",
       "expected a peer object, got 42"},
      {"40 psk_file wrong type", with_peer(R"(, "psk_file": 7)"), "$.peers[0].psk_file",
       "expected a key file path, got 7"},
      {"41 odd key names are quoted in paths", "{" + head + R"(, "my key": 1})", "$[\"my key\"]",
       "unknown key \"my key\""},
      {"42 under_load_threshold too large", "{" + head + R"(, "under_load_threshold": 1000001})",
       "$.under_load_threshold",
       "expected initiations per second (0: always under load) from 0 to 1000000, got 1000001"},
      {"43 under_load_threshold negative", "{" + head + R"(, "under_load_threshold": -1})",
       "$.under_load_threshold", "got -1"},
      {"44 under_load_threshold not a number", "{" + head + R"(, "under_load_threshold": "64"})",
       "$.under_load_threshold", "got \"64\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const ParseResult r = parse_config(c.text, "/etc/gw/gw0.json");
    CHECK_FALSE(r);
    REQUIRE(r.errors.size() >= 1);
    const std::string& e = r.errors.front();
    CAPTURE(e);
    CHECK(e.rfind("/etc/gw/gw0.json: " + c.path, 0) == 0);
    CHECK(contains(e, c.expected));
    CHECK(r.errors.size() == 1);
  }
}

TEST_CASE("config: syntax errors name the line and column nlohmann names") {
  const std::string text = "{\n  \"name\": \"gw0\",\n  \"mtu\": 14x0\n}\n";
  const ParseResult r = parse_config(text, "f.json");
  REQUIRE(r.errors.size() == 1);
  CAPTURE(r.errors[0]);
  CHECK(r.errors[0].rfind("f.json: line 3, column 12: expected valid JSON, got syntax error", 0) ==
        0);
  CHECK(contains(r.errors[0], "last read: '14x'"));
  CHECK_FALSE(contains(r.errors[0], "[json.exception"));

  // The position computed from the byte offset agrees with nlohmann's own.
  const std::string inputs[] = {
      text,        "{\n  \"name\": \"gw0\",\n}",
      "",          "{\"a\":1}\n\n x",
      "{\"a\":\n", "\n\n\n   [1,,2]",
      "{\"a\" 1}", "{\"a\":\"\x01\"}",
  };
  for (const std::string& in : inputs) {
    CAPTURE(in);
    std::string theirs;
    try {
      const auto parsed = nlohmann::json::parse(in);
      CHECK(parsed.is_discarded());  // not reached: every input is malformed
    } catch (const nlohmann::json::parse_error& e) {
      theirs = e.what();
    }
    const std::size_t at = theirs.find("at line ");
    REQUIRE(at != std::string::npos);
    const std::string pos = theirs.substr(at + 3, theirs.find(':', at) - at - 3);
    const ParseResult mine = parse_config(in, "x.json");
    REQUIRE(mine.errors.size() == 1);
    CHECK(mine.errors[0].rfind("x.json: " + pos + ": expected valid JSON", 0) == 0);
  }
}

TEST_CASE("config: every error is reported, not only the first") {
  const std::string text = R"({
    "name": "this-name-is-far-too-long",
    "listen_port": 70000,
    "mtu": 100,
    "colour": "blue",
    "suites": ["Nope"],
    "addresses": ["10.0.0.1/24", "10.0.0.300/24"],
    "peers": [
      {"name": "a", "public_key": "short", "endpoint": "nohost"},
      {"public_key": ")" + pub(2) +
                           R"(", "allowed_ips": ["::/0", "x"], "persistent_keepalive": -5}
    ]
  })";
  const ParseResult r = parse_config(text, "many.json");
  CHECK_FALSE(r);
  const std::vector<std::string> paths = {
      "$.colour",
      "$.name",
      "$.private_key_file",
      "$.listen_port",
      "$.addresses[1]",
      "$.mtu",
      "$.suites[0]",
      "$.peers[0].public_key",
      "$.peers[0].endpoint",
      "$.peers[1].name",
      "$.peers[1].allowed_ips[1]",
      "$.peers[1].persistent_keepalive",
  };
  CHECK_MESSAGE(r.errors.size() == paths.size(), joined(r.errors));
  for (const std::string& p : paths) {
    CAPTURE(p);
    CHECK(std::any_of(r.errors.begin(), r.errors.end(), [&](const std::string& e) {
      return e.rfind("many.json: " + p + ": expected ", 0) == 0;
    }));
  }
}

TEST_CASE("config: numeric addresses, prefixes and endpoints") {
  struct AddrCase {
    const char* text;
    bool ok;
  };
  const AddrCase addrs[] = {
      {"0.0.0.0", true},
      {"255.255.255.255", true},
      {"1.2.3", false},
      {"1.2.3.4.5", false},
      {"01.2.3.4", false},
      {"256.1.1.1", false},
      {"1..2.3", false},
      {"::", true},
      {"::1", true},
      {"1::", true},
      {"fe80::1:2", true},
      {"1:2:3:4:5:6:7:8", true},
      {"1:2:3:4:5:6:7:8:9", false},
      {"1:2:3:4:5:6:7::8", false},
      {"1::2::3", false},
      {":::", false},
      {"1:2", false},
      {"12345::", false},
      {"::ffff:192.0.2.1", true},
      {"::192.0.2.1:1", false},
      {"g::1", false},
      {"1:", false},
      {":1", false},
      {"fe80::1%eth0", false},
      {"", false},
      {"1:2:3:4:5:6:1.2.3.4", true},
  };
  for (const AddrCase& a : addrs) {
    CAPTURE(a.text);
    CHECK(parse_ip_address(a.text).has_value() == a.ok);
  }
  const auto v6 = parse_ip_address("2001:db8::ff00:42:8329", 7);
  REQUIRE(v6);
  CHECK(v6->port == 7);
  CHECK(v6->address[0] == 0x20);
  CHECK(v6->address[3] == 0xb8);
  CHECK(v6->address[15] == 0x29);
  CHECK(v6->address[10] == 0xff);
  const auto mapped = parse_ip_address("::ffff:192.0.2.1");
  REQUIRE(mapped);
  CHECK(mapped->address[12] == 192);
  CHECK(mapped->address[15] == 1);

  CHECK(valid_prefix("fd77::1/64"));
  CHECK(valid_prefix("0.0.0.0/0"));
  CHECK(valid_prefix("::/0"));
  CHECK_FALSE(valid_prefix("10.0.0.1"));  // routing reads a bare address; a config may not
  CHECK_FALSE(valid_prefix("10.0.0.0/"));
  CHECK_FALSE(valid_prefix("10.0.0.0/08"));
  CHECK_FALSE(valid_prefix("10.0.0.0/-1"));
  CHECK_FALSE(valid_prefix("/24"));

  const auto hp = parse_host_port("[fd00::1]:51820");
  REQUIRE(hp);
  CHECK(hp->host == "fd00::1");
  CHECK(hp->to_string() == "[fd00::1]:51820");
  CHECK(parse_host_port("gw.example.net.:1"));
  CHECK(parse_host_port("localhost:65535"));
  CHECK_FALSE(parse_host_port("host:65536"));
  CHECK_FALSE(parse_host_port("-bad.example:1"));
  CHECK_FALSE(parse_host_port("a_b.example:1"));
  CHECK_FALSE(parse_host_port("[192.0.2.1]:1"));
  CHECK_FALSE(parse_host_port("[fd00::1:1"));
  CHECK_FALSE(parse_host_port(":1"));
  CHECK_FALSE(parse_host_port("host:"));
  CHECK_FALSE(parse_host_port("1.2.3.4:+5"));
}

TEST_CASE("config: load_config checks key files and our own key") {
  TempDir dir;
  write_keys(dir);
  const std::string path = dir.write("gw0.json", full_config());

  SUBCASE("private key readable by others") {
    ::chmod(dir.file("gw0.key").c_str(), 0644);
    const LoadResult r = load_config(path);
    CHECK_FALSE(r);
    CHECK_FALSE(r.key);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].rfind(path + ": $.private_key_file: expected a usable key file, got " +
                                dir.file("gw0.key") + ": private key file: refused: mode 0644",
                            0) == 0);
  }
  SUBCASE("missing PSK file and a peer with our own key, both reported") {
    std::filesystem::remove(dir.file("site-b.psk"));
    std::string text = full_config();
    const std::string other = pub(4);
    text.replace(text.find(other), other.size(), pub(1));  // phone := our own key
    const LoadResult r = load_config(dir.write("own.json", text));
    CHECK_FALSE(r);
    CHECK(r.psks.empty());
    CHECK_MESSAGE(r.errors.size() == 2, joined(r.errors));
    CHECK(contains(joined(r.errors), "$.peers[0].psk_file: expected a usable key file, got " +
                                         dir.file("site-b.psk") +
                                         ": pre-shared key file: cannot open"));
    CHECK(contains(joined(r.errors),
                   "$.peers[2].public_key: expected another host's key, got this "
                   "interface's own public key"));
  }
  SUBCASE("a public key from a file, readable by anyone, instead of inline") {
    std::string text = full_config();
    const std::string inline_key = "\"public_key\": \"" + pub(3) + "\"";
    text.replace(text.find(inline_key), inline_key.size(), "\"public_key_file\": \"laptop.pub\"");
    dir.write("laptop.pub", pub(3) + "\n", 0644);
    const std::string file_path = dir.write("by-file.json", text);
    const LoadResult r = load_config(file_path);
    REQUIRE_MESSAGE(r, joined(r.errors));
    CHECK(to_base64(r.config->peers[1].public_key) == pub(3));
    CHECK(r.config->peers[1].public_key_file == "laptop.pub");
    CHECK(contains(to_json(*r.config), "\"public_key_file\": \"laptop.pub\""));

    dir.write("laptop.pub", pub(4) + "\n", 0644);  // the phone's key: a duplicate
    const LoadResult dup = load_config(file_path);
    CHECK_FALSE(dup);
    CHECK(contains(joined(dup.errors), "$.peers[2]"));

    dir.write("laptop.pub", "not a key\n", 0644);
    const LoadResult bad = load_config(file_path);
    REQUIRE(bad.errors.size() == 1);
    CHECK(contains(bad.errors[0], "$.peers[1].public_key_file: expected a usable key file, got " +
                                      dir.file("laptop.pub") +
                                      ": public key file: expected base64"));

    std::string both = text;
    both.replace(both.find("\"public_key_file\""), 0, inline_key + ", ");
    const ParseResult p = parse_config(both, "both.json");
    REQUIRE(p.errors.size() == 1);
    CHECK(contains(p.errors[0],
                   "both.json: $.peers[1].public_key: expected no public_key beside "
                   "public_key_file"));
  }
  SUBCASE("a config writable by group or others is refused, with the chmod to run") {
    for (const mode_t mode : {0664, 0646, 0666, 0620, 0602}) {
      CAPTURE(mode);
      ::chmod(path.c_str(), mode);
      const LoadResult r = load_config(path);
      CHECK_FALSE(r);
      REQUIRE(r.errors.size() == 1);
      char octal[8];
      std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
      CHECK(r.errors[0] == path + ": refused: mode " + octal +
                               " lets group or others change the config; expected no write "
                               "access for them (chmod go-w " +
                               path + ")");
    }
    for (const mode_t mode : {0644, 0640, 0600, 0444}) {
      CAPTURE(mode);
      ::chmod(path.c_str(), mode);
      const LoadResult r = load_config(path);
      CHECK_MESSAGE(r, joined(r.errors));
    }
  }
  SUBCASE("a PSK file owned by another user is refused, naming the owner") {
    if (::geteuid() != 0) {
      MESSAGE("skipped: making a file of another user needs root");
      return;
    }
    REQUIRE(::chown(dir.file("site-b.psk").c_str(), 65534, 65534) == 0);
    const LoadResult r = load_config(path);
    CHECK_FALSE(r);
    REQUIRE(r.errors.size() == 1);
    CHECK(contains(r.errors[0], path + ": $.peers[0].psk_file: expected a usable key file, got " +
                                    dir.file("site-b.psk") +
                                    ": pre-shared key file: refused: owned by uid 65534"));
    CHECK(contains(r.errors[0], "(chown root " + dir.file("site-b.psk") + ")"));
    // gwd's own user ("user") may own it: gwd writes PSK files as that user.
    std::string text = full_config();
    text.replace(text.find("\"user\": \"gw\""), 12, "\"user\": \"nobody\"");
    const LoadResult as_nobody = load_config(dir.write("nobody.json", text));
    CHECK_MESSAGE(as_nobody, joined(as_nobody.errors));
  }
  SUBCASE("missing config file") {
    const LoadResult r = load_config(dir.file("nope.json"));
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].rfind(dir.file("nope.json") + ": cannot open", 0) == 0);
  }
  SUBCASE("absolute key paths are used as they are") {
    CHECK(resolve_path("/etc/gw/gw0.json", "/keys/a.key") == "/keys/a.key");
    CHECK(resolve_path("/etc/gw/gw0.json", "a.key") == "/etc/gw/a.key");
    CHECK(resolve_path("gw0.json", "a.key") == "a.key");
  }
}

TEST_CASE("config: save_config replaces the file atomically, mode 0600") {
  TempDir dir;
  const ParseResult parsed = parse_config(full_config(), "full.json");
  REQUIRE(parsed);
  InterfaceConfig c = *parsed.config;
  const std::string path = dir.write("gw0.json", "{ \"old\": true }\n", 0644);

  const SaveResult s = save_config(path, c);
  REQUIRE_MESSAGE(s, s.error);
  CHECK(gw::test::read_file(path) == to_json(c));
  CHECK(gw::test::file_mode(path) == 0600);
  CHECK(dir.entries() == std::vector<std::string>{"gw0.json"});  // no temporary left

  // Save again with a change: the new content replaces the old, whole.
  c.mtu = 1500;
  c.peers.pop_back();
  REQUIRE(save_config(path, c));
  const ParseResult back = parse_config(gw::test::read_file(path), path);
  REQUIRE_MESSAGE(back, joined(back.errors));
  CHECK(*back.config == c);
  CHECK(dir.entries() == std::vector<std::string>{"gw0.json"});

  // A fresh file is created too.
  REQUIRE(save_config(dir.file("new.json"), c));
  CHECK(gw::test::file_mode(dir.file("new.json")) == 0600);

  // A config that would not load back is refused and the old file stays.
  const std::string before = gw::test::read_file(path);
  InterfaceConfig bad = c;
  bad.mtu = 100;
  const SaveResult refused = save_config(path, bad);
  CHECK_FALSE(refused);
  CHECK(contains(refused.error, "$.mtu"));
  CHECK(gw::test::read_file(path) == before);

  // No folder: a clear error, nothing created.
  const SaveResult nodir = save_config(dir.file("missing/gw0.json"), c);
  CHECK_FALSE(nodir);
  CHECK(contains(nodir.error, "cannot create a temporary file"));
  CHECK(dir.entries().size() == 2);

  // Any text (a PSK file, say), the same way: mode 0600, no temporary left.
  REQUIRE(write_file_atomically(dir.file("x.psk"), "secret\n"));
  CHECK(gw::test::read_file(dir.file("x.psk")) == "secret\n");
  CHECK(gw::test::file_mode(dir.file("x.psk")) == 0600);
  CHECK(dir.entries().size() == 3);
}

TEST_CASE("config: certificate, trusted CAs and revocation list are loaded and checked") {
  using namespace gw::identity;
  TempDir dir;
  dir.write("gw0.key", to_base64(key_bytes(1)) + "\n");
  const CaKey ca = CaKey::from_seed(gw::crypto::Secret<32>(key_bytes(7)));
  dir.write("ca.pub", ca_public_armour(ca.public_key), 0644);
  Certificate mine;
  mine.name = "gw0";
  mine.public_key = gw::crypto::public_key_of(gw::crypto::PrivateKey(key_bytes(1)));
  mine.addresses.push_back(*gw::routing::Prefix::parse("10.90.0.1/24"));
  mine.not_before = 0;
  mine.not_after = 4'000'000'000;
  const Certificate signed_mine = *sign(mine, ca);
  dir.write("gw0.crt", armor(signed_mine), 0644);
  Certificate other = mine;
  other.public_key = gw::crypto::public_key_of(gw::crypto::PrivateKey(key_bytes(2)));
  const Certificate signed_other = *sign(other, ca);
  dir.write("other.crt", armor(signed_other), 0644);
  dir.write("revoked.txt", "# revoked\n" + to_hex(fingerprint(signed_other)) + "\n", 0644);

  const auto config_with = [&](const std::string& fields) {
    return dir.write("gw0.json",
                     R"({"name": "gw0", "private_key_file": "gw0.key", )" + fields + "}", 0644);
  };
  const LoadResult r = load_config(config_with(
      R"("certificate_file": "gw0.crt", "trusted_cas": ["ca.pub"], "revocation_file": "revoked.txt")"));
  REQUIRE_MESSAGE(r, joined(r.errors));
  REQUIRE(r.certificate);
  CHECK(*r.certificate == signed_mine);
  REQUIRE(r.cas.size() == 1);
  CHECK(r.cas[0] == ca.public_key);
  CHECK(r.revoked.contains(fingerprint(signed_other)));
  CHECK(r.config->certificate_file == "gw0.crt");
  const ParseResult again = parse_config(to_json(*r.config), "again.json");
  REQUIRE(again);
  CHECK(*again.config == *r.config);

  struct Case {
    std::string fields, expected;
  };
  const Case cases[] = {
      {R"("certificate_file": "other.crt")", "which binds another key"},
      {R"("certificate_file": "missing.crt")", "$.certificate_file: expected a certificate file"},
      {R"("certificate_file": "revoked.txt")", "$.certificate_file: expected a certificate, got"},
      {R"("trusted_cas": ["missing.pub"])", "$.trusted_cas[0]: expected a usable CA public key"},
      {R"("trusted_cas": "ca.pub")", "$.trusted_cas: expected an array"},
      {R"("revocation_file": "gw0.crt")", "$.revocation_file: expected a revocation list"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fields);
    const LoadResult bad = load_config(config_with(c.fields));
    REQUIRE_FALSE(bad);
    CHECK(contains(joined(bad.errors), c.expected));
  }
}

TEST_CASE("config: every key file of the wrong kind is refused, naming what it is") {
  using namespace gw::identity;
  TempDir dir;
  dir.write("gw0.key", to_base64(key_bytes(1)) + "\n");
  dir.write("site-b.pub", pub(2) + "\n", 0644);
  const CaKey ca = CaKey::from_seed(gw::crypto::Secret<32>(key_bytes(7)));
  dir.write("ca.pub", ca_public_armour(ca.public_key), 0644);
  dir.write("ca.key",
            "-----BEGIN GW CA PRIVATE KEY-----\n" + to_base64(key_bytes(7)) +
                "\n-----END GW CA PRIVATE KEY-----\n",
            0600);
  // What `gwctl ca init` wrote before CA key files named their kind.
  dir.write("old-ca.pub", to_base64(ca.public_key) + "\n", 0644);
  const std::string folder = dir.path().string() + "/";

  const auto config_with = [&](const std::string& key_file, const std::string& peer_fields,
                               const std::string& fields) {
    return dir.write("gw0.json",
                     R"({"name": "gw0", "private_key_file": ")" + key_file + R"(", )" + fields +
                         R"("peers": [{"name": "b", )" + peer_fields + "}]}",
                     0644);
  };
  const std::string b_key = R"("public_key": ")" + pub(2) + R"(")";
  struct Case {
    std::string key_file, peer_fields, fields, expected;
  };
  const Case cases[] = {
      {"ca.key", b_key, "",
       "$.private_key_file: expected a usable key file, got " + folder +
           "ca.key: this is a CA private key file, not a gw/WireGuard private key (X25519)"},
      {"gw0.key", R"("public_key_file": "ca.pub")", "",
       "$.peers[0].public_key_file: expected a usable key file, got " + folder +
           "ca.pub: this is a CA public key file, not a gw/WireGuard public key (X25519)"},
      {"gw0.key", b_key + R"(, "psk_file": "ca.key")", "",
       "$.peers[0].psk_file: expected a usable key file, got " + folder +
           "ca.key: this is a CA private key file, not a pre-shared key"},
      {"gw0.key", b_key, R"("trusted_cas": ["site-b.pub"], )",
       "$.trusted_cas[0]: expected a usable CA public key file, got " + folder +
           "site-b.pub: this is a gw/WireGuard key line (an X25519 key or a PSK), not a CA public "
           "key; if it is a CA key an older gwctl ca init wrote, convert it: gwctl ca upgrade " +
           folder + "site-b"},
      {"gw0.key", b_key, R"("trusted_cas": ["old-ca.pub"], )",
       "old-ca.pub: this is a gw/WireGuard key line (an X25519 key or a PSK), not a CA public key"},
      {"gw0.key", b_key, R"("trusted_cas": ["ca.key"], )",
       "$.trusted_cas[0]: expected a usable CA public key file, got " + folder +
           "ca.key: this is a CA private key file, not a CA public key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.expected);
    const LoadResult r = load_config(config_with(c.key_file, c.peer_fields, c.fields));
    REQUIRE_FALSE(r);
    CHECK(contains(joined(r.errors), c.expected));
  }
  const LoadResult ok =
      load_config(config_with("gw0.key", b_key, R"("trusted_cas": ["ca.pub"], )"));
  REQUIRE_MESSAGE(ok, joined(ok.errors));
  REQUIRE(ok.cas.size() == 1);
  CHECK(ok.cas[0] == ca.public_key);
}

TEST_CASE("config: network key file and exit nodes are loaded and checked") {
  TempDir dir;
  dir.write("gw0.key", to_base64(key_bytes(1)) + "\n");
  dir.write("net.key", to_base64(key_bytes(9)) + "\n");
  dir.write("loose.key", to_base64(key_bytes(9)) + "\n", 0644);
  const auto config_with = [&](const std::string& fields) {
    return dir.write("gw0.json",
                     R"({"name": "gw0", "private_key_file": "gw0.key", )" + fields + "}", 0644);
  };
  const LoadResult r =
      load_config(config_with(R"("network_key_file": "net.key", "certificate_exit_nodes": true)"));
  REQUIRE_MESSAGE(r, joined(r.errors));
  REQUIRE(r.network_key);
  CHECK(std::equal(r.network_key->bytes().begin(), r.network_key->bytes().end(),
                   key_bytes(9).begin()));
  CHECK(r.config->network_key_file == "net.key");
  CHECK(r.config->certificate_exit_nodes);
  const ParseResult again = parse_config(to_json(*r.config), "again.json");
  REQUIRE(again);
  CHECK(*again.config == *r.config);
  const LoadResult none = load_config(config_with(R"("listen_port": 1)"));
  REQUIRE(none);
  CHECK_FALSE(none.network_key);
  CHECK_FALSE(none.config->certificate_exit_nodes);

  struct Case {
    std::string fields, expected;
  };
  const Case cases[] = {
      {R"("network_key_file": "missing.key")", "$.network_key_file: expected a usable key file"},
      {R"("network_key_file": "loose.key")", "$.network_key_file: expected a usable key file"},
      {R"("network_key_file": 7)", "$.network_key_file: expected a file path"},
      {R"("certificate_exit_nodes": "yes")", "$.certificate_exit_nodes: expected true or false"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fields);
    const LoadResult bad = load_config(config_with(c.fields));
    REQUIRE_FALSE(bad);
    CHECK(contains(joined(bad.errors), c.expected));
    CHECK_FALSE(bad.network_key);
  }
}

TEST_CASE("config: deep nesting is one error, without deep recursion") {
  // 16 MiB of config may nest 8 million arrays. Parsing and checking must not
  // recurse once per level, nor keep a JSON path per level: on a 512 KiB
  // stack, each of these is one error naming where the limit was passed.
  const std::size_t n = 200000;
  const std::string deep = std::string(n, '[') + std::string(n, ']');
  const auto zeros = [](std::size_t k) {
    std::string s;
    for (std::size_t i = 0; i < k; ++i)
      s += "[0]";
    return s;
  };
  const std::string limit = ": expected at most 16 nested objects and arrays, got more";
  const std::array<std::pair<std::string, std::string>, 3> cases{{
      {deep, "deep.json: $" + zeros(16) + limit},
      {R"({"name": "gw1", "peers": )" + deep + "}", "deep.json: $.peers" + zeros(15) + limit},
      {R"({"name": "gw1", "x": {"a": {"b": )" + deep + "}}}",
       "deep.json: $.x.a.b" + zeros(13) + limit},
  }};
  for (const auto& [text, expected] : cases) {
    ParseResult r;
    gw::test::run_on_small_stack([&] { r = parse_config(text, "deep.json"); });
    CHECK_FALSE(r);
    REQUIRE_MESSAGE(r.errors.size() == 1, joined(r.errors));
    CHECK(r.errors[0] == expected);
  }
  // 16 levels are fine (the deepest config gwd reads nests 4).
  const ParseResult fine = parse_config(
      R"({"name": "gw1", "x": )" + std::string(15, '[') + std::string(15, ']') + "}", "ok.json");
  REQUIRE(fine.errors.size() == 2);  // $.x is unknown, and no private_key_file
  CHECK(fine.errors[0].find("$.x: expected one of the keys") != std::string::npos);
}
