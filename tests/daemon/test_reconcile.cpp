// SPDX-License-Identifier: MIT
// Reconcile's diff (src/daemon/reconcile.hpp): the plan from a running config
// to a wanted one, for every kind of change a peer or the interface can have.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "reconcile.hpp"

using namespace gw;
using namespace gw::daemon;

namespace {

crypto::PublicKey key_of(std::uint8_t b) {
  crypto::PublicKey k{};
  k.fill(b);
  return k;
}

config::Peer peer(const std::string& name, std::uint8_t key, std::vector<std::string> ips = {}) {
  config::Peer p;
  p.name = name;
  p.public_key = key_of(key);
  p.allowed_ips = std::move(ips);
  return p;
}

config::InterfaceConfig iface(std::vector<config::Peer> peers) {
  config::InterfaceConfig c;
  c.name = "gw0";
  c.private_key_file = "gw0.key";
  c.addresses = {"10.0.0.1/24"};
  c.peers = std::move(peers);
  return c;
}

Keys keys() {
  Keys k;
  k.public_key = key_of(0xee);
  return k;
}

// The one step of a one-peer plan.
PeerStep only_step(const config::Peer& before, const config::Peer& after) {
  const Plan plan = diff_peers({before}, {after});
  REQUIRE(plan.removed.empty());
  REQUIRE(plan.peers.size() == 1);
  CHECK_FALSE(plan.peers[0].added);
  return plan.peers[0];
}

}  // namespace

TEST_CASE("reconcile: nothing changed, nothing to do") {
  const auto c = iface({peer("a", 1, {"10.1.0.0/16"}), peer("b", 2)});
  const Plan plan = diff(c, keys(), c, keys());
  CHECK(plan.removed.empty());
  CHECK(plan.restart.empty());
  REQUIRE(plan.peers.size() == 2);
  CHECK_FALSE(plan.peers[0].changed);
  CHECK_FALSE(plan.peers[1].changed);
  CHECK_FALSE(plan.peer_changes());
}

TEST_CASE("reconcile: an added peer, in the wanted order") {
  const Plan plan = diff_peers({peer("a", 1)}, {peer("new", 9), peer("a", 1)});
  CHECK(plan.removed.empty());
  REQUIRE(plan.peers.size() == 2);
  CHECK(plan.peers[0].index == 0);
  CHECK(plan.peers[0].added);
  CHECK(plan.peers[0].changed);
  CHECK(plan.peers[1].index == 1);
  CHECK_FALSE(plan.peers[1].added);
  CHECK_FALSE(plan.peers[1].changed);
  CHECK(plan.peer_changes());
}

TEST_CASE("reconcile: a removed peer, and all removed") {
  Plan plan = diff_peers({peer("a", 1), peer("b", 2)}, {peer("b", 2)});
  REQUIRE(plan.removed.size() == 1);
  CHECK(plan.removed[0].name == "a");
  REQUIRE(plan.peers.size() == 1);
  CHECK_FALSE(plan.peers[0].changed);
  plan = diff_peers({peer("a", 1), peer("b", 2)}, {});
  CHECK(plan.removed.size() == 2);
  CHECK(plan.peers.empty());
  CHECK(plan.peer_changes());
}

TEST_CASE("reconcile: a peer is its key: a new key under the same name is a new peer") {
  const Plan plan = diff_peers({peer("a", 1)}, {peer("a", 2)});
  REQUIRE(plan.removed.size() == 1);
  CHECK(plan.removed[0].public_key == key_of(1));
  REQUIRE(plan.peers.size() == 1);
  CHECK(plan.peers[0].added);
}

TEST_CASE("reconcile: a rename keeps the peer") {
  const PeerStep s = only_step(peer("a", 1), peer("b", 1));
  CHECK(s.name);
  CHECK(s.changed);
  CHECK_FALSE(s.endpoint);
  CHECK_FALSE(s.allowed_ips);
  CHECK_FALSE(s.keepalive);
  CHECK_FALSE(s.psk_file);
}

TEST_CASE("reconcile: each peer field on its own") {
  const config::Peer before = peer("a", 1, {"10.1.0.0/16"});
  config::Peer after = before;
  SUBCASE("endpoint set") {
    after.endpoint = config::parse_host_port("192.0.2.1:51820");
    const PeerStep s = only_step(before, after);
    CHECK(s.endpoint);
    CHECK_FALSE(s.allowed_ips);
    CHECK(s.changed);
  }
  SUBCASE("endpoint changed, then forgotten") {
    config::Peer with = before;
    with.endpoint = config::parse_host_port("192.0.2.1:51820");
    after.endpoint = config::parse_host_port("vpn.example.net:51820");
    CHECK(only_step(with, after).endpoint);
    CHECK(only_step(with, before).endpoint);
  }
  SUBCASE("allowed IPs: one more, one fewer, another order") {
    after.allowed_ips = {"10.1.0.0/16", "10.2.0.0/16"};
    CHECK(only_step(before, after).allowed_ips);
    CHECK(only_step(after, before).allowed_ips);
    config::Peer swapped = after;
    swapped.allowed_ips = {"10.2.0.0/16", "10.1.0.0/16"};
    CHECK(only_step(after, swapped).allowed_ips);
  }
  SUBCASE("persistent keepalive") {
    after.persistent_keepalive = 25;
    const PeerStep s = only_step(before, after);
    CHECK(s.keepalive);
    CHECK_FALSE(s.endpoint);
    CHECK(s.changed);
  }
  SUBCASE("a PSK file added, changed, removed") {
    after.psk_file = "a.gwd.psk";
    CHECK(only_step(before, after).psk_file);
    config::Peer other = after;
    other.psk_file = "a.1.gwd.psk";
    CHECK(only_step(after, other).psk_file);
    CHECK(only_step(after, before).psk_file);
  }
  SUBCASE("a public key file instead of the inline key: changed, nothing to apply") {
    after.public_key_file = "a.pub";
    const PeerStep s = only_step(before, after);
    CHECK(s.changed);
    CHECK_FALSE(s.name);
    CHECK_FALSE(s.endpoint);
    CHECK_FALSE(s.allowed_ips);
    CHECK_FALSE(s.keepalive);
    CHECK_FALSE(s.psk_file);
  }
}

TEST_CASE("reconcile: a network passes from a removed peer to an added one") {
  const Plan plan =
      diff_peers({peer("old", 1, {"10.9.0.0/16"})}, {peer("new", 2, {"10.9.0.0/16"})});
  REQUIRE(plan.removed.size() == 1);
  REQUIRE(plan.peers.size() == 1);
  CHECK(plan.peers[0].added);
}

TEST_CASE("reconcile: interface fields that need a restart, each by its name") {
  const auto running = iface({peer("a", 1)});
  auto wanted = running;
  Keys wk = keys();
  std::vector<std::string> expect;
  SUBCASE("name") {
    wanted.name = "gw1";
    expect = {"name"};
  }
  SUBCASE("private key file") {
    wanted.private_key_file = "other.key";
    expect = {"private_key_file"};
  }
  SUBCASE("the private key rewritten under the same name") {
    wk.public_key = key_of(0xdd);
    expect = {"private_key_file"};
  }
  SUBCASE("listen port, addresses and MTU") {
    wanted.listen_port = 4500;
    wanted.addresses = {"10.0.0.1/24", "fd00::1/64"};
    wanted.mtu = 1280;
    expect = {"listen_port", "addresses", "mtu"};
  }
  SUBCASE("suites") {
    wanted.suites = {wanted.suites.back()};
    if (wanted.suites == running.suites) wanted.suites.push_back(1);
    expect = {"suites"};
  }
  SUBCASE("user, group, control group, metrics port, under-load threshold") {
    wanted.user = "gw";
    wanted.group = "gw";
    wanted.control_group = "gwadm";
    wanted.metrics_port = 9586;
    wanted.under_load_threshold = 7;
    expect = {"user", "group", "control_group", "metrics_port", "under_load_threshold"};
  }
  SUBCASE("certificate and network key, by content") {
    wk.certificate = identity::Certificate{};
    wk.network_key = KeyDigest{1};
    expect = {"certificate_file", "network_key_file"};
  }
  SUBCASE("fields applied live need none") {
    wanted.trusted_cas = {"ca.pub"};
    wanted.revocation_file = "revoked.txt";
    wanted.certificate_exit_nodes = true;
  }
  const Plan plan = diff(running, keys(), wanted, wk);
  CHECK(plan.restart == expect);
  CHECK_FALSE(plan.peer_changes());
}

TEST_CASE("reconcile: diff_peers compares no interface field") {
  auto a = iface({peer("a", 1)});
  auto b = a;
  b.mtu = 1280;
  CHECK(diff_peers(a.peers, b.peers).restart.empty());
  CHECK(diff(a, keys(), b, keys()).restart == std::vector<std::string>{"mtu"});
}

TEST_CASE("reconcile: the digest of a key tells keys apart without keeping them") {
  const crypto::Secret<config::kKeyLen> a(Bytes(key_of(1).data(), 32));
  const crypto::Secret<config::kKeyLen> b(Bytes(key_of(2).data(), 32));
  CHECK(digest(a) == digest(a));
  CHECK(digest(a) != digest(b));
}
