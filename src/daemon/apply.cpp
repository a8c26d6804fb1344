// SPDX-License-Identifier: MIT
// Reconcile's apply: the one way a configured peer is added, changed or
// removed in the running gateway (reconcile.hpp), at start, by every peer
// command and by reload.
//
// In order: the removed peers go (a network may pass from one to an added
// peer); a peer admitted by certificate whose key is now configured goes;
// every changed peer releases the networks it no longer claims; then each
// wanted peer is added or changed, in the wanted order; last, each peer
// touched starts its session when it keeps one alive. A step that fails is
// reported and undone for that peer (it no longer runs as configured), so
// the next reload, which diffs what runs against the file, does it again.
#include <algorithm>
#include <exception>

#include "gateway.hpp"

namespace gw::daemon {

void Gateway::record_applied(const config::Peer& p) {
  const auto it = std::find_if(applied_.begin(), applied_.end(),
                               [&](const config::Peer& a) { return a.public_key == p.public_key; });
  if (it != applied_.end()) {
    *it = p;
  } else {
    applied_.push_back(p);
  }
}

void Gateway::apply_added(const config::Peer& p, std::optional<crypto::LockedKey> psk) {
  const PeerId id = add_running_peer(p, psk ? std::move(*psk) : crypto::LockedKey());
  try {
    add_routes(peers_.at(id).allowed_ips);
  } catch (...) {
    remove_running_peer(id);
    throw;
  }
  if (running_ && peers_.at(id).host) resolve_async(id);
}

void Gateway::apply_changed(const PeerStep& step, const config::Peer& p) {
  const PeerId id = *engine_->find_peer(p.public_key);
  PeerInfo& info = peers_.at(id);
  if (step.name) info.name = p.name;
  if (step.endpoint) set_endpoint(id, p.endpoint);
  if (step.allowed_ips) claim_allowed_ips(id, p.allowed_ips);
  if (step.keepalive) {
    peers_.at(id).keepalive = p.persistent_keepalive != 0;
    arm_timer(engine_->set_persistent_keepalive(Clock::now(), id, p.persistent_keepalive));
  }
}

std::vector<std::string> Gateway::apply(const Plan& plan, const config::InterfaceConfig& wanted,
                                        std::vector<std::optional<crypto::LockedKey>> psks) {
  std::vector<std::string> failed;
  for (const config::Peer& old : plan.removed) {
    if (const auto id = engine_->find_peer(old.public_key)) remove_running_peer(*id);
    std::erase_if(applied_, [&](const config::Peer& a) { return a.public_key == old.public_key; });
  }
  // A key the config now lists is a configured peer, no longer one admitted
  // by its certificate: that one goes (sessions, routes), the configured one comes.
  for (const PeerStep& s : plan.peers) {
    if (s.added) drop_certified(wanted.peers[s.index].public_key);
  }
  // Networks that move between peers: released everywhere before any is claimed.
  for (const PeerStep& s : plan.peers) {
    const config::Peer& p = wanted.peers[s.index];
    if (s.added || !s.allowed_ips) continue;
    if (const auto id = engine_->find_peer(p.public_key)) release_allowed_ips(*id, p.allowed_ips);
  }
  for (const PeerStep& s : plan.peers) {
    const config::Peer& p = wanted.peers[s.index];
    try {
      if (s.added) {
        apply_added(p, std::move(psks[s.index]));
      } else {
        if (psks[s.index]) engine_->set_psk(*engine_->find_peer(p.public_key), *psks[s.index]);
        if (s.changed) apply_changed(s, p);
      }
      record_applied(p);
    } catch (const std::exception& e) {
      failed.push_back("peer " + p.name + ": " + e.what());
      // Not as configured: out until the next reload adds it again.
      if (const auto id = engine_->find_peer(p.public_key); id && !s.added) {
        remove_running_peer(*id);
      }
      std::erase_if(applied_, [&](const config::Peer& a) { return a.public_key == p.public_key; });
    }
  }
  if (!running_) return failed;  // the loop starts the sessions itself
  for (const PeerStep& s : plan.peers) {
    if (!s.changed) continue;
    const auto id = engine_->find_peer(wanted.peers[s.index].public_key);
    if (id && !engine_->has_session(*id)) start_session(*id);
  }
  return failed;
}

}  // namespace gw::daemon
