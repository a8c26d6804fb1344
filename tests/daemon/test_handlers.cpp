// SPDX-License-Identifier: MIT
// gwd's control handlers (src/daemon/handlers.hpp) against a temporary config
// folder and a fake apply target: what each command commits to the file,
// which plan it hands to reconcile, and what it replies; no kernel, no root.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/temp_dir.hpp"
#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"
#include "gw/config/store.hpp"
#include "gw/crypto/x25519.hpp"
#include "handlers.hpp"

using namespace gw;
using namespace gw::daemon;
using gw::test::TempDir;

namespace {

std::array<std::uint8_t, 32> key_bytes(std::uint8_t seed) {
  std::array<std::uint8_t, 32> a{};
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::uint8_t>(seed + i * 3);
  return a;
}

crypto::PublicKey pub_of(std::uint8_t seed) {
  return crypto::public_key_of(crypto::PrivateKey(key_bytes(seed)));
}

std::string pub(std::uint8_t seed) {
  return config::to_base64(pub_of(seed));
}

// What the handlers handed over, and what the fake "runs".
class FakeTarget final : public HandlerTarget {
 public:
  std::vector<std::string> apply(const Plan& plan, const config::InterfaceConfig& wanted,
                                 std::vector<std::optional<crypto::LockedKey>> psks) override {
    plans.push_back(plan);
    psks_given.push_back(std::move(psks));
    if (fail_next) {
      fail_next = false;
      return {"peer x: route refused"};  // and nothing applied
    }
    running = wanted.peers;
    return {};
  }
  const config::InterfaceConfig& started() const override { return started_cfg; }
  const Keys& keys() const override { return keys_; }
  const std::vector<config::Peer>& running_peers() const override { return running; }
  bool full_tunnel() const override { return full; }
  void forget_underlay() override {}
  std::optional<std::string> route_refusal(const std::vector<std::string>& allowed,
                                           const std::optional<config::HostPort>&,
                                           const std::string& path, bool) override {
    for (std::size_t k = 0; k < allowed.size(); ++k) {
      if (allowed[k] == routed_elsewhere) return path + "[" + std::to_string(k) + "]: taken";
    }
    return std::nullopt;
  }
  std::vector<std::string> retrust(std::vector<identity::CaPublicKey>,
                                   identity::RevocationList) override {
    ++retrusts;
    return {};
  }
  void start_idle_sessions() override { ++kicks; }
  control::Status status() const override {
    control::Status s;
    s.name = started_cfg.name;
    return s;
  }
  nlohmann::json certified_list() const override { return nlohmann::json::array(); }

  config::InterfaceConfig started_cfg;
  Keys keys_;
  std::vector<config::Peer> running;
  bool full = false;
  bool fail_next = false;
  std::string routed_elsewhere = "192.168.1.0/24";
  std::vector<Plan> plans;
  std::vector<std::vector<std::optional<crypto::LockedKey>>> psks_given;
  int retrusts = 0;
  int kicks = 0;
};

std::string config_text(const std::string& peers, const std::string& extra = "") {
  return R"({"name": "gw0", "private_key_file": "gw0.key", "addresses": ["10.0.0.1/24"],)" + extra +
         R"( "peers": [)" + peers + "]}";
}

std::string peer_json(const std::string& name, std::uint8_t key, const std::string& ips) {
  return R"({"name": ")" + name + R"(", "public_key": ")" + pub(key) + R"(", "allowed_ips": [)" +
         ips + "]}";
}

// A config folder, the config as gwd read it, the fake and the handlers.
struct Fixture {
  TempDir dir;
  std::string path;
  config::Store store{""};
  config::InterfaceConfig cfg;
  FakeTarget target;
  Log log{"gwd-test", Level::error};
  std::optional<Handlers> handlers;

  Fixture() {
    dir.write("gw0.key", config::to_base64(key_bytes(1)) + "\n");
    path = dir.write("gw0.json", config_text(peer_json("alice", 2, R"("10.1.0.0/16")")));
    store = config::Store(path);
    const config::LoadResult r = config::load_config(path);
    REQUIRE(r);
    cfg = *r.config;
    target.started_cfg = cfg;
    target.started_cfg.peers.clear();
    target.keys_.public_key = r.key->public_key;
    target.running = cfg.peers;
    handlers.emplace(store, cfg, target, log, "test");
  }

  // One request line through handle(), its reply parsed.
  nlohmann::json call(const nlohmann::json& request) {
    return nlohmann::json::parse(handlers->handle(request.dump()));
  }
  // The file's peers, as it holds them now.
  std::vector<config::Peer> file_peers() const {
    const config::LoadResult r = config::load_config(path);
    REQUIRE(r);
    return r.config->peers;
  }
  bool exists(const std::string& name) const { return std::filesystem::exists(dir.file(name)); }
};

nlohmann::json add_request(const std::string& name, std::uint8_t key, const char* ips) {
  return {{"version", 1},
          {"command", "peer.add"},
          {"peer", {{"name", name}, {"public_key", pub(key)}, {"allowed_ips", {ips}}}}};
}

nlohmann::json set_request(const std::string& peer, nlohmann::json set) {
  return {{"version", 1}, {"command", "peer.set"}, {"peer", peer}, {"set", std::move(set)}};
}

const std::string kPsk = config::to_base64(key_bytes(7));

}  // namespace

TEST_CASE("handlers: version and show are values, serialized by handle()") {
  Fixture f;
  nlohmann::json r = f.call({{"version", 1}, {"command", "version"}});
  CHECK(r["ok"] == true);
  CHECK(r["gwd"] == "test");
  r = f.call({{"version", 1}, {"command", "show"}});
  CHECK(r["ok"] == true);
  CHECK(r["interface"]["name"] == "gw0");
  CHECK(f.target.plans.empty());
}

TEST_CASE("handlers: a request that does not parse is an error reply") {
  Fixture f;
  const nlohmann::json r = nlohmann::json::parse(f.handlers->handle("{not json"));
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "bad_json");
}

TEST_CASE("handlers: peer.add commits the file, then reconciles one added peer") {
  Fixture f;
  const nlohmann::json r = f.call(add_request("bob", 3, "10.2.0.0/16"));
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  CHECK(r["peer"] == "bob");
  const auto peers = f.file_peers();
  REQUIRE(peers.size() == 2);
  CHECK(peers[1].name == "bob");
  CHECK(f.cfg.peers == peers);
  REQUIRE(f.target.plans.size() == 1);
  const Plan& plan = f.target.plans[0];
  CHECK(plan.removed.empty());
  REQUIRE(plan.peers.size() == 2);
  CHECK_FALSE(plan.peers[0].changed);
  CHECK(plan.peers[1].added);
  CHECK_FALSE(f.target.psks_given.at(0).at(1).value_or(crypto::LockedKey()).has_value());
  CHECK(f.target.running == peers);
}

TEST_CASE("handlers: peer.add with a PSK writes gwd's own PSK file and hands the key over") {
  Fixture f;
  nlohmann::json req = add_request("bob", 3, "10.2.0.0/16");
  req["peer"]["psk"] = kPsk;
  const nlohmann::json r = f.call(req);
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  CHECK(f.exists("bob.gwd.psk"));
  CHECK(f.file_peers()[1].psk_file == "bob.gwd.psk");
  REQUIRE(f.target.psks_given.size() == 1);
  REQUIRE(f.target.psks_given[0][1].has_value());
  CHECK(config::to_base64(f.target.psks_given[0][1]->bytes()) == kPsk);
}

TEST_CASE("handlers: a refused peer.add changes no file and applies nothing") {
  Fixture f;
  const std::string before = gw::test::read_file(f.dir.file("gw0.json"));
  nlohmann::json r;
  SUBCASE("our own key") {
    r = f.call(add_request("me", 1, "10.2.0.0/16"));
    CHECK(r["error"] == "conflict");
  }
  SUBCASE("a name taken, with a PSK: the new PSK file goes again") {
    nlohmann::json req = add_request("alice", 3, "10.2.0.0/16");
    req["peer"]["psk"] = kPsk;
    r = f.call(req);
    CHECK(r["error"] == "conflict");
    CHECK_FALSE(f.exists("alice.gwd.psk"));
  }
  SUBCASE("a network routed elsewhere") {
    r = f.call(add_request("bob", 3, "192.168.1.0/24"));
    CHECK(r["error"] == "conflict");
    CHECK(r["message"] == "$.peer.allowed_ips[0]: taken");
  }
  SUBCASE("a full tunnel without one running") {
    r = f.call(add_request("bob", 3, "0.0.0.0/0"));
    CHECK(r["error"] == "restart_required");
  }
  CHECK(r["ok"] == false);
  CHECK(gw::test::read_file(f.dir.file("gw0.json")) == before);
  CHECK(f.target.plans.empty());
}

TEST_CASE("handlers: peer.remove by name or key; unknown peers are not_found") {
  Fixture f;
  SUBCASE("by name") {
    const nlohmann::json r =
        f.call({{"version", 1}, {"command", "peer.remove"}, {"peer", "alice"}});
    REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  }
  SUBCASE("by key") {
    const nlohmann::json r = f.call({{"version", 1}, {"command", "peer.remove"}, {"peer", pub(2)}});
    REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  }
  CHECK(f.file_peers().empty());
  REQUIRE(f.target.plans.size() == 1);
  REQUIRE(f.target.plans[0].removed.size() == 1);
  CHECK(f.target.plans[0].removed[0].name == "alice");
  const nlohmann::json r = f.call({{"version", 1}, {"command", "peer.remove"}, {"peer", "zed"}});
  CHECK(r["error"] == "not_found");
}

TEST_CASE("handlers: peer.set hands reconcile the fields it names") {
  Fixture f;
  SUBCASE("allowed IPs") {
    const nlohmann::json r = f.call(set_request("alice", {{"allowed_ips", {"10.3.0.0/16"}}}));
    REQUIRE_MESSAGE(r["ok"] == true, r.dump());
    CHECK(f.file_peers()[0].allowed_ips == std::vector<std::string>{"10.3.0.0/16"});
    const PeerStep& s = f.target.plans.at(0).peers.at(0);
    CHECK(s.allowed_ips);
    CHECK_FALSE(s.endpoint);
    CHECK_FALSE(s.keepalive);
  }
  SUBCASE("an endpoint is applied even when it is the same") {
    REQUIRE(f.call(set_request("alice", {{"endpoint", "192.0.2.1:51820"}}))["ok"] == true);
    REQUIRE(f.call(set_request("alice", {{"endpoint", "192.0.2.1:51820"}}))["ok"] == true);
    REQUIRE(f.target.plans.size() == 2);
    CHECK(f.target.plans[1].peers[0].endpoint);
    CHECK(f.target.plans[1].peers[0].changed);
  }
  SUBCASE("keepalive") {
    REQUIRE(f.call(set_request("alice", {{"persistent_keepalive", 25}}))["ok"] == true);
    CHECK(f.target.plans.at(0).peers.at(0).keepalive);
    CHECK(f.file_peers()[0].persistent_keepalive == 25);
  }
  SUBCASE("a network routed elsewhere is refused") {
    const nlohmann::json r = f.call(set_request("alice", {{"allowed_ips", {"192.168.1.0/24"}}}));
    CHECK(r["error"] == "conflict");
    CHECK(f.target.plans.empty());
  }
}

TEST_CASE("handlers: peer.set psk writes a new file, then removes the old one gwd wrote") {
  Fixture f;
  REQUIRE(f.call(set_request("alice", {{"psk", kPsk}}))["ok"] == true);
  CHECK(f.exists("alice.gwd.psk"));
  CHECK(f.file_peers()[0].psk_file == "alice.gwd.psk");
  REQUIRE(f.target.psks_given.at(0).at(0).has_value());
  // A second key: a new name while the old file still holds the old key.
  const std::string other = config::to_base64(key_bytes(8));
  REQUIRE(f.call(set_request("alice", {{"psk", other}}))["ok"] == true);
  CHECK(f.file_peers()[0].psk_file == "alice.1.gwd.psk");
  CHECK_FALSE(f.exists("alice.gwd.psk"));
  // Removed: the file goes, the engine is told (an empty key).
  REQUIRE(f.call(set_request("alice", {{"psk", nullptr}}))["ok"] == true);
  CHECK_FALSE(f.file_peers()[0].psk_file.has_value());
  CHECK_FALSE(f.exists("alice.1.gwd.psk"));
  REQUIRE(f.target.psks_given.at(2).at(0).has_value());
  CHECK_FALSE(f.target.psks_given.at(2).at(0)->has_value());
}

TEST_CASE("handlers: reload diffs the running peers against the file") {
  Fixture f;
  f.dir.write("gw0.json", config_text(peer_json("alice2", 2, R"("10.1.0.0/16")") + "," +
                                          peer_json("carol", 4, R"("10.4.0.0/16")"),
                                      R"( "mtu": 1280,)"));
  const nlohmann::json r = f.call({{"version", 1}, {"command", "reload"}});
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  CHECK(r["added"] == nlohmann::json{"carol"});
  CHECK(r["changed"] == nlohmann::json{"alice2"});
  CHECK(r["removed"] == nlohmann::json::array());
  CHECK(r["restart_required"] == nlohmann::json{"mtu"});
  REQUIRE(f.target.plans.size() == 1);
  CHECK(f.target.plans[0].peers[0].name);
  CHECK(f.target.retrusts == 1);
  CHECK(f.target.kicks == 1);
  CHECK(f.cfg.peers.size() == 2);
  // Every PSK slot is given: a file's content may change under one name.
  CHECK(f.target.psks_given[0].size() == 2);
  CHECK(f.target.psks_given[0][0].has_value());
}

TEST_CASE("handlers: a config that does not load is reported; nothing changes") {
  Fixture f;
  f.dir.write("gw0.json", "{\"name\": ");
  const nlohmann::json r = f.call({{"version", 1}, {"command", "reload"}});
  CHECK(r["error"] == "bad_config");
  CHECK(f.target.plans.empty());
  CHECK(f.cfg.peers.size() == 1);
}

TEST_CASE("handlers: a partial apply is reported, and the next reload converges") {
  Fixture f;
  f.target.fail_next = true;
  nlohmann::json r = f.call(add_request("bob", 3, "10.2.0.0/16"));
  CHECK(r["error"] == "failed");
  CHECK(r["message"] == "peer x: route refused");
  CHECK(f.file_peers().size() == 2);  // the file is the truth
  CHECK(f.target.running.size() == 1);
  r = f.call({{"version", 1}, {"command", "reload"}});
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  CHECK(r["added"] == nlohmann::json{"bob"});
  CHECK(f.target.running.size() == 2);
}
