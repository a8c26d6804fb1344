// SPDX-License-Identifier: MIT
// The peer table: the running peers in the engine, the allowed-IPs table and
// the kernel's routes, kept in step. Reconcile (apply.cpp) changes configured
// peers through these; certificate admission commits its grants here.
#include <algorithm>

#include "gateway.hpp"

namespace gw::daemon {
namespace {

std::vector<routing::Prefix> parse_prefixes(const std::vector<std::string>& texts) {
  std::vector<routing::Prefix> out;
  for (const std::string& text : texts)
    out.push_back(routing::Prefix::parse(text)->masked());
  return out;
}

bool has(const std::vector<routing::Prefix>& list, const routing::Prefix& p) {
  return std::find(list.begin(), list.end(), p) != list.end();
}

}  // namespace

std::string Gateway::peer_name(PeerId id) const {
  const auto it = peers_.find(id);
  return it != peers_.end() ? it->second.name : "#" + std::to_string(id);
}

PeerId Gateway::add_running_peer(const config::Peer& p, crypto::LockedKey psk) {
  session::PeerConfig pc;
  pc.name = p.name;
  pc.public_key = p.public_key;
  pc.psk = std::move(psk);
  pc.persistent_keepalive_s = p.persistent_keepalive;
  if (p.endpoint && p.endpoint->address) pc.endpoint = p.endpoint->address;
  const PeerId id = engine_->add_peer(std::move(pc));
  PeerInfo info;
  info.name = p.name;
  info.keepalive = p.persistent_keepalive != 0;
  if (p.endpoint && !p.endpoint->address) info.host = p.endpoint;
  for (const routing::Prefix& prefix : parse_prefixes(p.allowed_ips)) {
    allowed_.insert(prefix, id);
    info.allowed_ips.push_back(prefix);
  }
  peers_.emplace(id, std::move(info));
  return id;
}

void Gateway::add_routes(const std::vector<routing::Prefix>& prefixes) {
  if (network_) network_->add_routes(prefixes);
}

void Gateway::remove_routes(const std::vector<routing::Prefix>& prefixes) {
  if (network_) network_->remove_routes(prefixes);
}

void Gateway::drop_certified(const crypto::PublicKey& key) {
  const auto id = engine_->find_peer(key);
  if (!id) return;
  const auto it = peers_.find(*id);
  if (it == peers_.end() || !it->second.certificate) return;
  log_.info("peer " + it->second.name + " is configured now; its certificate admission ends");
  remove_running_peer(*id);
}

void Gateway::remove_running_peer(PeerId id) {
  engine_->remove_peer(id);  // ends its sessions and wipes their keys
  forget_peer_state(id);
}

void Gateway::forget_peer_state(PeerId id) {
  const auto it = peers_.find(id);
  if (it == peers_.end()) return;
  remove_routes(it->second.allowed_ips);
  allowed_.remove_value(id);
  peers_.erase(it);
}

void Gateway::release_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips) {
  PeerInfo& info = peers_.at(id);
  const std::vector<routing::Prefix> next = parse_prefixes(allowed_ips);
  std::vector<routing::Prefix> gone;
  for (const auto& prefix : info.allowed_ips) {
    if (!has(next, prefix)) gone.push_back(prefix);
  }
  remove_routes(gone);
  for (const auto& prefix : gone)
    allowed_.remove(prefix);
  std::erase_if(info.allowed_ips, [&](const routing::Prefix& p) { return !has(next, p); });
}

void Gateway::claim_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips) {
  release_allowed_ips(id, allowed_ips);
  PeerInfo& info = peers_.at(id);
  std::vector<routing::Prefix> fresh;
  for (const auto& prefix : parse_prefixes(allowed_ips)) {
    if (!has(info.allowed_ips, prefix)) fresh.push_back(prefix);
  }
  for (const auto& prefix : fresh) {
    allowed_.insert(prefix, id);
    info.allowed_ips.push_back(prefix);
  }
  add_routes(fresh);
}

void Gateway::set_endpoint(PeerId id, const std::optional<config::HostPort>& endpoint) {
  PeerInfo& info = peers_.at(id);
  info.host.reset();
  info.last_resolve = {};
  if (!endpoint) {
    engine_->clear_endpoint(id);
  } else if (endpoint->address) {
    engine_->set_endpoint(id, *endpoint->address);
  } else {
    info.host = endpoint;
    resolve_async(id);
  }
}

void Gateway::start_session(PeerId id) {
  const auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.keepalive || !engine_->endpoint(id)) return;
  now_ = Clock::now();
  engine_->initiate(now_, id);
  after_engine();
}

void Gateway::start_idle_sessions() {
  for (const config::Peer& p : config_.peers) {
    if (const auto id = engine_->find_peer(p.public_key); id && !engine_->has_session(*id)) {
      start_session(*id);
    }
  }
}

void Gateway::commit_grant(PeerId id, Grant grant) {
  auto [it, fresh] = peers_.try_emplace(id);
  PeerInfo& info = it->second;
  const bool same = info.certificate && identity::fingerprint(*info.certificate) ==
                                            identity::fingerprint(grant.certificate);
  if (same) return;
  std::vector<routing::Prefix> gone;
  for (const routing::Prefix& p : info.allowed_ips) {
    if (!has(grant.prefixes, p)) gone.push_back(p);
  }
  std::vector<routing::Prefix> added;
  for (const routing::Prefix& p : grant.prefixes) {
    if (!has(info.allowed_ips, p)) added.push_back(p);
  }
  remove_routes(gone);
  for (const routing::Prefix& p : gone)
    allowed_.remove(p);
  for (const routing::Prefix& p : grant.prefixes)
    allowed_.insert(p, id);
  const std::string old_name = info.name;
  info.name = grant.certificate.name;
  info.allowed_ips = std::move(grant.prefixes);
  info.certificate = std::move(grant.certificate);
  try {
    add_routes(added);
  } catch (const std::exception& e) {
    log_.warn("peer " + info.name + ": " + e.what());
  }
  const std::string fp = identity::to_hex(identity::fingerprint(*info.certificate)).substr(0, 16);
  log_.info((fresh ? "admitted peer " + info.name + " by its certificate ("
                   : "peer " + old_name + " holds a new certificate (" + info.name + ", ") +
            fp + "...), key " + key_text(info.certificate->public_key));
}

}  // namespace gw::daemon
