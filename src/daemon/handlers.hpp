// SPDX-License-Identifier: MIT
// Control handlers (docs/CONTROL.md): each request becomes a value. A change
// goes candidate config -> checks -> store commit -> reconcile; replies are
// serialized in one place, handle().
//
// The file is the truth: once a candidate is committed, the running peers are
// reconciled with it, and what failed to apply is reported (code "failed")
// and tried again by the next reload, which diffs the peers that run against
// the file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "gw/config/config.hpp"
#include "gw/config/store.hpp"
#include "gw/control/request.hpp"
#include "gw/control/status.hpp"
#include "log.hpp"
#include "reconcile.hpp"

namespace gw::daemon {

// What the handlers ask of the running interface (the gateway; a fake in tests).
class HandlerTarget : public ApplyTarget {
 public:
  // The interface fields it started with (no peers), its keys, its peers as
  // they run (applied), and whether it routes a full tunnel.
  virtual const config::InterfaceConfig& started() const = 0;
  virtual const Keys& keys() const = 0;
  virtual const std::vector<config::Peer>& running_peers() const = 0;
  virtual bool full_tunnel() const = 0;
  // Why the allowed IPs at JSON path `path` cannot be routed to a peer (the
  // host routes one through another device, or, with `endpoint`, one holds
  // the peer's own endpoint), or nullopt.
  // The host's routes are read again before the next route_refusal.
  virtual void forget_underlay() = 0;
  virtual std::optional<std::string> route_refusal(const std::vector<std::string>& allowed,
                                                   const std::optional<config::HostPort>& endpoint,
                                                   const std::string& path, bool routes) = 0;
  // New CAs and revocations, applied at once to the peers admitted by
  // certificate: the names of those that lost their admission.
  virtual std::vector<std::string> retrust(std::vector<identity::CaPublicKey> cas,
                                           identity::RevocationList revoked) = 0;
  // Starts the session of every keepalive peer that has none.
  virtual void start_idle_sessions() = 0;
  virtual control::Status status() const = 0;
  virtual nlohmann::json certified_list() const = 0;
};

// A handler's answer: the reply's members, or an error.
using Reply = std::variant<nlohmann::json, control::Error>;

class Handlers {
 public:
  // `config` is the file's config, as the store last committed or read it.
  Handlers(const config::Store& store, config::InterfaceConfig& config, HandlerTarget& target,
           const Log& log, std::string version)
      : store_(store), config_(config), target_(target), log_(log), version_(std::move(version)) {}

  // One request line in, one reply line out.
  std::string handle(std::string_view line);

  Reply dispatch(control::Request& req);
  Reply peer_add(control::Request& req);
  Reply peer_remove(const control::Request& req);
  Reply peer_set(control::Request& req);
  Reply reload();
  nlohmann::json peer_list() const;

 private:
  // The index in config_.peers of a peer named, or keyed, `text`.
  std::optional<std::size_t> find_peer(std::string_view text) const;
  std::variant<config::Peer, control::Error> changed_peer(const config::Peer& old,
                                                          const control::PeerChanges& c);
  std::optional<control::Error> full_tunnel_check(const std::vector<std::string>& allowed) const;
  // Why `next`'s peers cannot be routed, or nullopt (every peer checked).
  std::optional<control::Error> route_check(const config::InterfaceConfig& next);
  // Saves `candidate`; on success it is the config.
  std::optional<control::Error> commit(config::InterfaceConfig candidate);
  std::variant<std::string, control::Error> write_psk(const std::string& peer,
                                                      const crypto::LockedKey& psk);
  void remove_psk_file(const std::optional<std::string>& file);
  // Reconciles the running peers with the config: an error when a step failed.
  std::optional<control::Error> reconcile(Plan plan,
                                          std::vector<std::optional<crypto::LockedKey>> psks);

  const config::Store& store_;
  config::InterfaceConfig& config_;
  HandlerTarget& target_;
  const Log& log_;
  std::string version_;
};

}  // namespace gw::daemon
