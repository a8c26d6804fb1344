// SPDX-License-Identifier: MIT
// The peer commands and reload: candidate config -> checks -> store commit ->
// reconcile (reconcile.hpp), each returning its reply's members.
#include <algorithm>

#include "gw/config/key_file.hpp"
#include "handlers.hpp"

namespace gw::daemon {
namespace {

std::string key_text(const crypto::PublicKey& key) {
  return config::to_base64(Bytes(key.data(), key.size()));
}

nlohmann::json names(const std::vector<std::string>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& n : list)
    out.push_back(n);
  return out;
}

control::Error not_found(const std::string& peer) {
  return {"not_found", "no peer named or keyed \"" + peer + "\""};
}

}  // namespace

Reply Handlers::peer_add(control::Request& req) {
  config::Peer p = req.new_peer;
  if (p.public_key == target_.keys().public_key) {
    return control::Error{"conflict", "$.peer.public_key: that is this interface's own key"};
  }
  if (auto e = full_tunnel_check(p.allowed_ips)) return *e;
  target_.forget_underlay();
  if (auto why = target_.route_refusal(p.allowed_ips, p.endpoint, "$.peer.allowed_ips", true)) {
    return control::Error{"conflict", *why};
  }
  config::InterfaceConfig candidate = config_;
  if (req.psk) {
    auto written = write_psk(p.name, req.psk);
    if (auto* e = std::get_if<control::Error>(&written)) return *e;
    p.psk_file = std::get<std::string>(written);
  }
  candidate.peers.push_back(p);
  if (auto e = commit(std::move(candidate))) {
    remove_psk_file(p.psk_file);
    return *e;
  }
  std::vector<std::optional<crypto::LockedKey>> psks(config_.peers.size() - 1);
  psks.emplace_back(std::move(req.psk));  // the new peer's, last
  if (auto e = reconcile(diff_peers(target_.running_peers(), config_.peers), std::move(psks))) {
    return *e;
  }
  log_.info("peer " + p.name + " added (" + key_text(p.public_key) + ")");
  return nlohmann::json{{"peer", p.name}};
}

Reply Handlers::peer_remove(const control::Request& req) {
  const auto index = find_peer(req.peer);
  if (!index) return not_found(req.peer);
  const config::Peer old = config_.peers[*index];
  config::InterfaceConfig candidate = config_;
  candidate.peers.erase(candidate.peers.begin() + static_cast<std::ptrdiff_t>(*index));
  if (auto e = commit(std::move(candidate))) return *e;
  auto failed = reconcile(diff_peers(target_.running_peers(), config_.peers),
                          std::vector<std::optional<crypto::LockedKey>>(config_.peers.size()));
  remove_psk_file(old.psk_file);
  if (failed) return *failed;
  log_.info("peer " + old.name + " removed; its keys are wiped");
  return nlohmann::json{{"peer", old.name}};
}

// The peer `old` with the request's changes, checked; or why not.
std::variant<config::Peer, control::Error> Handlers::changed_peer(const config::Peer& old,
                                                                  const control::PeerChanges& c) {
  config::Peer next = old;
  if (c.endpoint) next.endpoint = *c.endpoint;
  if (c.allowed_ips) {
    if (auto e = full_tunnel_check(*c.allowed_ips)) return *e;
    next.allowed_ips = *c.allowed_ips;
  }
  if (c.persistent_keepalive) next.persistent_keepalive = *c.persistent_keepalive;
  if (c.endpoint || c.allowed_ips) {
    // New prefixes against the host's routes; the endpoint against every prefix.
    target_.forget_underlay();
    const std::string path =
        c.allowed_ips ? std::string("$.set.allowed_ips") : "peer " + old.name + "'s allowed_ips";
    if (auto why = target_.route_refusal(next.allowed_ips, next.endpoint, path,
                                         c.allowed_ips.has_value())) {
      return control::Error{"conflict", *why};
    }
  }
  if (c.psk) {
    next.psk_file.reset();
    if (*c.psk) {
      auto written = write_psk(old.name, *c.psk);
      if (auto* e = std::get_if<control::Error>(&written)) return *e;
      next.psk_file = std::get<std::string>(written);
    }
  }
  return next;
}

Reply Handlers::peer_set(control::Request& req) {
  const auto index = find_peer(req.peer);
  if (!index) return not_found(req.peer);
  const config::Peer old = config_.peers[*index];
  const control::PeerChanges& c = req.changes;
  auto checked = changed_peer(old, c);
  if (auto* e = std::get_if<control::Error>(&checked)) return *e;
  const config::Peer next = std::get<config::Peer>(std::move(checked));
  config::InterfaceConfig candidate = config_;
  candidate.peers[*index] = next;
  if (auto e = commit(std::move(candidate))) {
    if (next.psk_file != old.psk_file) remove_psk_file(next.psk_file);
    return *e;
  }
  Plan plan = diff_peers(target_.running_peers(), config_.peers);
  // What the request names is applied even when equal (an endpoint set
  // again returns a roamed peer to it), and the peer's session starts.
  PeerStep& step = plan.peers[*index];
  step.endpoint = step.endpoint || c.endpoint.has_value();
  step.keepalive = step.keepalive || c.persistent_keepalive.has_value();
  step.changed = true;
  std::vector<std::optional<crypto::LockedKey>> psks(config_.peers.size());
  if (c.psk) psks[*index] = *c.psk;  // the request's slot, shared
  auto failed = reconcile(std::move(plan), std::move(psks));
  if (c.psk && old.psk_file != next.psk_file) remove_psk_file(old.psk_file);
  if (failed) return *failed;
  log_.info("peer " + old.name + " changed");
  return nlohmann::json{{"peer", old.name}};
}

Reply Handlers::reload() {
  config::LoadResult r = config::load_config(store_.path());
  if (!r) {
    std::string message;
    for (const std::string& e : r.errors)
      message += (message.empty() ? "" : "; ") + e;
    return control::Error{"bad_config", message + "; nothing changed"};
  }
  const Keys wanted_keys{r.key->public_key, r.certificate,
                         r.network_key ? std::optional(digest(*r.network_key)) : std::nullopt};
  config::InterfaceConfig running = target_.started();
  running.peers = target_.running_peers();
  Plan plan = diff(running, target_.keys(), *r.config, wanted_keys);
  for (const config::Peer& p : r.config->peers) {
    if (auto e = full_tunnel_check(p.allowed_ips)) return *e;
  }
  if (auto e = route_check(*r.config)) return *e;
  config_ = std::move(*r.config);
  std::vector<std::optional<crypto::LockedKey>> psks;
  for (crypto::LockedKey& k : r.psks)
    psks.emplace_back(std::move(k));  // a file's content may change under one name
  auto failed = reconcile(plan, std::move(psks));
  std::vector<std::string> removed;
  for (const config::Peer& p : plan.removed)
    removed.push_back(p.name);
  for (std::string& n : target_.retrust(std::move(r.cas), std::move(r.revoked)))
    removed.push_back(std::move(n));
  target_.start_idle_sessions();
  if (failed) return *failed;
  std::vector<std::string> added, changed;
  for (const PeerStep& s : plan.peers) {
    if (s.changed) (s.added ? added : changed).push_back(config_.peers[s.index].name);
  }
  const nlohmann::json restart = names(plan.restart);
  log_.info("reloaded " + store_.path() + ": " + std::to_string(added.size()) + " added, " +
            std::to_string(removed.size()) + " removed, " + std::to_string(changed.size()) +
            " changed" + (restart.empty() ? "" : "; needs a restart: " + restart.dump()));
  return nlohmann::json{{"added", names(added)},
                        {"removed", names(removed)},
                        {"changed", names(changed)},
                        {"restart_required", restart}};
}

}  // namespace gw::daemon
