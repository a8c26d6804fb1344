// SPDX-License-Identifier: MIT
// The request builder (include/gw/control/request_builder.hpp): every request
// it makes is one parse_request() accepts, with the fields it was given, and
// the PSK text a request carries is wiped by wipe_psks().
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "gw/config/key_file.hpp"
#include "gw/control/request.hpp"
#include "gw/control/request_builder.hpp"

using namespace gw::control;

namespace {

const std::string kKey = "ML3VDGLldlX6o4E7u2lcGF0slnET0kafZlLFyOCI61o=";
const std::string kPsk = "q2b1Zo7a3y0Tq7b8ZQ0mBq2yJ1pX9rD6kT3nW5cL8aE=";

gw::crypto::PublicKey public_key() {
  const auto key = gw::config::parse_public_key(kKey);
  REQUIRE(key.has_value());
  return *key;
}

// The request as gwctl sends it, one line, parsed as gwd parses it.
Request round_trip(const nlohmann::json& request) {
  CHECK(request["version"] == kProtocolVersion);
  auto r = parse_request(request.dump());
  if (const auto* e = std::get_if<Error>(&r)) FAIL_CHECK(e->code << ": " << e->message);
  REQUIRE(std::holds_alternative<Request>(r));
  return std::move(std::get<Request>(r));
}

bool all_zero(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '\0'; });
}

gw::control::NewPeer laptop() {
  NewPeer peer;
  peer.name = "laptop";
  peer.public_key = public_key();
  return peer;
}

}  // namespace

TEST_CASE("request builder: the commands without members") {
  CHECK(round_trip(version_request()).command == Command::version);
  CHECK(round_trip(show_request()).command == Command::show);
  CHECK(round_trip(reload_request()).command == Command::reload);
  const Request configured = round_trip(peer_list_request(false));
  CHECK(configured.command == Command::peer_list);
  CHECK_FALSE(configured.certified);
  CHECK_FALSE(peer_list_request(false).contains("certified"));
  const Request certified = round_trip(peer_list_request(true));
  CHECK(certified.command == Command::peer_list);
  CHECK(certified.certified);
}

TEST_CASE("request builder: peer.remove names the peer") {
  const Request by_name = round_trip(peer_remove_request("laptop"));
  CHECK(by_name.command == Command::peer_remove);
  CHECK(by_name.peer == "laptop");
  CHECK(round_trip(peer_remove_request(kKey)).peer == kKey);
}

TEST_CASE("request builder: peer.add with only the required fields") {
  const Request r = round_trip(peer_add_request(laptop()));
  CHECK(r.command == Command::peer_add);
  CHECK(r.new_peer.name == "laptop");
  CHECK(gw::config::to_base64(r.new_peer.public_key) == kKey);
  CHECK_FALSE(r.new_peer.endpoint.has_value());
  CHECK(r.new_peer.allowed_ips.empty());
  CHECK_FALSE(r.psk.has_value());
}

TEST_CASE("request builder: peer.add with every field, and its PSK wiped") {
  const auto psk = gw::config::parse_secret_key(kPsk);
  REQUIRE(psk.has_value());
  NewPeer peer;
  peer.name = "laptop";
  peer.public_key = public_key();
  peer.endpoint = "vpn.example.net:51820";
  peer.allowed_ips = std::vector<std::string>{"10.88.0.2/32", "fd88::2/128"};
  peer.persistent_keepalive = 25;
  peer.psk = psk->bytes();
  nlohmann::json request = peer_add_request(peer);
  const Request r = round_trip(request);
  CHECK(r.command == Command::peer_add);
  CHECK(r.new_peer.name == "laptop");
  REQUIRE(r.new_peer.endpoint.has_value());
  CHECK(r.new_peer.endpoint->host == "vpn.example.net");
  CHECK(r.new_peer.endpoint->port == 51820);
  CHECK(r.new_peer.allowed_ips == *peer.allowed_ips);
  CHECK(r.new_peer.persistent_keepalive == 25);
  REQUIRE(r.psk.has_value());
  CHECK(gw::config::to_base64(r.psk.bytes()) == kPsk);

  const std::string& text = request["peer"]["psk"].get_ref<const std::string&>();
  const char* const where = text.data();
  CHECK(text == kPsk);
  wipe_psks(request);
  // In place: the same buffer, its bytes zero.
  CHECK(request["peer"]["psk"].get_ref<const std::string&>().data() == where);
  CHECK(text.size() == kPsk.size());
  CHECK(all_zero(text));
  CHECK(request["peer"]["name"] == "laptop");
}

TEST_CASE("request builder: peer.set, each change alone") {
  PeerUpdate endpoint;
  endpoint.endpoint = std::optional<std::string>("[fd00::1]:51820");
  Request r = round_trip(peer_set_request("laptop", endpoint));
  CHECK(r.command == Command::peer_set);
  CHECK(r.peer == "laptop");
  REQUIRE(r.changes.endpoint.has_value());
  REQUIRE(r.changes.endpoint->has_value());
  CHECK((*r.changes.endpoint)->port == 51820);
  CHECK_FALSE(r.changes.allowed_ips.has_value());
  CHECK_FALSE(r.changes.persistent_keepalive.has_value());
  CHECK_FALSE(r.changes.psk.has_value());

  PeerUpdate forget;
  forget.endpoint = std::optional<std::string>();
  r = round_trip(peer_set_request(kKey, forget));
  CHECK(r.peer == kKey);
  REQUIRE(r.changes.endpoint.has_value());
  CHECK_FALSE(r.changes.endpoint->has_value());

  PeerUpdate networks;
  networks.allowed_ips = std::vector<std::string>{};
  r = round_trip(peer_set_request("laptop", networks));
  REQUIRE(r.changes.allowed_ips.has_value());
  CHECK(r.changes.allowed_ips->empty());

  PeerUpdate keepalive;
  keepalive.persistent_keepalive = 0;
  r = round_trip(peer_set_request("laptop", keepalive));
  CHECK(r.changes.persistent_keepalive == 0);

  PeerUpdate no_psk;
  no_psk.psk = gw::Bytes();
  r = round_trip(peer_set_request("laptop", no_psk));
  REQUIRE(r.changes.psk.has_value());
  CHECK_FALSE(r.changes.psk->has_value());
}

TEST_CASE("request builder: peer.set with a PSK, and its PSK wiped") {
  const auto psk = gw::config::parse_secret_key(kPsk);
  REQUIRE(psk.has_value());
  PeerUpdate update;
  update.allowed_ips = std::vector<std::string>{"10.2.0.0/24"};
  update.persistent_keepalive = 25;
  update.psk = psk->bytes();
  nlohmann::json request = peer_set_request("laptop", update);
  const Request r = round_trip(request);
  CHECK(r.changes.allowed_ips == *update.allowed_ips);
  CHECK(r.changes.persistent_keepalive == 25);
  REQUIRE(r.changes.psk.has_value());
  REQUIRE(r.changes.psk->has_value());
  CHECK(gw::config::to_base64(r.changes.psk->bytes()) == kPsk);

  const std::string& text = request["set"]["psk"].get_ref<const std::string&>();
  CHECK(text == kPsk);
  wipe_psks(request);
  CHECK(text.size() == kPsk.size());
  CHECK(all_zero(text));
  CHECK(request["set"]["persistent_keepalive"] == 25);
}

TEST_CASE("request builder: wipe_psks leaves requests without a PSK as they are") {
  for (nlohmann::json request :
       {show_request(), peer_remove_request("laptop"), peer_add_request(laptop())}) {
    const nlohmann::json before = request;
    wipe_psks(request);
    CHECK(request == before);
  }
  PeerUpdate no_psk;
  no_psk.psk = gw::Bytes();
  nlohmann::json removal = peer_set_request("laptop", no_psk);
  wipe_psks(removal);
  CHECK(removal["set"]["psk"].is_null());
}
