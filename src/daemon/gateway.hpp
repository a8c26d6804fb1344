// SPDX-License-Identifier: MIT
// The gateway: one interface's event loop, signals and deadline timer, its
// start-up order and reverse teardown, and the engine's only Sink. Its other
// rooms, each a file: send_path.cpp, receive_path.cpp, peer_table.cpp,
// apply.cpp (reconcile's apply), route_checks.cpp, admission_gate.cpp,
// status.cpp, resolver.cpp, events.cpp; network.hpp, buffers.hpp,
// handlers.hpp and reconcile.hpp are objects of their own.
//
// Start-up order, so that a failure leaves nothing behind: the config and keys
// are read and checked first (nothing touched yet), then the UDP socket is
// bound (a busy port is the usual failure), then the TUN is created and
// configured over rtnetlink. Teardown undoes it all in reverse.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp lacks it

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "admission.hpp"
#include "buffers.hpp"
#include "control_server.hpp"
#include "daemon.hpp"
#include "gw/config/config.hpp"
#include "gw/config/store.hpp"
#include "gw/platform/netlink.hpp"
#include "gw/platform/tun.hpp"
#include "gw/platform/udp.hpp"
#include "gw/routing/allowed_ips.hpp"
#include "gw/session/engine.hpp"
#include "handlers.hpp"
#include "mac1_watch.hpp"
#include "metrics_server.hpp"
#include "network.hpp"
#include "reconcile.hpp"
#include "worker_pool.hpp"

namespace gw::daemon {

using Clock = std::chrono::steady_clock;
using session::Endpoint;
using session::Event;
using session::PeerId;
std::string key_text(const crypto::PublicKey& key);
std::int64_t unix_now();

// One running peer, as the daemon knows it beside the engine.
struct PeerInfo {
  std::string name;
  std::vector<routing::Prefix> allowed_ips;
  std::optional<config::HostPort> host;  // a DNS name to resolve
  unsigned attempts = 0;                 // handshakes started since the last success
  bool resolving = false;
  Instant last_resolve{};  // when the last asynchronous resolution started
  bool keepalive = false;  // starts its session without waiting for traffic
  // A peer admitted by its certificate (not in the config file): the
  // certificate whose grant it holds (the one it showed last).
  std::optional<identity::Certificate> certificate;
};

// Counters of what the engine does not count itself.
struct Counters {
  std::uint64_t no_route = 0;           // TUN packets no peer's allowed IPs cover
  std::uint64_t disallowed_source = 0;  // decrypted packets from outside the peer's allowed IPs
  std::uint64_t bad_frames = 0;         // TUN frames that did not segment
  std::uint64_t tun_write_errors = 0;
  std::uint64_t cookies_sent = 0;
  std::uint64_t gave_up = 0;                           // handshakes given up after 90 s
  std::map<std::string, std::uint64_t> cert_refusals;  // by identity::reason()
};

class Gateway final : public session::Sink,
                      public session::Authorizer,
                      public offload::SegmentOutput,
                      public offload::Coalescer::Writer,
                      public HandlerTarget {
 public:
  Gateway(const Options& options, Log& log)
      : options_(options), log_(log), store_(options.config_path) {}
  ~Gateway() override { teardown(); }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Reads the config and sets everything up; false (after logging why and
  // undoing what was done) when that failed.
  bool start();
  // Runs until a signal stops it.
  void run();
  // Removes the rules and routes we added and closes the devices.
  void teardown() noexcept;

  // --- session::Sink (send_path.cpp, receive_path.cpp, events.cpp) ---
  void send_datagram(const Endpoint& to, Bytes datagram) override;
  void deliver_packet(PeerId peer, Bytes packet) override;
  void on_event(const Event& event) override;

  // --- session::Authorizer (admission_gate.cpp) ---
  session::Admission authorize(Instant now, session::Role our_role, const crypto::PublicKey& key,
                               std::optional<PeerId> known,
                               const wire::ExtensionList& extensions) override;

  // --- offload::SegmentOutput: TUN frames cut into packet slots (send_path.cpp) ---
  MutBytes next(std::size_t size) override;
  void commit(std::size_t size) override;

  // --- offload::Coalescer::Writer: frames to the TUN (receive_path.cpp) ---
  void write(Bytes frame) override;

  // --- HandlerTarget (apply.cpp, route_checks.cpp, status.cpp) ---
  std::vector<std::string> apply(const Plan& plan, const config::InterfaceConfig& wanted,
                                 std::vector<std::optional<crypto::LockedKey>> psks) override;
  const config::InterfaceConfig& started() const override { return started_; }
  const Keys& keys() const override { return keys_; }
  const std::vector<config::Peer>& running_peers() const override { return applied_; }
  bool full_tunnel() const override { return table_ != 0; }
  void forget_underlay() override { underlay_.valid = false; }
  std::optional<std::string> route_refusal(const std::vector<std::string>& allowed,
                                           const std::optional<config::HostPort>& endpoint,
                                           const std::string& path, bool routes) override;
  std::vector<std::string> retrust(std::vector<identity::CaPublicKey> cas,
                                   identity::RevocationList revoked) override;
  void start_idle_sessions() override;
  control::Status status() const override;
  nlohmann::json certified_list() const override;

 private:
  // What the host routes itself, for the certificate conflict checks: read
  // again when older than kUnderlayMaxAge.
  struct Underlay {
    std::vector<routing::Prefix> addresses;              // every interface's
    std::vector<platform::Netlink::DeviceRoute> routes;  // the main table's, other devices
    Instant read{};
    bool valid = false;
  };

  // gateway.cpp: start-up, in order.
  bool load();
  void start_engine();
  void open_sockets();
  void open_control();
  void setup_network();
  void wait_tun();
  void wait_udp();
  void arm_timer(Instant deadline);
  // Sends what the engine queued and re-arms the timer: after any engine call
  // made outside the packet paths.
  void after_engine();

  // peer_table.cpp: the running peers, in the engine and the routing table.
  PeerId add_running_peer(const config::Peer& p, crypto::LockedKey psk);
  void remove_running_peer(PeerId id);
  // The daemon's side of a peer gone from the engine: routes, allowed IPs, name.
  void forget_peer_state(PeerId id);
  // Removes the peer admitted by its certificate with this key, if any: a
  // configured peer of the same key replaces it.
  void drop_certified(const crypto::PublicKey& key);
  // A peer's new allowed IPs in two steps, so that a network can pass from
  // one peer to another: release drops what the peer no longer claims,
  // claim (which releases first) adds what it newly claims.
  void release_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips);
  void claim_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips);
  void set_endpoint(PeerId id, const std::optional<config::HostPort>& endpoint);
  void add_routes(const std::vector<routing::Prefix>& prefixes);
  void remove_routes(const std::vector<routing::Prefix>& prefixes);
  // Starts a keepalive peer's session, as at start.
  void start_session(PeerId id);
  // A certificate's grant for peer `id` (new or renewed): the old grant's
  // prefixes and routes go, the new ones come, as one step.
  void commit_grant(PeerId id, Grant grant);
  std::string peer_name(PeerId id) const;

  // apply.cpp: one step of a plan.
  void apply_added(const config::Peer& p, std::optional<crypto::LockedKey> psk);
  void apply_changed(const PeerStep& step, const config::Peer& p);
  void record_applied(const config::Peer& p);

  // route_checks.cpp
  // Why a certificate may not grant `prefix` to the peer `self`, or nullopt.
  std::optional<std::string> prefix_conflict(const routing::Prefix& prefix, PeerId self);
  const Underlay& underlay();
  // The host's route through another device that `prefix` meets: of exactly
  // that prefix, or (not `exact`) any that overlaps it; default routes never
  // count (gwd's own table takes those). nullptr when there is none.
  const platform::Netlink::DeviceRoute* underlay_route(const routing::Prefix& prefix, bool exact);
  // route_refusal for every peer of `cfg`, each error after `prefix`.
  std::vector<std::string> route_refusals(const config::InterfaceConfig& cfg,
                                          const std::string& prefix);

  // admission_gate.cpp
  void count_refusal(const crypto::PublicKey& key, const std::string& name, const std::string& why);

  // status.cpp: a peer's session, counters and handshake time, added with `ps` to `s`.
  void add_live_state(control::Status& s, control::PeerStatus& ps, PeerId id,
                      const session::PeerStats& st, std::chrono::system_clock::time_point wall,
                      Clock::time_point steady) const;
  void add_counters(control::Status& s) const;

  // resolver.cpp
  void resolve_blocking(PeerId id, PeerInfo& info);
  void resolve_async(PeerId id);

  // send_path.cpp, receive_path.cpp
  void on_tun_readable();
  void route_and_send(Instant now, std::size_t slot);
  // With worker threads: seal the prepared packets, then send them in order.
  void finish_seals();
  void flush_sends();
  void on_udp_readable();
  bool receive_round();
  // With worker threads: open the prepared datagrams, then deliver them in order.
  void finish_opens();

  // events.cpp
  void on_handshake_done(const Event& e, PeerInfo* info);
  void log_drop(const Event& e);
  // Warns when initiations with a bad mac1 keep coming from one source.
  void watch_mac1(const Endpoint& from);
  void log_summary() const;

  Options options_;
  Log& log_;
  config::Store store_;
  // The config as the file holds it: the peers run as it says (applied_ is
  // what runs); its interface fields may be newer than those running
  // (started_) until a restart.
  config::InterfaceConfig config_;
  config::InterfaceConfig started_;    // the interface fields running (no peers)
  std::vector<config::Peer> applied_;  // the configured peers as they run
  std::optional<Handlers> handlers_;
  Keys keys_;                               // of the running interface
  crypto::LockedKeyPair key_;               // until the engine has it
  std::vector<identity::CaPublicKey> cas_;  // trusted to certify peers
  identity::RevocationList revoked_;
  std::vector<crypto::LockedKey> psks_;                         // until the engine has them
  std::optional<crypto::Secret<config::kKeyLen>> network_key_;  // until the engine has it

  std::unique_ptr<session::Engine> engine_;
  routing::AllowedIps allowed_;
  std::unordered_map<PeerId, PeerInfo> peers_;
  bool running_ = false;  // the event loop runs: names resolve and sessions start on their own

  std::optional<platform::Netlink> netlink_;
  platform::UdpSocket udp_;
  platform::Tun tun_;
  bool vnet_ = false;
  std::uint32_t table_ = 0;      // of a full tunnel; 0: none
  std::uint32_t own_table_ = 0;  // gwd's own table: a full tunnel's, exit nodes' default routes
  std::optional<Network> network_;
  // The grant of the certificate the authorizer admitted last, committed
  // when the engine reports that handshake done (Event::admitted).
  std::optional<std::pair<crypto::PublicKey, Grant>> candidate_;
  Underlay underlay_;
  Mac1Watch mac1_watch_;

  boost::asio::io_context io_{1};
  boost::asio::posix::stream_descriptor tun_io_{io_};
  boost::asio::posix::stream_descriptor udp_io_{io_};
  boost::asio::steady_timer timer_{io_};
  Instant armed_ = Instant::max();
  boost::asio::signal_set signals_{io_};
  boost::asio::ip::udp::resolver resolver_{io_};
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;

  PacketBuffers buf_;
  Instant now_{};
  std::unique_ptr<WorkerPool> pool_;

  Counters counters_;
  std::array<LogLimiter, static_cast<std::size_t>(session::Drop::count_)> drop_limits_{};
  LogLimiter source_limit_;
  std::map<std::string, LogLimiter> cert_limits_;  // by reason, as drops are
  bool torn_down_ = false;
};

}  // namespace gw::daemon
