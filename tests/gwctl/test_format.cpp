// SPDX-License-Identifier: MIT
// What gwctl prints (src/gwctl/format.hpp): wg's units, plurals and
// omissions, the order of peers, and the whole `gwctl show` text.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "../../src/gwctl/format.hpp"
#include "gw/control/status.hpp"

using gw::control::PeerStatus;
using gw::control::Status;
using gw::gwctl::ago_text;
using gw::gwctl::bytes_text;
using gw::gwctl::duration_text;
using gw::gwctl::peer_list_text;
using gw::gwctl::reload_text;
using gw::gwctl::show_text;
using gw::gwctl::sorted_peers;

namespace {

constexpr std::int64_t kNow = 1795000000;

const std::string kKeyA = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
const std::string kKeyB = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const std::string kKeyC = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

PeerStatus peer(const std::string& name, const std::string& key, std::int64_t handshake) {
  PeerStatus p;
  p.name = name;
  p.public_key = key;
  p.latest_handshake = handshake;
  return p;
}

Status interface_status() {
  Status s;
  s.name = "gw0";
  s.public_key = kKeyA;
  s.listen_port = 51820;
  s.mtu = 1420;
  s.addresses = {"10.77.0.1/24", "fd77::1/64"};
  s.suites = {"ChaChaPoly_BLAKE2b", "ChaChaPoly_SHA256"};
  s.time = kNow;
  return s;
}

}  // namespace

TEST_CASE("gwctl: durations read as wg's, with singulars and plurals") {
  CHECK(duration_text(0) == "0 seconds");
  CHECK(duration_text(1) == "1 second");
  CHECK(duration_text(59) == "59 seconds");
  CHECK(duration_text(60) == "1 minute");
  CHECK(duration_text(65) == "1 minute, 5 seconds");
  CHECK(duration_text(3600) == "1 hour");
  CHECK(duration_text(2 * 3600 + 1) == "2 hours, 1 second");
  CHECK(duration_text(86400 + 3600 + 60 + 1) == "1 day, 1 hour, 1 minute, 1 second");
  CHECK(duration_text(3 * 86400) == "3 days");
  CHECK(duration_text(365 * 86400 + 2 * 86400) == "1 year, 2 days");
  CHECK(duration_text(2 * 365 * 86400) == "2 years");
}

TEST_CASE("gwctl: handshake times are taken against gwd's clock") {
  CHECK(ago_text(kNow, kNow) == "Now");
  CHECK(ago_text(kNow - 1, kNow) == "1 second ago");
  CHECK(ago_text(kNow - 65, kNow) == "1 minute, 5 seconds ago");
  CHECK(ago_text(kNow - 86400 * 2 - 7200, kNow) == "2 days, 2 hours ago");
  CHECK(ago_text(kNow + 5, kNow) ==
        "(System clock wound backward; connection problems may ensue.)");
  // The extremes of int64 do not overflow.
  CHECK_FALSE(ago_text(std::numeric_limits<std::int64_t>::min(), kNow).empty());
}

TEST_CASE("gwctl: byte counts use binary units with two decimals, as wg") {
  CHECK(bytes_text(0) == "0 B");
  CHECK(bytes_text(1023) == "1023 B");
  CHECK(bytes_text(1024) == "1.00 KiB");
  CHECK(bytes_text(1536) == "1.50 KiB");
  CHECK(bytes_text(1024 * 1024 - 1) == "1024.00 KiB");  // wg rounds the same way
  CHECK(bytes_text(1268777) == "1.21 MiB");
  CHECK(bytes_text(3758096384ULL) == "3.50 GiB");
  CHECK(bytes_text(1ULL << 40) == "1.00 TiB");
  CHECK(bytes_text(1ULL << 50) == "1024.00 TiB");
  CHECK(bytes_text(std::numeric_limits<std::uint64_t>::max()) == "16777216.00 TiB");
}

TEST_CASE("gwctl: peers are listed by latest handshake, then never-handshaked by name") {
  Status s = interface_status();
  s.peers = {peer("zed", kKeyA, 0), peer("old", kKeyB, kNow - 500), peer("alpha", kKeyC, 0),
             peer("new", kKeyA, kNow - 5), peer("also-new", kKeyB, kNow - 5)};
  const auto order = sorted_peers(s);
  REQUIRE(order.size() == 5);
  CHECK(order[0]->name == "also-new");
  CHECK(order[1]->name == "new");
  CHECK(order[2]->name == "old");
  CHECK(order[3]->name == "alpha");
  CHECK(order[4]->name == "zed");
}

TEST_CASE("gwctl: show prints the interface and every peer in wg's manner") {
  Status s = interface_status();
  PeerStatus b = peer("site-b", kKeyB, kNow - 65);
  b.endpoint = "192.0.2.2:51820";
  b.configured_endpoint = "192.0.2.2:51820";
  b.allowed_ips = {"10.2.0.0/24", "fd02::/64"};
  b.persistent_keepalive = 25;
  b.session = true;
  b.rx_bytes = 1268777;
  b.tx_bytes = 3758096384ULL;
  b.suite = "ChaChaPoly_BLAKE2b";
  b.psk = true;
  // Never handshaked, no endpoint, no allowed IPs: the lines wg omits are omitted.
  PeerStatus laptop = peer("laptop", kKeyC, 0);
  s.peers = {laptop, b};

  CHECK(show_text(s) ==
        "interface: gw0\n"
        "  public key: " +
            kKeyA +
            "\n"
            "  listening port: 51820\n"
            "  addresses: 10.77.0.1/24, fd77::1/64\n"
            "  suites: ChaChaPoly_BLAKE2b, ChaChaPoly_SHA256\n"
            "\n"
            "peer: site-b\n"
            "  public key: " +
            kKeyB +
            "\n"
            "  preshared key: (hidden)\n"
            "  endpoint: 192.0.2.2:51820\n"
            "  allowed ips: 10.2.0.0/24, fd02::/64\n"
            "  latest handshake: 1 minute, 5 seconds ago\n"
            "  transfer: 1.21 MiB received, 3.50 GiB sent\n"
            "  suite: ChaChaPoly_BLAKE2b\n"
            "  persistent keepalive: every 25 seconds\n"
            "\n"
            "peer: laptop\n"
            "  public key: " +
            kKeyC +
            "\n"
            "  allowed ips: (none)\n");
}

TEST_CASE("gwctl: show of an interface without peers or addresses") {
  Status s = interface_status();
  s.addresses.clear();
  s.suites.clear();
  CHECK(show_text(s) == "interface: gw0\n  public key: " + kKeyA + "\n  listening port: 51820\n");
}

TEST_CASE("gwctl: show reads a reply as docs/CONTROL.md has it") {
  const auto reply = nlohmann::json::parse(R"({"version":1,"ok":true,
    "interface":{"name":"gw0","public_key":")" +
                                           kKeyA + R"(","listen_port":51820,"mtu":1420,
                 "addresses":["10.77.0.1/24"],"suites":["ChaChaPoly_BLAKE2b"],"full_tunnel":false},
    "time":1795000000,
    "peers":[{"name":"site-b","public_key":")" +
                                           kKeyB + R"(",
              "endpoint":"192.0.2.2:51820","configured_endpoint":"192.0.2.2:51820",
              "allowed_ips":["10.2.0.0/24"],"persistent_keepalive":0,"psk":false,
              "session":true,"latest_handshake":1795000000,
              "rx_bytes":1024,"tx_bytes":0,"rx_packets":8,"tx_packets":0,
              "handshakes":1,"suite":null}],
    "counters":{"dropped":{"bad_mac1":0,"replay":2},
                "handshakes_failed":{"unknown_peer":1,"timeout":0},
                "cookie_replies_sent":0,"sessions_active":1}})");
  std::string error;
  const auto status = gw::control::status_from_json(reply, error);
  REQUIRE_MESSAGE(status, error);
  const std::string text = show_text(*status);
  CHECK(text.find("  latest handshake: Now\n") != std::string::npos);
  CHECK(text.find("  transfer: 1.00 KiB received, 0 B sent\n") != std::string::npos);
  CHECK(text.find("\n  suite: ") == std::string::npos);  // no session, no suite line
  CHECK(text.find("persistent keepalive") == std::string::npos);
}

TEST_CASE("gwctl: peer list prints one tab-separated line per peer") {
  const auto peers = nlohmann::json::parse(R"([
    {"name":"site-b","public_key":"KB","endpoint":"192.0.2.2:51820",
     "allowed_ips":["10.2.0.0/24","fd02::/64"],"persistent_keepalive":25,"psk":true},
    {"name":"laptop","public_key":"KC","endpoint":null,"allowed_ips":[],
     "persistent_keepalive":0,"psk":false}])");
  std::string error;
  const auto text = peer_list_text(peers, error);
  REQUIRE_MESSAGE(text, error);
  CHECK(*text ==
        "site-b\tKB\t192.0.2.2:51820\t10.2.0.0/24,fd02::/64\n"
        "laptop\tKC\t(none)\t(none)\n");
  CHECK(peer_list_text(nlohmann::json::array(), error) == "");

  CHECK_FALSE(peer_list_text(nlohmann::json::object(), error));
  CHECK_FALSE(peer_list_text(nlohmann::json::parse(R"([{"name":"x"}])"), error));
  CHECK(error.find("peers[0]") != std::string::npos);
  CHECK_FALSE(peer_list_text(
      nlohmann::json::parse(R"([{"name":"x","public_key":"K","endpoint":5}])"), error));
  CHECK_FALSE(peer_list_text(
      nlohmann::json::parse(R"([{"name":"x","public_key":"K","allowed_ips":[1]}])"), error));
}

TEST_CASE("gwctl: reload names what changed") {
  CHECK(reload_text({}, {}, {}) == "no changes\n");
  CHECK(reload_text({"a", "b"}, {"c"}, {"d"}) == "added: a, b\nremoved: c\nchanged: d\n");
  CHECK(reload_text({}, {}, {"d"}) == "changed: d\n");
}
