// SPDX-License-Identifier: MIT
// Reconcile: what it takes to go from the running config to a wanted one, as a
// plan (pure: diff), and the one interface that carries a plan out (apply).
// Start, every peer command and reload go through here, and only here is a
// configured peer added, changed or removed.
//
// A plan lists removals first (a network may pass from a removed peer to an
// added one), then every wanted peer in the wanted order, each new or with the
// fields that changed; and the interface fields that only a restart applies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gw/config/config.hpp"
#include "gw/crypto/secret.hpp"
#include "gw/identity/certificate.hpp"

namespace gw::daemon {

// A one-way digest of a secret key: tells a changed key from the running one
// without keeping a second copy of it.
using KeyDigest = std::array<std::uint8_t, 32>;
KeyDigest digest(const crypto::Secret<config::kKeyLen>& key);

// What the interface runs with besides its config's fields: the keys and the
// certificate the files held when they were read.
struct Keys {
  crypto::PublicKey public_key{};
  std::optional<identity::Certificate> certificate;
  std::optional<KeyDigest> network_key;
};

// One wanted peer: new, or kept with the fields that differ.
struct PeerStep {
  std::size_t index = 0;  // in wanted.peers
  bool added = false;
  bool name = false;
  bool endpoint = false;
  bool allowed_ips = false;
  bool keepalive = false;
  bool psk_file = false;
  // Any field at all (the reply's "changed"); public_key_file counts too.
  bool changed = false;
};

struct Plan {
  std::vector<config::Peer> removed;  // running peers no longer wanted (by key)
  std::vector<PeerStep> peers;        // one per wanted peer, in its order
  // Interface fields whose change needs a restart, by their config name.
  std::vector<std::string> restart;

  bool peer_changes() const noexcept;  // anything to apply to the peers
};

// The plan from `running` to `wanted`. A peer is the same peer when its
// public key is: a new name for a key is a rename, a new key a new peer.
// `running_keys` and `wanted_keys` compare what files hold (a key file
// rewritten under the same name needs a restart too).
Plan diff(const config::InterfaceConfig& running, const Keys& running_keys,
          const config::InterfaceConfig& wanted, const Keys& wanted_keys);

// The peers' side of a plan only: no interface field compared (peer commands).
Plan diff_peers(const std::vector<config::Peer>& running, const std::vector<config::Peer>& wanted);

// What carries a plan out: the running gateway, or a test's fake.
class ApplyTarget {
 public:
  virtual ~ApplyTarget() = default;
  // Applies the peer steps of `plan` to reach `wanted`. `psks` is aligned with
  // wanted.peers: a key (or an empty one, for none) replaces the peer's PSK;
  // nullopt leaves it as it is. Returns what failed, one line each (the rest
  // is applied; the next reload converges what failed).
  virtual std::vector<std::string> apply(const Plan& plan, const config::InterfaceConfig& wanted,
                                         std::vector<std::optional<crypto::LockedKey>> psks) = 0;
};

}  // namespace gw::daemon
