// SPDX-License-Identifier: MIT
// Control handlers: requests as values, changes through the store and reconcile.
#include "handlers.hpp"

#include <algorithm>
#include <exception>

#include "gw/config/key_file.hpp"
#include "gw/routing/allowed_ips.hpp"

namespace gw::daemon {
namespace {

std::string key_text(const crypto::PublicKey& key) {
  return config::to_base64(Bytes(key.data(), key.size()));
}

control::Error to_error(const config::StoreError& e) {
  return {e.kind == config::StoreError::Kind::invalid ? "conflict" : "save_failed", e.message};
}

std::string joined(const std::vector<std::string>& lines, const char* separator) {
  std::string out;
  for (const std::string& l : lines)
    out += (out.empty() ? "" : separator) + l;
  return out;
}

}  // namespace

std::string Handlers::handle(std::string_view line) {
  auto parsed = control::parse_request(line);
  if (auto* e = std::get_if<control::Error>(&parsed)) {
    log_.debug("control request refused: " + e->code + ": " + e->message);
    return control::error_reply(*e);
  }
  control::Request& req = std::get<control::Request>(parsed);
  Reply reply;
  try {
    reply = dispatch(req);
  } catch (const std::exception& e) {
    // Nothing a handler does should throw; should it, the loop goes on.
    reply = control::Error{"failed", e.what()};
  }
  if (auto* e = std::get_if<control::Error>(&reply)) {
    if (e->code == "failed") {
      log_.error(std::string("control: ") + control::to_string(req.command) + ": " + e->message);
    }
    return control::error_reply(*e);
  }
  return control::ok_reply(std::move(std::get<nlohmann::json>(reply)));
}

Reply Handlers::dispatch(control::Request& req) {
  switch (req.command) {
    case control::Command::version:
      return nlohmann::json{{"protocol", control::kProtocolVersion}, {"gwd", version_}};
    case control::Command::show:
      return control::to_json(target_.status());
    case control::Command::peer_list:
      return nlohmann::json{{"peers", req.certified ? target_.certified_list() : peer_list()}};
    case control::Command::peer_add:
      return peer_add(req);
    case control::Command::peer_remove:
      return peer_remove(req);
    case control::Command::peer_set:
      return peer_set(req);
    case control::Command::reload:
      return reload();
  }
  return control::Error{"unknown_command", "?"};
}

nlohmann::json Handlers::peer_list() const {
  nlohmann::json list = nlohmann::json::array();
  for (const config::Peer& p : config_.peers) {
    list.push_back({{"name", p.name},
                    {"public_key", key_text(p.public_key)},
                    {"endpoint", p.endpoint ? nlohmann::json(p.endpoint->to_string()) : nullptr},
                    {"allowed_ips", p.allowed_ips},
                    {"persistent_keepalive", p.persistent_keepalive},
                    {"psk", p.psk_file.has_value()}});
  }
  return list;
}

std::optional<std::size_t> Handlers::find_peer(std::string_view text) const {
  const auto& peers = config_.peers;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].name == text) return i;
  }
  if (const auto key = config::parse_public_key(text)) {
    for (std::size_t i = 0; i < peers.size(); ++i) {
      if (peers[i].public_key == *key) return i;
    }
  }
  return std::nullopt;
}

std::optional<control::Error> Handlers::full_tunnel_check(
    const std::vector<std::string>& allowed) const {
  if (target_.full_tunnel()) return std::nullopt;
  for (const std::string& text : allowed) {
    if (routing::Prefix::parse(text)->length == 0) {
      return control::Error{"restart_required",
                            "allowed IP " + text +
                                " makes a full tunnel, which needs policy routing set up at "
                                "start: change the config file and restart gwd"};
    }
  }
  return std::nullopt;
}

std::optional<control::Error> Handlers::route_check(const config::InterfaceConfig& next) {
  target_.forget_underlay();  // what the host routes now
  std::string message;
  for (std::size_t i = 0; i < next.peers.size(); ++i) {
    const config::Peer& p = next.peers[i];
    const std::string path = "$.peers[" + std::to_string(i) + "].allowed_ips";
    if (auto why = target_.route_refusal(p.allowed_ips, p.endpoint, path, true)) {
      message += store_.path() + ": " + *why + "; ";
    }
  }
  if (message.empty()) return std::nullopt;
  return control::Error{"conflict", message + "nothing changed"};
}

std::optional<control::Error> Handlers::commit(config::InterfaceConfig candidate) {
  if (const auto e = store_.commit(candidate)) return to_error(*e);
  config_ = std::move(candidate);
  return std::nullopt;
}

std::variant<std::string, control::Error> Handlers::write_psk(const std::string& peer,
                                                              const crypto::LockedKey& psk) {
  auto written = store_.write_psk(peer, *psk);
  if (auto* e = std::get_if<config::StoreError>(&written)) return to_error(*e);
  return std::get<std::string>(written);
}

void Handlers::remove_psk_file(const std::optional<std::string>& file) {
  if (const auto warning = store_.remove_psk_file(file, config_)) log_.warn(*warning);
}

std::optional<control::Error> Handlers::reconcile(
    Plan plan, std::vector<std::optional<crypto::LockedKey>> psks) {
  const std::vector<std::string> failed = target_.apply(plan, config_, std::move(psks));
  if (failed.empty()) return std::nullopt;
  return control::Error{"failed", joined(failed, "; ")};
}

}  // namespace gw::daemon
