// SPDX-License-Identifier: MIT
// The status JSON (include/gw/control/status.hpp): docs/CONTROL.md's "show"
// example read and written exactly, round trips with extreme values, unknown
// members ignored, and a table of bad inputs, each refused with its JSON path.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gw/control/status.hpp"

using gw::control::Counters;
using gw::control::PeerStatus;
using gw::control::Status;
using gw::control::status_from_json;
using gw::control::to_json;
using json = nlohmann::json;

namespace {

// docs/CONTROL.md, the reply to "show", verbatim.
const char* const kShowReply = R"({"version":1,"ok":true,
 "interface":{"name":"gw0","public_key":"BASE64","listen_port":51820,"mtu":1420,
              "addresses":["10.77.0.1/24"],"suites":["ChaChaPoly_BLAKE2b"],"full_tunnel":false},
 "time":1795000000,
 "peers":[{"name":"site-b","public_key":"BASE64",
           "endpoint":"192.0.2.2:51820","configured_endpoint":"192.0.2.2:51820",
           "allowed_ips":["10.2.0.0/24"],"persistent_keepalive":25,"psk":false,
           "session":true,"latest_handshake":1794999990,
           "rx_bytes":1024,"tx_bytes":2048,"rx_packets":8,"tx_packets":9,
           "handshakes":1,"suite":"ChaChaPoly_BLAKE2b",
           "handshake_pending_since":0,"handshake_attempts":0,"handshake_trouble":null,
           "certificate":null,"certificate_expires":0}],
 "counters":{"dropped":{"bad_mac1":0,"replay":2},
             "handshakes_failed":{"unknown_peer":1,"timeout":0},
             "cookie_replies_sent":0,"sessions_active":1}})";

// The status kShowReply describes.
Status documented() {
  Status s;
  s.name = "gw0";
  s.public_key = "BASE64";
  s.listen_port = 51820;
  s.mtu = 1420;
  s.addresses = {"10.77.0.1/24"};
  s.suites = {"ChaChaPoly_BLAKE2b"};
  s.time = 1795000000;
  PeerStatus p;
  p.name = "site-b";
  p.public_key = "BASE64";
  p.endpoint = "192.0.2.2:51820";
  p.configured_endpoint = "192.0.2.2:51820";
  p.allowed_ips = {"10.2.0.0/24"};
  p.persistent_keepalive = 25;
  p.session = true;
  p.latest_handshake = 1794999990;
  p.rx_bytes = 1024;
  p.tx_bytes = 2048;
  p.rx_packets = 8;
  p.tx_packets = 9;
  p.handshakes = 1;
  p.suite = "ChaChaPoly_BLAKE2b";
  s.peers = {p};
  s.counters.dropped = {{"bad_mac1", 0}, {"replay", 2}};
  s.counters.handshakes_failed = {{"unknown_peer", 1}, {"timeout", 0}};
  s.counters.sessions_active = 1;
  return s;
}

// Two peers, one with nothing optional set, and the largest values of every type.
Status extreme() {
  constexpr auto u64 = std::numeric_limits<std::uint64_t>::max();
  Status s = documented();
  s.listen_port = 65535;
  s.mtu = 0;
  s.addresses = {"10.77.0.1/24", "fd77::1/64"};
  s.suites = {"AESGCM_SHA256", "ChaChaPoly_SHA256"};
  s.full_tunnel = true;
  s.time = std::numeric_limits<std::int64_t>::min();
  PeerStatus p;
  p.name = "laptop \"quoted\"\n\u00e9";
  p.public_key = "KEY";
  p.persistent_keepalive = 65535;
  p.psk = true;
  p.latest_handshake = std::numeric_limits<std::int64_t>::max();
  p.rx_bytes = u64;
  p.tx_bytes = u64 - 1;
  p.rx_packets = u64 - 2;
  p.tx_packets = u64 - 3;
  p.handshakes = u64 - 4;
  s.peers.push_back(p);
  s.counters.dropped["no_route"] = u64;
  s.counters.cookie_replies_sent = u64;
  return s;
}

}  // namespace

TEST_CASE("status: to_json writes docs/CONTROL.md's show reply") {
  json expected = json::parse(kShowReply);
  expected.erase("version");  // the control server's, not the status's
  expected.erase("ok");
  CHECK(to_json(documented()) == expected);
}

TEST_CASE("status: status_from_json reads docs/CONTROL.md's show reply") {
  std::string error = "stale";
  const auto s = status_from_json(json::parse(kShowReply), error);
  REQUIRE_MESSAGE(s, error);
  CHECK(*s == documented());
  CHECK(error.empty());
}

TEST_CASE("status: absent optionals are null") {
  const Status s = extreme();
  const json j = to_json(s);
  const json& p = j["peers"][1];
  CHECK(p["endpoint"].is_null());
  CHECK(p["configured_endpoint"].is_null());
  CHECK(p["suite"].is_null());
  CHECK(j["peers"][0]["suite"] == "ChaChaPoly_BLAKE2b");
}

TEST_CASE("status: round trips, in memory and through text") {
  for (const Status& s : {Status{}, documented(), extreme()}) {
    std::string error;
    const auto direct = status_from_json(to_json(s), error);
    REQUIRE_MESSAGE(direct, error);
    CHECK(*direct == s);
    const auto parsed = status_from_json(json::parse(to_json(s).dump()), error);
    REQUIRE_MESSAGE(parsed, error);
    CHECK(*parsed == s);
  }
}

TEST_CASE("status: unknown members are ignored, at every level") {
  json j = to_json(extreme());
  j["future"] = {{"a", 1}};
  j["interface"]["future"] = nullptr;
  j["peers"][0]["future"] = json::array();
  j["counters"]["future"] = "x";
  std::string error;
  const auto s = status_from_json(j, error);
  REQUIRE_MESSAGE(s, error);
  CHECK(*s == extreme());
}

TEST_CASE("status: non-negative numbers built in memory as signed are read") {
  // json(5) is a signed integer; numbers parsed from text are unsigned.
  json j = to_json(documented());
  j["interface"]["listen_port"] = 51820;
  j["peers"][0]["rx_bytes"] = 1024;
  j["counters"]["dropped"]["replay"] = 2;
  REQUIRE(j["peers"][0]["rx_bytes"].is_number_unsigned() == false);
  std::string error;
  const auto s = status_from_json(j, error);
  REQUIRE_MESSAGE(s, error);
  CHECK(*s == documented());
}

TEST_CASE("status: bad input is refused with the JSON path, never thrown") {
  struct Case {
    const char* pointer;        // where to change the documented reply (with a second peer)
    std::optional<json> value;  // nullopt: remove the member
    const char* error;
  };
  const json big_unsigned = std::numeric_limits<std::uint64_t>::max();
  const std::vector<Case> cases = {
      {"", json::array(), "$: expected an object"},
      {"/interface", std::nullopt, "$.interface: missing (expected an object)"},
      {"/interface", 1, "$.interface: expected an object"},
      {"/interface/name", std::nullopt, "$.interface.name: missing (expected a string)"},
      {"/interface/public_key", nullptr, "$.interface.public_key: expected a string"},
      {"/interface/listen_port", 65536,
       "$.interface.listen_port: expected an integer from 0 to 65535"},
      {"/interface/mtu", -1, "$.interface.mtu: expected an integer from 0 to 65535"},
      {"/interface/mtu", 1420.0, "$.interface.mtu: expected an integer from 0 to 65535"},
      {"/interface/addresses", "10.0.0.1/24",
       "$.interface.addresses: expected an array of strings"},
      {"/interface/suites/1", 1, "$.interface.suites[1]: expected a string"},
      {"/interface/full_tunnel", 0, "$.interface.full_tunnel: expected true or false"},
      {"/time", std::nullopt, "$.time: missing (expected an integer)"},
      {"/time", 1.5, "$.time: expected an integer"},
      {"/time", "1795000000", "$.time: expected an integer"},
      {"/time", big_unsigned, "$.time: expected an integer"},
      {"/peers", json::object(), "$.peers: expected an array of peers"},
      {"/peers/1", "laptop", "$.peers[1]: expected an object"},
      {"/peers/0/name", nullptr, "$.peers[0].name: expected a string"},
      {"/peers/0/endpoint", 5, "$.peers[0].endpoint: expected a string or null"},
      {"/peers/1/configured_endpoint", std::nullopt,
       "$.peers[1].configured_endpoint: missing (expected a string or null)"},
      {"/peers/1/allowed_ips/0", json::array(), "$.peers[1].allowed_ips[0]: expected a string"},
      {"/peers/1/persistent_keepalive", 65536,
       "$.peers[1].persistent_keepalive: expected an integer from 0 to 65535"},
      {"/peers/1/psk", "false", "$.peers[1].psk: expected true or false"},
      {"/peers/1/session", nullptr, "$.peers[1].session: expected true or false"},
      {"/peers/1/latest_handshake", true, "$.peers[1].latest_handshake: expected an integer"},
      {"/peers/1/rx_bytes", -1, "$.peers[1].rx_bytes: expected an unsigned integer"},
      {"/peers/1/tx_bytes", "1", "$.peers[1].tx_bytes: expected an unsigned integer"},
      {"/peers/1/rx_packets", 1e30, "$.peers[1].rx_packets: expected an unsigned integer"},
      {"/peers/1/tx_packets", std::nullopt,
       "$.peers[1].tx_packets: missing (expected an unsigned integer)"},
      {"/peers/1/handshakes", nullptr, "$.peers[1].handshakes: expected an unsigned integer"},
      {"/peers/1/suite", std::nullopt, "$.peers[1].suite: missing (expected a string or null)"},
      {"/counters", nullptr, "$.counters: expected an object"},
      {"/counters/dropped", json::array(), "$.counters.dropped: expected an object of counts"},
      {"/counters/dropped/replay", -2, "$.counters.dropped.replay: expected an unsigned integer"},
      {"/counters/dropped/no route", "x",
       "$.counters.dropped[\"no route\"]: expected an unsigned integer"},
      {"/counters/handshakes_failed", std::nullopt,
       "$.counters.handshakes_failed: missing (expected an object of counts)"},
      {"/counters/cookie_replies_sent", 0.0,
       "$.counters.cookie_replies_sent: expected an unsigned integer"},
      {"/counters/sessions_active", std::nullopt,
       "$.counters.sessions_active: missing (expected an unsigned integer)"},
  };
  Status two = documented();
  two.peers.push_back(extreme().peers.back());
  const json good = to_json(two);
  for (const Case& c : cases) {
    CAPTURE(c.pointer);
    json j = good;
    const json::json_pointer at(c.pointer);
    if (c.value) {
      j[at] = *c.value;
    } else {
      j[at.parent_pointer()].erase(at.back());
    }
    std::string error;
    std::optional<Status> s;
    CHECK_NOTHROW(s = status_from_json(j, error));
    CHECK_FALSE(s);
    CHECK(error == c.error);
  }
}

TEST_CASE("status: parsed text that is not a status") {
  for (const char* text : {"null", "[]", "\"show\"", "{}", R"({"time":18446744073709551616})"}) {
    CAPTURE(text);
    std::string error;
    CHECK_FALSE(status_from_json(json::parse(text), error));
    CHECK_FALSE(error.empty());
  }
}
