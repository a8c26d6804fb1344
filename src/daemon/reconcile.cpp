// SPDX-License-Identifier: MIT
// Reconcile's pure half: the plan from a running config to a wanted one.
#include "reconcile.hpp"

#include <algorithm>

#include <sodium.h>

namespace gw::daemon {
namespace {

const config::Peer* find_key(const std::vector<config::Peer>& peers, const crypto::PublicKey& key) {
  const auto it = std::find_if(peers.begin(), peers.end(),
                               [&](const config::Peer& p) { return p.public_key == key; });
  return it != peers.end() ? &*it : nullptr;
}

PeerStep step(std::size_t index, const config::Peer* old, const config::Peer& next) {
  PeerStep s;
  s.index = index;
  if (old == nullptr) {
    s.added = true;
    s.changed = true;
    return s;
  }
  s.name = old->name != next.name;
  s.endpoint = old->endpoint != next.endpoint;
  s.allowed_ips = old->allowed_ips != next.allowed_ips;
  s.keepalive = old->persistent_keepalive != next.persistent_keepalive;
  s.psk_file = old->psk_file != next.psk_file;
  s.changed = *old != next;
  return s;
}

void restart_fields(Plan& plan, const config::InterfaceConfig& a, const Keys& ak,
                    const config::InterfaceConfig& b, const Keys& bk) {
  const auto differs = [&](const char* name, bool d) {
    if (d) plan.restart.emplace_back(name);
  };
  differs("name", a.name != b.name);
  differs("private_key_file",
          a.private_key_file != b.private_key_file || ak.public_key != bk.public_key);
  differs("listen_port", a.listen_port != b.listen_port);
  differs("addresses", a.addresses != b.addresses);
  differs("mtu", a.mtu != b.mtu);
  differs("suites", a.suites != b.suites);
  differs("user", a.user != b.user);
  differs("group", a.group != b.group);
  differs("control_group", a.control_group != b.control_group);
  differs("metrics_port", a.metrics_port != b.metrics_port);
  differs("under_load_threshold", a.under_load_threshold != b.under_load_threshold);
  // Our own certificate goes into every handshake from the engine's config.
  differs("certificate_file", ak.certificate != bk.certificate);
  differs("network_key_file", ak.network_key != bk.network_key);
}

}  // namespace

KeyDigest digest(const crypto::Secret<config::kKeyLen>& key) {
  KeyDigest out{};
  crypto_generichash(out.data(), out.size(), key.data(), key.size(), nullptr, 0);
  return out;
}

bool Plan::peer_changes() const noexcept {
  return !removed.empty() ||
         std::any_of(peers.begin(), peers.end(), [](const PeerStep& s) { return s.changed; });
}

Plan diff_peers(const std::vector<config::Peer>& running, const std::vector<config::Peer>& wanted) {
  Plan plan;
  for (const config::Peer& old : running) {
    if (find_key(wanted, old.public_key) == nullptr) plan.removed.push_back(old);
  }
  for (std::size_t i = 0; i < wanted.size(); ++i)
    plan.peers.push_back(step(i, find_key(running, wanted[i].public_key), wanted[i]));
  return plan;
}

Plan diff(const config::InterfaceConfig& running, const Keys& running_keys,
          const config::InterfaceConfig& wanted, const Keys& wanted_keys) {
  Plan plan = diff_peers(running.peers, wanted.peers);
  restart_fields(plan, running, running_keys, wanted, wanted_keys);
  return plan;
}

}  // namespace gw::daemon
