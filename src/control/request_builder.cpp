// SPDX-License-Identifier: MIT
#include "gw/control/request_builder.hpp"

#include <sodium.h>

#include "gw/config/key_file.hpp"
#include "gw/control/request.hpp"

namespace gw::control {
namespace {

using json = nlohmann::json;

json request(Command command) {
  return json{{"version", kProtocolVersion}, {"command", to_string(command)}};
}

// The members peer add and peer set share, as the set of them that is given.
void add_common(json& obj, const std::optional<std::vector<std::string>>& allowed_ips,
                const std::optional<std::uint16_t>& persistent_keepalive) {
  if (allowed_ips) obj["allowed_ips"] = *allowed_ips;
  if (persistent_keepalive) obj["persistent_keepalive"] = *persistent_keepalive;
}

// The key's base64 text goes into the object by move: no other copy is left.
void add_psk(json& obj, Bytes psk) {
  obj["psk"] = config::to_base64(psk);
}

void wipe_member(json& obj, const char* holder) noexcept {
  const auto it = obj.find(holder);
  if (it == obj.end() || !it->is_object()) return;
  const auto psk = it->find("psk");
  if (psk == it->end() || !psk->is_string()) return;
  std::string& text = psk->get_ref<std::string&>();
  sodium_memzero(text.data(), text.size());
}

}  // namespace

json version_request() {
  return request(Command::version);
}

json show_request() {
  return request(Command::show);
}

json reload_request() {
  return request(Command::reload);
}

json peer_list_request(bool certified) {
  json j = request(Command::peer_list);
  if (certified) j["certified"] = true;
  return j;
}

json peer_remove_request(std::string_view peer) {
  json j = request(Command::peer_remove);
  j["peer"] = std::string(peer);
  return j;
}

json peer_add_request(const NewPeer& peer) {
  json obj = json::object();
  obj["name"] = peer.name;
  obj["public_key"] = config::to_base64(peer.public_key);
  if (peer.endpoint) obj["endpoint"] = *peer.endpoint;
  add_common(obj, peer.allowed_ips, peer.persistent_keepalive);
  if (!peer.psk.empty()) add_psk(obj, peer.psk);
  json j = request(Command::peer_add);
  j["peer"] = std::move(obj);
  return j;
}

json peer_set_request(std::string_view peer, const PeerUpdate& update) {
  json changes = json::object();
  if (update.endpoint) {
    changes["endpoint"] = *update.endpoint ? json(**update.endpoint) : json(nullptr);
  }
  add_common(changes, update.allowed_ips, update.persistent_keepalive);
  if (update.psk) {
    if (update.psk->empty()) {
      changes["psk"] = nullptr;
    } else {
      add_psk(changes, *update.psk);
    }
  }
  json j = request(Command::peer_set);
  j["peer"] = std::string(peer);
  j["set"] = std::move(changes);
  return j;
}

void wipe_psks(json& request) noexcept {
  wipe_member(request, "peer");
  wipe_member(request, "set");
}

}  // namespace gw::control
