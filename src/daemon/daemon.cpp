// SPDX-License-Identifier: MIT
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp lacks it

#include "daemon.hpp"

#include <grp.h>
#include <netdb.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <variant>
#include <vector>

#include <sodium.h>

#include "admission.hpp"
#include "control_server.hpp"
#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"
#include "gw/control/reasons.hpp"
#include "gw/control/request.hpp"
#include "gw/control/status.hpp"
#include "gw/crypto/random.hpp"
#include "gw/identity/certificate.hpp"
#include "gw/offload/offload.hpp"
#include "gw/platform/netlink.hpp"
#include "gw/platform/nft.hpp"
#include "gw/platform/system.hpp"
#include "gw/platform/tun.hpp"
#include "gw/platform/udp.hpp"
#include "gw/routing/allowed_ips.hpp"
#include "gw/session/engine.hpp"
#include "gw/session/suites.hpp"
#include "mac1_watch.hpp"
#include "metrics_server.hpp"
#include "worker_pool.hpp"

namespace gw::daemon {
namespace {

namespace asio = boost::asio;
using session::Drop;
using session::Endpoint;
using session::Event;
using session::PeerId;
using Clock = std::chrono::steady_clock;

// Packets the TUN side handles per wakeup before the UDP side gets its turn.
constexpr std::size_t kMaxFramesPerWakeup = 64;
// Receive rounds per wakeup on the UDP side.
constexpr std::size_t kMaxReceiveRounds = 8;
// Packet slots for one round of TUN reads: each holds one MTU-sized packet
// with the engine's head- and tailroom around it.
constexpr std::size_t kSlots = 256;
constexpr std::size_t kMaxFrame = offload::kVnetHdrLen + 65535;
// Bytes for datagrams the engine builds in its own memory (handshake
// messages, staged packets), copied until the next send.
constexpr std::size_t kSideArena = 64 * 1024;
// The largest datagram the engine builds in its own memory fits, whatever the MTU.
static_assert(kSideArena >= config::kMaxMtu + session::kPacketHeadroom + session::kPacketTailroom &&
              kSideArena >= wire_spec::kMaxHandshakeSize);
// Policy-routing rules of a full tunnel, just ahead of the main table (32766).
constexpr std::uint32_t kSuppressRulePriority = 32764;
constexpr std::uint32_t kTunnelRulePriority = 32765;
// Handshake attempts without success before a DNS name is resolved again.
constexpr std::chrono::seconds kResolveInterval{5};  // at most one resolution per peer this often
constexpr unsigned kResolveAfterAttempts = 3;
// How long the host's addresses and routes, read for the certificate
// checks, are trusted before they are read again.
constexpr auto kUnderlayMaxAge = std::chrono::seconds(5);

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string key_text(const crypto::PublicKey& key) {
  return config::to_base64(Bytes(key.data(), key.size()));
}

// A one-way digest of a secret key: tells a changed key from the running
// one at reload without keeping a second copy of it.
using KeyDigest = std::array<std::uint8_t, 32>;
KeyDigest digest(const crypto::Secret<config::kKeyLen>& key) {
  KeyDigest out{};
  crypto_generichash(out.data(), out.size(), key.data(), key.size(), nullptr, 0);
  return out;
}

// The routing table and firewall mark of an interface's full tunnel: fixed
// per interface name, so a restart finds what a killed run left behind.
std::uint32_t tunnel_table(const std::string& name) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (const char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return 0x67770000u | (h & 0xffffu);
}

Endpoint to_endpoint(const asio::ip::udp::endpoint& ep) {
  const auto addr = ep.address();
  if (addr.is_v4()) return Endpoint::ipv4(addr.to_v4().to_bytes(), ep.port());
  const auto v6 = addr.to_v6();
  if (v6.is_v4_mapped()) {
    return Endpoint::ipv4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes(), ep.port());
  }
  return Endpoint::ipv6(v6.to_bytes(), ep.port());
}

class Interface final : public session::Sink,
                        public session::Authorizer,
                        public offload::SegmentOutput,
                        public offload::Coalescer::Writer {
 public:
  Interface(const Options& options, Log& log) : options_(options), log_(log) {}
  ~Interface() override { teardown(); }
  Interface(const Interface&) = delete;
  Interface& operator=(const Interface&) = delete;

  // Reads the config and sets everything up; false (after logging why and
  // undoing what was done) when that failed.
  bool start();
  // Runs until a signal stops it.
  void run();
  // Removes the rules and routes we added and closes the devices.
  void teardown() noexcept;

  // --- session::Sink ---
  void send_datagram(const Endpoint& to, Bytes datagram) override;
  void deliver_packet(PeerId peer, Bytes packet) override;
  void on_event(const Event& event) override;

  // --- session::Authorizer: configured peers, and peers with a certificate ---
  session::Admission authorize(Instant now, session::Role our_role, const crypto::PublicKey& key,
                               std::optional<PeerId> known,
                               const wire::ExtensionList& extensions) override;

  // --- offload::SegmentOutput: TUN frames cut into packet slots ---
  MutBytes next(std::size_t size) override;
  void commit(std::size_t size) override;

  // --- offload::Coalescer::Writer: frames to the TUN ---
  void write(Bytes frame) override;

 private:
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
  // What the host routes itself, for the certificate conflict checks: read
  // again when older than kUnderlayMaxAge.
  struct Underlay {
    std::vector<routing::Prefix> addresses;              // every interface's
    std::vector<platform::Netlink::DeviceRoute> routes;  // the main table's, other devices
    Instant read{};
    bool valid = false;
  };
  struct AddedRoute {
    routing::Prefix prefix;
    std::uint32_t table;
  };

  bool load();
  void open_control();
  // Registers a configured peer with the engine and the routing table (no
  // kernel routes yet: add_routes does those once the TUN exists).
  PeerId add_running_peer(const config::Peer& p, crypto::LockedKey psk);
  void add_routes(const std::vector<routing::Prefix>& prefixes);
  void remove_routes(const std::vector<routing::Prefix>& prefixes);
  void remove_running_peer(PeerId id);
  // The daemon's side of a peer gone from the engine: routes, allowed IPs, name.
  void forget_peer_state(PeerId id);
  // A certificate's grant for peer `id` (new or renewed): the old grant's
  // prefixes and routes go, the new ones come, as one step.
  void commit_grant(PeerId id, Grant grant);
  // Why a certificate may not grant `prefix` to the peer `self`, or nullopt.
  std::optional<std::string> prefix_conflict(const routing::Prefix& prefix, PeerId self);
  const Underlay& underlay();
  // The host's route through another device that `prefix` meets: of exactly
  // that prefix, or (not `exact`) any that overlaps it; default routes never
  // count (gwd's own table takes those). nullptr when there is none.
  const platform::Netlink::DeviceRoute* underlay_route(const routing::Prefix& prefix, bool exact);
  // Why a configured peer's allowed IPs (the list at JSON path `path`) cannot
  // be routed to it, or nullopt: a prefix the host routes through another
  // device already, or (with `endpoint`) one holding the peer's own endpoint.
  std::optional<std::string> route_refusal(const std::vector<std::string>& allowed,
                                           const std::optional<config::HostPort>& endpoint,
                                           const std::string& path, bool routes = true);
  // route_refusal for every peer of `cfg`, each error after `prefix`.
  std::vector<std::string> route_refusals(const config::InterfaceConfig& cfg,
                                          const std::string& prefix);
  void count_refusal(const crypto::PublicKey& key, const std::string& name, const std::string& why);
  // Removes the peer admitted by its certificate with this key, if any: a
  // configured peer of the same key replaces it.
  void drop_certified(const crypto::PublicKey& key);
  // A peer's new allowed IPs in two steps, so that a network can pass from
  // one peer to another: release drops what the peer no longer claims,
  // claim (which releases first) adds what it newly claims.
  void release_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips);
  void claim_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips);
  void set_endpoint(PeerId id, const std::optional<config::HostPort>& endpoint);
  // Starts a keepalive peer's session, as at start.
  void start_session(PeerId id);

  // --- The control socket (docs/CONTROL.md) ---
  std::string handle_request(std::string_view line);
  control::Status status() const;
  // A peer's session, counters and handshake time, added with `ps` to `s`.
  void add_live_state(control::Status& s, control::PeerStatus& ps, PeerId id,
                      const session::PeerStats& st, std::chrono::system_clock::time_point wall,
                      Clock::time_point steady) const;
  nlohmann::json peer_list() const;
  nlohmann::json certified_list() const;
  std::string peer_add(control::Request& req);
  std::string peer_remove(const control::Request& req);
  std::string peer_set(control::Request& req);
  std::string reload();
  // The index in config_->peers of a peer named, or keyed, `text`.
  std::optional<std::size_t> find_config_peer(std::string_view text) const;
  // Checks a changed config with the file's rules and saves it; nullopt on success.
  std::optional<control::Error> commit(config::InterfaceConfig candidate);
  // A PSK written to a fresh file in the config folder; its name, relative.
  std::variant<std::string, control::Error> write_psk(const std::string& peer,
                                                      const crypto::Secret<config::kKeyLen>& psk);
  // Deletes a PSK file the config no longer names, if write_psk wrote it.
  void remove_psk_file(const std::optional<std::string>& file);
  // Whether the running config names `path` as a key file.
  bool still_named(const std::string& path) const;
  std::optional<control::Error> full_tunnel_check(const std::vector<std::string>& allowed) const;

  void setup_network();
  void remove_stale_rules();
  void setup_filter(bool default_v4, bool default_v6);
  void resolve_blocking(PeerId id, PeerInfo& info);
  void resolve_async(PeerId id);
  std::string peer_name(PeerId id) const;

  void wait_tun();
  void wait_udp();
  void on_tun_readable();
  void on_udp_readable();
  void route_and_send(Instant now, std::size_t slot);
  // With worker threads: seal the prepared packets, then send them in order.
  void finish_seals();
  // With worker threads: open the prepared datagrams, then deliver them in order.
  void finish_opens();
  void flush_sends();
  void arm_timer(Instant deadline);
  void log_drop(const Event& e);
  // Warns when initiations with a bad mac1 keep coming from one source.
  void watch_mac1(const Endpoint& from);
  void log_summary() const;

  std::uint8_t* slot(std::size_t i) noexcept { return slots_.data() + i * slot_stride_; }

  Options options_;
  Log& log_;
  // The config as the file holds it: the peers run as it says; its interface
  // fields may be newer than those running (started_) until a restart.
  std::optional<config::InterfaceConfig> config_;
  config::InterfaceConfig started_;                   // the interface fields running (no peers)
  crypto::LockedKeyPair key_;                         // until the engine has it
  std::optional<identity::Certificate> certificate_;  // ours, shown in handshakes
  std::vector<identity::CaPublicKey> cas_;            // trusted to certify peers
  identity::RevocationList revoked_;
  std::map<std::string, std::uint64_t> cert_refusals_;          // by identity::reason()
  std::vector<crypto::LockedKey> psks_;                         // until the engine has them
  std::optional<crypto::Secret<config::kKeyLen>> network_key_;  // until the engine has it
  std::optional<KeyDigest> network_key_digest_;                 // of the running one

  std::unique_ptr<session::Engine> engine_;
  routing::AllowedIps allowed_;
  std::unordered_map<PeerId, PeerInfo> peers_;

  std::optional<platform::Netlink> netlink_;
  platform::UdpSocket udp_;
  platform::Tun tun_;
  bool vnet_ = false;
  std::uint32_t table_ = 0;      // of a full tunnel; 0: none
  std::uint32_t own_table_ = 0;  // gwd's own table: a full tunnel's, exit nodes' default routes
  // The grant of the certificate the authorizer admitted last, committed
  // when the engine reports that handshake done (Event::admitted).
  std::optional<std::pair<crypto::PublicKey, Grant>> candidate_;
  Underlay underlay_;
  Mac1Watch mac1_watch_;
  std::vector<AddedRoute> routes_added_;
  std::vector<platform::Rule> rules_added_;
  bool filter_added_ = false;  // the full tunnel's nftables table

  asio::io_context io_{1};
  asio::posix::stream_descriptor tun_io_{io_};
  asio::posix::stream_descriptor udp_io_{io_};
  asio::steady_timer timer_{io_};
  Instant armed_ = Instant::max();
  asio::signal_set signals_{io_};
  asio::ip::udp::resolver resolver_{io_};
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;

  // TUN -> UDP: frames cut into slots, encrypted in place, sent in batches.
  std::size_t mtu_ = config::kDefaultMtu;
  std::size_t slot_stride_ = 0;
  std::vector<std::uint8_t> slots_;
  std::array<std::size_t, kSlots> slot_len_{};
  std::size_t slots_used_ = 0;
  std::vector<std::uint8_t> frame_;
  std::vector<std::uint8_t> side_;
  std::size_t side_used_ = 0;
  std::unique_ptr<platform::SendBatch> sends_;
  Instant now_{};

  // UDP -> TUN: datagrams decrypted in place, TCP segments coalesced.
  std::unique_ptr<platform::RecvBatch> receives_;
  std::unique_ptr<offload::Coalescer> coalescer_;

  // With --threads above 1: each batch is prepared on the event loop, sealed
  // or opened on every thread, and finished in order on the event loop.
  std::unique_ptr<WorkerPool> pool_;
  std::vector<session::SealJob> seal_jobs_;  // one per packet slot at most
  std::size_t seals_ = 0;
  std::vector<session::OpenJob> open_jobs_;
  std::size_t opens_ = 0;

  // Counters of what the engine does not count itself.
  std::uint64_t no_route_ = 0;           // TUN packets no peer's allowed IPs cover
  std::uint64_t disallowed_source_ = 0;  // decrypted packets from outside the peer's allowed IPs
  std::uint64_t bad_frames_ = 0;         // TUN frames that did not segment
  std::uint64_t tun_write_errors_ = 0;
  std::uint64_t cookies_sent_ = 0;
  std::uint64_t gave_up_ = 0;  // handshakes given up after REKEY_ATTEMPT_TIME
  std::array<LogLimiter, static_cast<std::size_t>(Drop::count_)> drop_limits_{};
  LogLimiter source_limit_;
  std::map<std::string, LogLimiter> cert_limits_;  // by reason, as drops are
  bool torn_down_ = false;
};

// Temporary files of write_file_atomically (".NAME.tmp-XXXXXX") that a crash
// left behind: of the config itself and of its peers' PSK files. Other files
// in the folder (another interface's config, say) are not ours to touch.
void remove_stale_temporaries(const std::string& config_path, const config::InterfaceConfig& cfg,
                              Log& log) {
  const std::filesystem::path path(config_path);
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::vector<std::string> prefixes{"." + path.filename().string() + ".tmp-"};
  for (const config::Peer& p : cfg.peers)
    prefixes.push_back("." + p.name + ".");
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto mark = name.rfind(".tmp-");
    if (mark == std::string::npos || name.size() - mark != 11 || !entry.is_regular_file(ec)) {
      continue;
    }
    const bool ours = name.starts_with(prefixes[0]) ||
                      (std::string_view(name).substr(0, mark).ends_with(".psk") &&
                       std::any_of(prefixes.begin() + 1, prefixes.end(),
                                   [&](const std::string& pre) { return name.starts_with(pre); }));
    if (ours && std::filesystem::remove(entry.path(), ec)) {
      log.info("removed " + entry.path().string() + ", left by an interrupted save");
    }
  }
}

bool Interface::load() {
  config::LoadResult r = config::load_config(options_.config_path);
  if (!r) {
    for (const std::string& e : r.errors)
      log_.error(e);
    return false;
  }
  config_ = std::move(r.config);
  key_ = std::move(r.key);
  psks_ = std::move(r.psks);
  certificate_ = std::move(r.certificate);
  cas_ = std::move(r.cas);
  revoked_ = std::move(r.revoked);
  network_key_ = std::move(r.network_key);
  started_ = *config_;
  started_.peers.clear();
  remove_stale_temporaries(options_.config_path, *config_, log_);
  log_.set_tag(config_->name);
  mtu_ = config_->mtu;
  return true;
}

void Interface::resolve_blocking(PeerId id, PeerInfo& info) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(info.host->port);
  const int rc = ::getaddrinfo(info.host->host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    log_.warn("peer " + info.name + ": cannot resolve " + info.host->host + ": " +
              ::gai_strerror(rc) + " (will try again when a handshake is due)");
    return;
  }
  std::optional<Endpoint> ep;
  for (const addrinfo* a = res; a != nullptr && !ep; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, a->ai_addr, sizeof sin);
      std::array<std::uint8_t, 4> b{};
      std::memcpy(b.data(), &sin.sin_addr, 4);
      ep = Endpoint::ipv4(b, info.host->port);
    } else if (a->ai_family == AF_INET6) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, a->ai_addr, sizeof sin6);
      std::array<std::uint8_t, 16> b{};
      std::memcpy(b.data(), &sin6.sin6_addr, 16);
      ep = Endpoint::ipv6(b, info.host->port);
    }
  }
  ::freeaddrinfo(res);
  if (ep) {
    engine_->set_endpoint(id, *ep);
    log_.info("peer " + info.name + ": " + info.host->host + " is " + ep->to_string());
  }
}

void Interface::resolve_async(PeerId id) {
  const auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.host || it->second.resolving) return;
  const Instant now = Clock::now();
  if (it->second.last_resolve != Instant{} && now - it->second.last_resolve < kResolveInterval) {
    return;
  }
  it->second.last_resolve = now;
  it->second.resolving = true;
  resolver_.async_resolve(it->second.host->host, std::to_string(it->second.host->port),
                          [this, id](const boost::system::error_code& ec,
                                     const asio::ip::udp::resolver::results_type& results) {
                            const auto p = peers_.find(id);
                            if (p == peers_.end()) return;
                            p->second.resolving = false;
                            if (ec || results.empty()) {
                              log_.warn("peer " + p->second.name + ": cannot resolve " +
                                        p->second.host->host + ": " +
                                        (ec ? ec.message() : std::string("no address")));
                              return;
                            }
                            const Endpoint ep = to_endpoint(results.begin()->endpoint());
                            const auto before = engine_->endpoint(id);
                            if (before == ep) return;
                            log_.info("peer " + p->second.name + ": " + p->second.host->host +
                                      " is now " + ep.to_string());
                            engine_->set_endpoint(id, ep);
                            if (!before && p->second.keepalive) {
                              // Resolved at last: start the session it would have had.
                              now_ = Clock::now();
                              engine_->initiate(now_, id);
                              flush_sends();
                              arm_timer(engine_->next_deadline());
                            }
                          });
}

std::string Interface::peer_name(PeerId id) const {
  const auto it = peers_.find(id);
  return it != peers_.end() ? it->second.name : "#" + std::to_string(id);
}

PeerId Interface::add_running_peer(const config::Peer& p, crypto::LockedKey psk) {
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
  for (const std::string& text : p.allowed_ips) {
    const routing::Prefix prefix = routing::Prefix::parse(text)->masked();
    allowed_.insert(prefix, id);
    info.allowed_ips.push_back(prefix);
  }
  peers_.emplace(id, std::move(info));
  return id;
}

void Interface::add_routes(const std::vector<routing::Prefix>& prefixes) {
  for (const routing::Prefix& prefix : prefixes) {
    // A default route never goes into the main table: a full tunnel's goes
    // into its table (its rules send traffic there), an exit node's too.
    const std::uint32_t table = prefix.length == 0 ? own_table_ : platform::kMainTable;
    try {
      netlink_->add_route(tun_.ifindex(), prefix, table, platform::kProtocolGw);
      routes_added_.push_back({prefix, table});
    } catch (const platform::NetlinkError& e) {
      if (e.error() != EEXIST) throw;
      // The kernel's own route for an interface address, or one an operator made.
      log_.debug("route " + prefix.to_string() + " exists already; left as it is");
    }
  }
}

void Interface::remove_routes(const std::vector<routing::Prefix>& prefixes) {
  for (const routing::Prefix& prefix : prefixes) {
    // Only routes we added: a network belongs to one peer, so the prefix names it.
    const auto it = std::find_if(routes_added_.begin(), routes_added_.end(),
                                 [&](const AddedRoute& r) { return r.prefix == prefix; });
    if (it == routes_added_.end()) continue;
    try {
      netlink_->remove_route(tun_.ifindex(), it->prefix, it->table, platform::kProtocolGw);
    } catch (const platform::NetlinkError& e) {
      if (e.error() != ESRCH) log_.warn("route " + prefix.to_string() + ": " + e.what());
    }
    routes_added_.erase(it);
  }
}

void Interface::drop_certified(const crypto::PublicKey& key) {
  const auto id = engine_->find_peer(key);
  if (!id) return;
  const auto it = peers_.find(*id);
  if (it == peers_.end() || !it->second.certificate) return;
  log_.info("peer " + it->second.name + " is configured now; its certificate admission ends");
  remove_running_peer(*id);
}

void Interface::remove_running_peer(PeerId id) {
  engine_->remove_peer(id);  // ends its sessions and wipes their keys
  forget_peer_state(id);
}

void Interface::forget_peer_state(PeerId id) {
  const auto it = peers_.find(id);
  if (it == peers_.end()) return;
  remove_routes(it->second.allowed_ips);
  allowed_.remove_value(id);
  peers_.erase(it);
}

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

void Interface::release_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips) {
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

void Interface::claim_allowed_ips(PeerId id, const std::vector<std::string>& allowed_ips) {
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

void Interface::set_endpoint(PeerId id, const std::optional<config::HostPort>& endpoint) {
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

void Interface::start_session(PeerId id) {
  const auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.keepalive || !engine_->endpoint(id)) return;
  now_ = Clock::now();
  engine_->initiate(now_, id);
  flush_sends();
  arm_timer(engine_->next_deadline());
}

// --- The control socket ---

void Interface::open_control() {
  ControlServer::Options o;
  o.path = options_.run_dir + "/" + config_->name + ".sock";
  if (config_->control_group) {
    const group* g = ::getgrnam(config_->control_group->c_str());
    if (g == nullptr) {
      throw std::runtime_error("control_group: no group named " + *config_->control_group);
    }
    o.group = g->gr_gid;
    o.group_name = *config_->control_group;
  }
  control_ = std::make_unique<ControlServer>(
      io_, log_, [this](std::string_view line) { return handle_request(line); });
  control_->open(o);
  log_.debug("control socket " + o.path);
}

std::string Interface::handle_request(std::string_view line) {
  auto parsed = control::parse_request(line);
  if (auto* e = std::get_if<control::Error>(&parsed)) {
    log_.debug("control request refused: " + e->code + ": " + e->message);
    return control::error_reply(*e);
  }
  control::Request& req = std::get<control::Request>(parsed);
  try {
    switch (req.command) {
      case control::Command::version:
        return control::ok_reply({{"protocol", control::kProtocolVersion}, {"gwd", GW_VERSION}});
      case control::Command::show:
        return control::ok_reply(control::to_json(status()));
      case control::Command::peer_list:
        return control::ok_reply({{"peers", req.certified ? certified_list() : peer_list()}});
      case control::Command::peer_add:
        return peer_add(req);
      case control::Command::peer_remove:
        return peer_remove(req);
      case control::Command::peer_set:
        return peer_set(req);
      case control::Command::reload:
        return reload();
    }
  } catch (const std::exception& e) {
    // A kernel refusal (a route, say) after the change was saved.
    log_.error(std::string("control: ") + control::to_string(req.command) + ": " + e.what());
    return control::error_reply({"failed", e.what()});
  }
  return control::error_reply({"unknown_command", "?"});
}

void Interface::add_live_state(control::Status& s, control::PeerStatus& ps, PeerId id,
                               const session::PeerStats& st,
                               std::chrono::system_clock::time_point wall,
                               Clock::time_point steady) const {
  const auto unix_at = [&](Instant t) {
    const auto at =
        wall - std::chrono::duration_cast<std::chrono::system_clock::duration>(steady - t);
    return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  };
  ps.session = engine_->has_session(id);
  if (st.last_handshake) ps.latest_handshake = unix_at(*st.last_handshake);
  if (st.attempt_since) {
    ps.handshake_pending_since = unix_at(*st.attempt_since);
    ps.handshake_attempts = st.attempts;
  }
  switch (st.trouble) {
    case session::Trouble::none:
      break;
    case session::Trouble::no_response:
      ps.handshake_trouble = "no_response";
      break;
    case session::Trouble::not_confirmed:
      ps.handshake_trouble = "not_confirmed";
      break;
    case session::Trouble::refused:
      ps.handshake_trouble = control::drop_reason(st.refusal);
      break;
  }
  ps.rx_bytes = st.rx_bytes;
  ps.tx_bytes = st.tx_bytes;
  ps.rx_packets = st.rx_packets;
  ps.tx_packets = st.tx_packets;
  ps.handshakes = st.handshakes;
  if (ps.session) {
    const char* n = session::suite_name(st.suite);
    ps.suite = n != nullptr ? n : std::to_string(st.suite);
    ++s.counters.sessions_active;
  }
  s.peers.push_back(std::move(ps));
}

control::Status Interface::status() const {
  control::Status s;
  s.name = started_.name;
  s.public_key = key_text(engine_->public_key());
  s.listen_port = udp_.port();
  s.mtu = started_.mtu;
  s.addresses = started_.addresses;
  for (const std::uint8_t id : started_.suites) {
    const char* n = session::suite_name(id);
    s.suites.push_back(n != nullptr ? n : std::to_string(id));
  }
  s.full_tunnel = table_ != 0;
  const auto wall = std::chrono::system_clock::now();
  const auto steady = Clock::now();
  s.time = std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
  for (const config::Peer& p : config_->peers) {
    const auto id = engine_->find_peer(p.public_key);
    const session::PeerStats* st = id ? engine_->stats(*id) : nullptr;
    if (st == nullptr) continue;
    control::PeerStatus ps;
    ps.name = p.name;
    ps.public_key = key_text(p.public_key);
    if (const auto ep = engine_->endpoint(*id)) ps.endpoint = ep->to_string();
    if (p.endpoint) ps.configured_endpoint = p.endpoint->to_string();
    ps.allowed_ips = p.allowed_ips;
    ps.persistent_keepalive = p.persistent_keepalive;
    ps.psk = p.psk_file.has_value();
    add_live_state(s, ps, *id, *st, wall, steady);
  }
  // Peers admitted by their certificates, after the configured ones.
  std::vector<std::pair<std::string, PeerId>> certified;
  for (const auto& [id, info] : peers_) {
    if (info.certificate) certified.emplace_back(info.name, id);
  }
  std::sort(certified.begin(), certified.end());
  for (const auto& [name, id] : certified) {
    const PeerInfo& info = peers_.at(id);
    const session::PeerStats* st = engine_->stats(id);
    if (st == nullptr) continue;
    control::PeerStatus ps;
    ps.name = name;
    ps.public_key = key_text(info.certificate->public_key);
    if (const auto ep = engine_->endpoint(id)) ps.endpoint = ep->to_string();
    for (const routing::Prefix& p : info.allowed_ips)
      ps.allowed_ips.push_back(p.to_string());
    ps.certificate = identity::to_hex(identity::fingerprint(*info.certificate));
    ps.certificate_expires = info.certificate->not_after;
    add_live_state(s, ps, id, *st, wall, steady);
  }
  for (const auto& [why, n] : cert_refusals_)
    s.counters.handshakes_failed["certificate_" + why.substr(0, why.find(' '))] += n;
  for (std::size_t i = 0; i < static_cast<std::size_t>(Drop::count_); ++i) {
    const auto d = static_cast<Drop>(i);
    (control::is_handshake_failure(d) ? s.counters.handshakes_failed
                                      : s.counters.dropped)[control::drop_reason(d)] =
        engine_->drops(d);
  }
  s.counters.handshakes_failed["timeout"] = gave_up_;
  // Pending handshakes that lost their place to newer ones (PROTOCOL.md 7.5):
  // a climbing count is a flood of initiations that are never finished.
  s.counters.handshakes_failed["evicted"] = engine_ ? engine_->pending_evictions() : 0;
  s.counters.dropped["disallowed_source"] = disallowed_source_;
  s.counters.dropped["no_route"] = no_route_;
  s.counters.dropped["bad_tun_frame"] = bad_frames_;
  s.counters.dropped["tun_write_error"] = tun_write_errors_;
  s.counters.cookie_replies_sent = cookies_sent_;
  return s;
}

nlohmann::json Interface::certified_list() const {
  std::vector<std::pair<std::string, PeerId>> certified;
  for (const auto& [id, info] : peers_) {
    if (info.certificate) certified.emplace_back(info.name, id);
  }
  std::sort(certified.begin(), certified.end());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, id] : certified) {
    const identity::Certificate& cert = *peers_.at(id).certificate;
    nlohmann::json ips = nlohmann::json::array();
    for (const routing::Prefix& p : peers_.at(id).allowed_ips)
      ips.push_back(p.to_string());
    const auto ep = engine_->endpoint(id);
    list.push_back({{"name", name},
                    {"public_key", key_text(cert.public_key)},
                    {"endpoint", ep ? nlohmann::json(ep->to_string()) : nullptr},
                    {"allowed_ips", std::move(ips)},
                    {"certificate", identity::to_hex(identity::fingerprint(cert))},
                    {"not_after", cert.not_after},
                    {"groups", cert.groups}});
  }
  return list;
}

nlohmann::json Interface::peer_list() const {
  nlohmann::json list = nlohmann::json::array();
  for (const config::Peer& p : config_->peers) {
    list.push_back({{"name", p.name},
                    {"public_key", key_text(p.public_key)},
                    {"endpoint", p.endpoint ? nlohmann::json(p.endpoint->to_string()) : nullptr},
                    {"allowed_ips", p.allowed_ips},
                    {"persistent_keepalive", p.persistent_keepalive},
                    {"psk", p.psk_file.has_value()}});
  }
  return list;
}

std::optional<std::size_t> Interface::find_config_peer(std::string_view text) const {
  const auto& peers = config_->peers;
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

std::optional<control::Error> Interface::commit(config::InterfaceConfig candidate) {
  const std::string text = config::to_json(candidate);
  const config::ParseResult check = config::parse_config(text, options_.config_path);
  if (!check) {
    std::string message;
    for (const std::string& e : check.errors)
      message += (message.empty() ? "" : "; ") + e;
    return control::Error{"conflict", message};
  }
  if (const auto saved = config::write_file_atomically(options_.config_path, text); !saved) {
    return control::Error{"save_failed", saved.error + "; nothing changed"};
  }
  config_ = std::move(candidate);
  return std::nullopt;
}

namespace {
// The PSK files gwd writes: "PEER.gwd.psk" or "PEER.N.gwd.psk" in the config's
// folder. Any other file a config names is the administrator's.
constexpr std::string_view kPskSuffix = ".gwd.psk";
bool written_by_gwd(const std::string& file) {
  return file.find('/') == std::string::npos && file.size() > kPskSuffix.size() &&
         file.ends_with(kPskSuffix);
}
}  // namespace

std::variant<std::string, control::Error> Interface::write_psk(
    const std::string& peer, const crypto::Secret<config::kKeyLen>& psk) {
  // A name no file has yet: until the config naming it is saved, the old
  // file (if any) still holds the key the old config names.
  std::string name;
  for (unsigned n = 0; n < 1000; ++n) {
    name = peer + (n == 0 ? "" : "." + std::to_string(n)) + std::string(kPskSuffix);
    if (::access(config::resolve_path(options_.config_path, name).c_str(), F_OK) != 0) break;
  }
  std::string text = config::to_base64(psk.bytes()) + "\n";
  const auto saved =
      config::write_file_atomically(config::resolve_path(options_.config_path, name), text);
  sodium_memzero(text.data(), text.size());
  if (!saved) return control::Error{"save_failed", saved.error + "; nothing changed"};
  return name;
}

bool Interface::still_named(const std::string& path) const {
  std::vector<std::string> files{config_->private_key_file};
  if (config_->network_key_file) files.push_back(*config_->network_key_file);
  for (const config::Peer& p : config_->peers) {
    if (p.psk_file) files.push_back(*p.psk_file);
  }
  std::error_code ec;  // a file that is not there names nothing
  return std::any_of(files.begin(), files.end(), [&](const std::string& f) {
    return std::filesystem::equivalent(path, config::resolve_path(options_.config_path, f), ec);
  });
}

void Interface::remove_psk_file(const std::optional<std::string>& file) {
  // Only files gwd wrote, and none the config still names (another peer's).
  if (!file || !written_by_gwd(*file)) return;
  const std::string path = config::resolve_path(options_.config_path, *file);
  if (still_named(path)) return;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    log_.warn("cannot remove the old pre-shared key file " + path + ": " + std::strerror(errno));
  }
}

std::optional<control::Error> Interface::full_tunnel_check(
    const std::vector<std::string>& allowed) const {
  if (table_ != 0) return std::nullopt;
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

std::string Interface::peer_add(control::Request& req) {
  config::Peer& p = req.new_peer;
  if (p.public_key == engine_->public_key()) {
    return control::error_reply(
        {"conflict", "$.peer.public_key: that is this interface's own key"});
  }
  if (auto e = full_tunnel_check(p.allowed_ips)) return control::error_reply(*e);
  underlay_.valid = false;
  if (auto why = route_refusal(p.allowed_ips, p.endpoint, "$.peer.allowed_ips")) {
    return control::error_reply({"conflict", *why});
  }
  config::InterfaceConfig candidate = *config_;
  if (req.psk) {
    auto written = write_psk(p.name, *req.psk);
    if (auto* e = std::get_if<control::Error>(&written)) return control::error_reply(*e);
    p.psk_file = std::get<std::string>(written);
  }
  candidate.peers.push_back(p);
  if (auto e = commit(std::move(candidate))) {
    remove_psk_file(p.psk_file);
    return control::error_reply(*e);
  }
  drop_certified(p.public_key);
  const PeerId id = add_running_peer(p, std::move(req.psk));
  add_routes(peers_.at(id).allowed_ips);
  if (peers_.at(id).host) resolve_async(id);
  start_session(id);
  log_.info("peer " + p.name + " added (" + key_text(p.public_key) + ")");
  return control::ok_reply({{"peer", p.name}});
}

std::string Interface::peer_remove(const control::Request& req) {
  const auto index = find_config_peer(req.peer);
  if (!index) {
    return control::error_reply({"not_found", "no peer named or keyed \"" + req.peer + "\""});
  }
  const config::Peer old = config_->peers[*index];
  config::InterfaceConfig candidate = *config_;
  candidate.peers.erase(candidate.peers.begin() + static_cast<std::ptrdiff_t>(*index));
  if (auto e = commit(std::move(candidate))) return control::error_reply(*e);
  if (const auto id = engine_->find_peer(old.public_key)) remove_running_peer(*id);
  remove_psk_file(old.psk_file);
  log_.info("peer " + old.name + " removed; its keys are wiped");
  return control::ok_reply({{"peer", old.name}});
}

std::string Interface::peer_set(control::Request& req) {
  const auto index = find_config_peer(req.peer);
  if (!index) {
    return control::error_reply({"not_found", "no peer named or keyed \"" + req.peer + "\""});
  }
  const config::Peer old = config_->peers[*index];
  config::Peer next = old;
  const control::PeerChanges& c = req.changes;
  if (c.endpoint) next.endpoint = *c.endpoint;
  if (c.allowed_ips) {
    if (auto e = full_tunnel_check(*c.allowed_ips)) return control::error_reply(*e);
    next.allowed_ips = *c.allowed_ips;
  }
  if (c.persistent_keepalive) next.persistent_keepalive = *c.persistent_keepalive;
  if (c.endpoint || c.allowed_ips) {
    // New prefixes against the host's routes; the endpoint against every prefix.
    underlay_.valid = false;
    const std::string path =
        c.allowed_ips ? std::string("$.set.allowed_ips") : "peer " + old.name + "'s allowed_ips";
    if (auto why =
            route_refusal(next.allowed_ips, next.endpoint, path, c.allowed_ips.has_value())) {
      return control::error_reply({"conflict", *why});
    }
  }
  if (c.psk) {
    next.psk_file.reset();
    if (*c.psk) {
      auto written = write_psk(old.name, **c.psk);
      if (auto* e = std::get_if<control::Error>(&written)) return control::error_reply(*e);
      next.psk_file = std::get<std::string>(written);
    }
  }
  config::InterfaceConfig candidate = *config_;
  candidate.peers[*index] = next;
  if (auto e = commit(std::move(candidate))) {
    if (next.psk_file != old.psk_file) remove_psk_file(next.psk_file);
    return control::error_reply(*e);
  }
  const PeerId id = *engine_->find_peer(old.public_key);
  if (c.endpoint) set_endpoint(id, next.endpoint);
  if (c.allowed_ips) claim_allowed_ips(id, next.allowed_ips);
  if (c.persistent_keepalive) {
    peers_.at(id).keepalive = next.persistent_keepalive != 0;
    arm_timer(engine_->set_persistent_keepalive(Clock::now(), id, next.persistent_keepalive));
  }
  if (c.psk) {
    engine_->set_psk(id, *c.psk);  // the request's slot, shared
    if (old.psk_file != next.psk_file) remove_psk_file(old.psk_file);
  }
  if (!engine_->has_session(id)) start_session(id);
  log_.info("peer " + old.name + " changed");
  return control::ok_reply({{"peer", old.name}});
}

std::string Interface::reload() {
  config::LoadResult r = config::load_config(options_.config_path);
  if (!r) {
    std::string message;
    for (const std::string& e : r.errors)
      message += (message.empty() ? "" : "; ") + e;
    return control::error_reply({"bad_config", message + "; nothing changed"});
  }
  const config::InterfaceConfig& next = *r.config;
  nlohmann::json restart = nlohmann::json::array();
  {
    config::InterfaceConfig fields = next;
    fields.peers.clear();
    const auto differs = [&](const char* name, bool d) {
      if (d) restart.push_back(name);
    };
    differs("name", fields.name != started_.name);
    differs("private_key_file", fields.private_key_file != started_.private_key_file ||
                                    r.key->public_key != engine_->public_key());
    differs("listen_port", fields.listen_port != started_.listen_port);
    differs("addresses", fields.addresses != started_.addresses);
    differs("mtu", fields.mtu != started_.mtu);
    differs("suites", fields.suites != started_.suites);
    differs("user", fields.user != started_.user);
    differs("group", fields.group != started_.group);
    differs("control_group", fields.control_group != started_.control_group);
    differs("metrics_port", fields.metrics_port != started_.metrics_port);
    differs("under_load_threshold", fields.under_load_threshold != started_.under_load_threshold);
    // Our own certificate goes into every handshake from the engine's config.
    differs("certificate_file", r.certificate != certificate_);
    differs("network_key_file", (r.network_key ? std::optional(digest(*r.network_key))
                                               : std::nullopt) != network_key_digest_);
  }
  for (const config::Peer& p : next.peers) {
    if (auto e = full_tunnel_check(p.allowed_ips)) return control::error_reply(*e);
  }
  if (const auto refused = route_refusals(next, options_.config_path + ": "); !refused.empty()) {
    std::string message;
    for (const std::string& e : refused)
      message += e + "; ";
    return control::error_reply({"conflict", message + "nothing changed"});
  }
  nlohmann::json added = nlohmann::json::array(), removed = nlohmann::json::array(),
                 changed = nlohmann::json::array();
  // Removals first: a network may pass from a removed peer to an added one.
  for (const config::Peer& old : config_->peers) {
    const bool kept = std::any_of(next.peers.begin(), next.peers.end(), [&](const config::Peer& p) {
      return p.public_key == old.public_key;
    });
    if (kept) continue;
    if (const auto id = engine_->find_peer(old.public_key)) remove_running_peer(*id);
    removed.push_back(old.name);
  }
  // A key the file now lists is a configured peer, no longer one admitted by
  // its certificate: that one goes (sessions, routes), the configured one comes.
  for (const config::Peer& p : next.peers)
    drop_certified(p.public_key);
  // Networks that move between peers: released everywhere before any is claimed.
  for (const config::Peer& p : next.peers) {
    if (const auto id = engine_->find_peer(p.public_key)) release_allowed_ips(*id, p.allowed_ips);
  }
  for (std::size_t i = 0; i < next.peers.size(); ++i) {
    const config::Peer& p = next.peers[i];
    const auto id = engine_->find_peer(p.public_key);
    if (!id) {
      const PeerId nid = add_running_peer(p, std::move(r.psks[i]));
      add_routes(peers_.at(nid).allowed_ips);
      if (peers_.at(nid).host) resolve_async(nid);
      start_session(nid);
      added.push_back(p.name);
      continue;
    }
    const auto old =
        std::find_if(config_->peers.begin(), config_->peers.end(),
                     [&](const config::Peer& o) { return o.public_key == p.public_key; });
    engine_->set_psk(*id, std::move(r.psks[i]));  // a file's content may change under one name
    if (*old == p) continue;
    peers_.at(*id).name = p.name;
    if (old->endpoint != p.endpoint) set_endpoint(*id, p.endpoint);
    if (old->allowed_ips != p.allowed_ips) claim_allowed_ips(*id, p.allowed_ips);
    if (old->persistent_keepalive != p.persistent_keepalive) {
      peers_.at(*id).keepalive = p.persistent_keepalive != 0;
      arm_timer(engine_->set_persistent_keepalive(Clock::now(), *id, p.persistent_keepalive));
    }
    changed.push_back(p.name);
  }
  config_ = std::move(r.config);
  // New CAs and revocations apply to peers admitted by certificate at once.
  cas_ = std::move(r.cas);
  revoked_ = std::move(r.revoked);
  std::vector<PeerId> refused;
  for (const auto& [id, info] : peers_) {
    if (!info.certificate) continue;
    const identity::CertError verdict = identity::verify(*info.certificate, cas_, revoked_,
                                                         unix_now(), info.certificate->public_key);
    if (verdict == identity::CertError::ok) continue;
    log_.info("peer " + info.name + " removed: " + identity::to_string(verdict));
    ++cert_refusals_[identity::reason(verdict)];
    removed.push_back(info.name);
    refused.push_back(id);
  }
  for (const PeerId id : refused)
    remove_running_peer(id);
  for (const config::Peer& p : config_->peers) {
    if (const auto id = engine_->find_peer(p.public_key); id && !engine_->has_session(*id)) {
      start_session(*id);
    }
  }
  log_.info("reloaded " + options_.config_path + ": " + std::to_string(added.size()) + " added, " +
            std::to_string(removed.size()) + " removed, " + std::to_string(changed.size()) +
            " changed" + (restart.empty() ? "" : "; needs a restart: " + restart.dump()));
  return control::ok_reply({{"added", std::move(added)},
                            {"removed", std::move(removed)},
                            {"changed", std::move(changed)},
                            {"restart_required", std::move(restart)}});
}

void Interface::count_refusal(const crypto::PublicKey& key, const std::string& name,
                              const std::string& why) {
  ++cert_refusals_[why];
  std::uint64_t held = 0;
  if (cert_limits_[why.substr(0, why.find(' '))].allow(Clock::now(), held)) {
    log_.warn("refused the certificate" + (name.empty() ? "" : " of " + name) + " with key " +
              key_text(key) + ": " + why +
              (held != 0 ? " (" + std::to_string(held) + " more not logged)" : ""));
  }
}

session::Admission Interface::authorize(Instant now, session::Role our_role,
                                        const crypto::PublicKey& key, std::optional<PeerId> known,
                                        const wire::ExtensionList& extensions) {
  (void)our_role;  // the same rules in both roles
  const auto info = known ? peers_.find(*known) : peers_.end();
  // A configured peer: its key is enough.
  if (known && (info == peers_.end() || !info->second.certificate)) {
    return session::Admission::existing(*known);
  }
  if (cas_.empty()) return session::Admission::refuse();
  const std::string name = info != peers_.end() ? info->second.name : "";
  // A peer that never showed a certificate is unknown, as ever; one admitted
  // by a certificate that shows none now is refused by name.
  if (!known && extensions.find(wire_spec::kExtCertificate) == nullptr) {
    return session::Admission::refuse();
  }
  const PeerId self = known.value_or(session::kNoPeer);
  const Verdict v =
      decide({cas_, revoked_, config_->certificate_exit_nodes}, unix_now(), key, extensions,
             [&](const routing::Prefix& p) { return prefix_conflict(p, self); });
  if (!v.admit) {
    count_refusal(key, v.name.empty() ? name : v.name, v.reason);
    return session::Admission::refuse();  // a known one is forgotten by the engine
  }
  const identity::Certificate& cert = v.grant->certificate;
  // The sessions end when the certificate does, whoever starts the next handshake.
  const Instant until = now + std::chrono::seconds(cert.not_after - unix_now());
  candidate_.emplace(key, *v.grant);
  if (known) return session::Admission::existing(*known, until);
  session::PeerConfig pc;
  pc.name = cert.name;
  return session::Admission::add(std::move(pc), until);
}

std::optional<std::string> Interface::prefix_conflict(const routing::Prefix& prefix, PeerId self) {
  if (prefix.length == 0) {  // an exit node's default route: one peer holds it
    for (const auto& [id, info] : peers_) {
      if (id != self && has(info.allowed_ips, prefix)) return "routed to peer " + info.name;
    }
    return std::nullopt;
  }
  if (const auto other = allowed_.overlapping(prefix, self)) {
    return "overlaps a network of peer " + peer_name(*other);
  }
  const Underlay& u = underlay();
  for (const routing::Prefix& a : u.addresses) {
    const std::size_t len = a.family == routing::Family::v4 ? 4 : 16;
    if (prefix.contains(Bytes(a.address.data(), len))) {
      return "holds " +
             routing::Prefix{a.family, a.address, static_cast<std::uint8_t>(len * 8)}.to_string() +
             ", an address of this gateway";
    }
  }
  if (const auto* r = underlay_route(prefix, false)) {
    return "overlaps the route " + r->destination.masked().to_string() + " of this gateway";
  }
  return std::nullopt;
}

const platform::Netlink::DeviceRoute* Interface::underlay_route(const routing::Prefix& prefix,
                                                                bool exact) {
  for (const auto& r : underlay().routes) {
    if (r.destination.length == 0) continue;
    if (exact ? r.destination.masked() == prefix.masked() : r.destination.overlaps(prefix)) {
      return &r;
    }
  }
  return nullptr;
}

namespace {
// The allowed IP at `k` that holds `endpoint`'s address: its handshakes would
// go into the tunnel they carry. A default route does not count: it goes to
// gwd's own table, which gwd's marked socket never uses.
std::optional<std::size_t> holding_endpoint(const std::vector<std::string>& allowed,
                                            const session::Endpoint& endpoint) {
  for (std::size_t k = 0; k < allowed.size(); ++k) {
    const routing::Prefix prefix = routing::Prefix::parse(allowed[k])->masked();
    if (prefix.length != 0 && prefix.contains(endpoint.address_bytes())) return k;
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> Interface::route_refusal(const std::vector<std::string>& allowed,
                                                    const std::optional<config::HostPort>& endpoint,
                                                    const std::string& path, bool routes) {
  const auto at = [&](std::size_t k) { return path + "[" + std::to_string(k) + "]: "; };
  if (endpoint && endpoint->address) {
    if (const auto k = holding_endpoint(allowed, *endpoint->address)) {
      return at(*k) + allowed[*k] + " holds the peer's own endpoint " + endpoint->to_string() +
             ", so its handshakes would go into its own tunnel";
    }
  }
  for (std::size_t k = 0; routes && k < allowed.size(); ++k) {
    const auto* r = underlay_route(*routing::Prefix::parse(allowed[k]), true);
    if (r == nullptr) continue;
    return at(k) + allowed[k] + " is routed through " +
           (r->ifindex != 0 ? platform::Netlink::device_name(r->ifindex) : "several devices") +
           " already, so gwd could not route it to the peer (remove that route, or this prefix)";
  }
  return std::nullopt;
}

std::vector<std::string> Interface::route_refusals(const config::InterfaceConfig& cfg,
                                                   const std::string& prefix) {
  underlay_.valid = false;  // what the host routes now, not 5 s ago
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cfg.peers.size(); ++i) {
    const config::Peer& p = cfg.peers[i];
    const std::string path = "$.peers[" + std::to_string(i) + "].allowed_ips";
    if (auto why = route_refusal(p.allowed_ips, p.endpoint, path)) out.push_back(prefix + *why);
  }
  return out;
}

const Interface::Underlay& Interface::underlay() {
  const Instant now = Clock::now();
  if (underlay_.valid && now - underlay_.read < kUnderlayMaxAge) return underlay_;
  underlay_.addresses = netlink_->all_addresses();
  underlay_.routes.clear();
  for (auto& r : netlink_->table_routes(platform::kMainTable)) {
    // Before the TUN exists (at start) every route is another device's.
    if (tun_.fd() < 0 || r.ifindex != tun_.ifindex()) underlay_.routes.push_back(r);
  }
  underlay_.read = now;
  underlay_.valid = true;
  return underlay_;
}

void Interface::commit_grant(PeerId id, Grant grant) {
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

bool Interface::start() {
  if (!load()) return false;
  const config::InterfaceConfig& cfg = *config_;
  try {
    // The engine and the routing table: pure, nothing touched yet.
    session::EngineConfig ec;
    ec.static_key = key_;
    ec.suites = cfg.suites;
    ec.mtu = cfg.mtu;
    ec.under_load_threshold = cfg.under_load_threshold;
    if (certificate_) ec.certificate = identity::encode(*certificate_);
    if (network_key_) {
      ec.network_key.emplace(network_key_->bytes());
      network_key_digest_ = digest(*network_key_);
      network_key_.reset();  // the engine holds its own copy
    }
    engine_ = std::make_unique<session::Engine>(std::move(ec), crypto::system_rng(), *this);
    engine_->set_authorizer(this);
    key_.reset();  // the engine holds the one copy now
    bool full_tunnel = false;
    for (std::size_t i = 0; i < cfg.peers.size(); ++i) {
      const PeerId id = add_running_peer(cfg.peers[i], std::move(psks_[i]));
      for (const routing::Prefix& prefix : peers_.at(id).allowed_ips) {
        if (prefix.length == 0) full_tunnel = true;
      }
    }
    psks_.clear();
    own_table_ = tunnel_table(cfg.name);
    if (full_tunnel) table_ = own_table_;

    // What the host routes already, before anything is touched.
    netlink_.emplace();
    const std::vector<std::string> refused = route_refusals(cfg, options_.config_path + ": ");
    for (const std::string& e : refused)
      log_.error(e);
    if (!refused.empty()) {
      teardown();
      return false;
    }

    // The UDP socket first: a busy port is the likeliest failure.
    platform::UdpSocket::Options uo;
    uo.port = cfg.listen_port;
    uo.gso = options_.offloads;
    uo.gro = options_.offloads;
    if (table_ != 0) uo.fwmark = table_;
    udp_ = platform::UdpSocket::open(uo);

    open_control();
    if (cfg.metrics_port != 0) {
      metrics_ = std::make_unique<MetricsServer>(
          io_, cfg.metrics_port, [this] { return control::to_prometheus(status()); });
      metrics_->start();
      log_.info("metrics on http://127.0.0.1:" + std::to_string(metrics_->port()) + "/metrics");
    }
    tun_ = platform::Tun::open({cfg.name, options_.offloads});
    vnet_ = tun_.offloads().vnet_hdr;
    setup_network();
    underlay_.valid = false;  // read before the interface and its addresses were there

    // Endpoints given by DNS name: resolved now, again when handshakes fail.
    for (auto& [id, info] : peers_) {
      if (info.host) resolve_blocking(id, info);
    }

    // Everything that needs root is done; later route changes need CAP_NET_ADMIN.
    if (cfg.user) {
      platform::drop_privileges(*cfg.user, cfg.group, true);
      log_.info("running as user " + *cfg.user + " with " + platform::effective_capabilities());
    }
  } catch (const std::exception& e) {
    log_.error(std::string("setup failed: ") + e.what());
    teardown();
    return false;
  }

  // Buffers, sized once.
  slot_stride_ = (session::kPacketHeadroom + mtu_ + session::kPacketTailroom + 63) / 64 * 64;
  slots_.assign(slot_stride_ * kSlots, 0);
  frame_.assign(vnet_ ? kMaxFrame : 0, 0);
  side_.assign(kSideArena, 0);
  sends_ = std::make_unique<platform::SendBatch>(kSlots);
  receives_ = udp_.gro() ? std::make_unique<platform::RecvBatch>(8, 65536)
                         : std::make_unique<platform::RecvBatch>(
                               64, std::max<std::size_t>(2048, mtu_ + 256));
  if (vnet_) coalescer_ = std::make_unique<offload::Coalescer>();
  seal_jobs_.resize(kSlots);
  open_jobs_.resize(kSlots);

  tun_io_.assign(tun_.fd());
  udp_io_.assign(udp_.fd());
  return true;
}

void Interface::remove_stale_rules() {
  for (const routing::Family f : {routing::Family::v4, routing::Family::v6}) {
    for (const platform::Rule& r : netlink_->rules(f)) {
      // gwd's mark, and one of the two rules it adds: an identical rule
      // without the mark (wg-quick's) is someone else's.
      const bool ours =
          r.protocol == platform::kProtocolGw &&
          (r.table == table_ || (r.priority == kSuppressRulePriority &&
                                 r.suppress_prefixlength == 0 && r.table == platform::kMainTable));
      if (!ours) continue;
      try {
        netlink_->remove_rule(r);
        log_.info("removed a rule left by an earlier run (table " + std::to_string(r.table) + ")");
      } catch (const platform::NetlinkError& e) {
        log_.warn(e.what());
      }
    }
  }
}

// The full tunnel's nftables table (gw/platform/nft.hpp), before the
// interface has its addresses. A table of that name that an earlier run
// left goes, with or without a full tunnel now.
void Interface::setup_filter(bool default_v4, bool default_v6) {
  const config::InterfaceConfig& cfg = *config_;
  const std::string table = platform::nft_table_name(cfg.name);
  const std::string stale = "removed nftables table inet " + table + " left by an earlier run";
  if (table_ == 0) {
    try {
      platform::Nft nft;
      if (!nft.has_table(table)) return;
      nft.remove_table(table);
      log_.info(stale);
    } catch (const platform::NftError& e) {
      log_.debug(e.what());  // no nftables here: nothing to remove either
    }
    return;
  }
  platform::FullTunnelFilter filter;
  filter.interface = cfg.name;
  filter.fwmark = table_;
  for (const std::string& text : cfg.addresses) {
    const routing::Prefix a = *routing::Prefix::parse(text);
    if (a.family == routing::Family::v4 ? default_v4 : default_v6) filter.addresses.push_back(a);
  }
  platform::Nft nft;
  const bool left = nft.has_table(table);
  nft.install(filter);
  filter_added_ = true;
  if (left) log_.info(stale);
  if (!default_v4) return;  // IPv6 has no rp_filter
  try {
    if (platform::enable_src_valid_mark()) log_.info("set net.ipv4.conf.all.src_valid_mark=1");
  } catch (const std::exception& e) {
    // Under the systemd unit /proc/sys is hidden and read-only.
    log_.warn("cannot set net.ipv4.conf.all.src_valid_mark=1 (" + std::string(e.what()) +
              "): if reverse-path filtering is strict (rp_filter=1), the peer's replies are "
              "dropped until it is set (sysctl.d)");
  }
}

void Interface::setup_network() {
  const config::InterfaceConfig& cfg = *config_;
  const unsigned ifindex = tun_.ifindex();
  bool default_v4 = false, default_v6 = false;
  for (const auto& [id, info] : peers_) {
    for (const routing::Prefix& prefix : info.allowed_ips) {
      if (prefix.length == 0)
        (prefix.family == routing::Family::v4 ? default_v4 : default_v6) = true;
    }
  }
  setup_filter(default_v4, default_v6);
  netlink_->set_mtu(ifindex, cfg.mtu);
  for (const std::string& text : cfg.addresses) {
    netlink_->add_address(ifindex, *routing::Prefix::parse(text));
  }
  netlink_->set_up(ifindex, true);

  if (table_ != 0) remove_stale_rules();
  for (const auto& [id, info] : peers_)
    add_routes(info.allowed_ips);
  // A full tunnel, as wg-quick builds it: everything not marked by our own
  // socket goes to our table; the main table still wins with anything more
  // specific than a default route (the underlay's own subnets).
  for (const auto& [family, on] :
       {std::pair{routing::Family::v4, default_v4}, std::pair{routing::Family::v6, default_v6}}) {
    if (!on) continue;
    platform::Rule suppress;
    suppress.family = family;
    suppress.priority = kSuppressRulePriority;
    suppress.table = platform::kMainTable;
    suppress.suppress_prefixlength = 0;
    suppress.protocol = platform::kProtocolGw;
    platform::Rule tunnel;
    tunnel.family = family;
    tunnel.priority = kTunnelRulePriority;
    tunnel.table = table_;
    tunnel.fwmark = table_;
    tunnel.invert = true;
    tunnel.protocol = platform::kProtocolGw;
    for (const platform::Rule& r : {suppress, tunnel}) {
      netlink_->add_rule(r);
      rules_added_.push_back(r);
    }
  }
}

void Interface::teardown() noexcept {
  if (torn_down_) return;
  torn_down_ = true;
  if (tun_io_.is_open()) tun_io_.release();
  if (udp_io_.is_open()) udp_io_.release();
  if (netlink_) {
    for (auto it = rules_added_.rbegin(); it != rules_added_.rend(); ++it) {
      try {
        netlink_->remove_rule(*it);
      } catch (const std::exception& e) {
        log_.warn(std::string("teardown: ") + e.what());
      }
    }
    if (tun_.fd() >= 0) {
      for (auto it = routes_added_.rbegin(); it != routes_added_.rend(); ++it) {
        try {
          netlink_->remove_route(tun_.ifindex(), it->prefix, it->table, platform::kProtocolGw);
        } catch (const platform::NetlinkError& e) {
          // Routes die with the device; one already gone is no failure.
          if (e.error() != ESRCH && e.error() != ENODEV) {
            log_.warn(std::string("teardown: ") + e.what());
          }
        } catch (const std::exception& e) {
          log_.warn(std::string("teardown: ") + e.what());
        }
      }
    }
  }
  if (filter_added_) {
    try {
      platform::Nft().remove_table(platform::nft_table_name(started_.name));
    } catch (const std::exception& e) {
      log_.warn(std::string("teardown: ") + e.what());
    }
    filter_added_ = false;
  }
  rules_added_.clear();
  routes_added_.clear();
  if (control_) control_->close();
  if (metrics_) metrics_->stop();
  tun_.close();  // the interface, its addresses and remaining routes go with it
  udp_.close();
  engine_.reset();  // wipes every session key
}

// --- The event loop ---

void Interface::run() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log_.info(std::string("stopping on ") + (signo == SIGINT ? "SIGINT" : "SIGTERM"));
    io_.stop();
  });

  const config::InterfaceConfig& cfg = started_;
  std::string addresses;
  for (const std::string& a : cfg.addresses)
    addresses += (addresses.empty() ? "" : " ") + a;
  log_.info("up: public key " + key_text(engine_->public_key()) + ", addresses " +
            (addresses.empty() ? "none" : addresses) + ", mtu " + std::to_string(cfg.mtu) +
            ", UDP port " + std::to_string(udp_.port()) + ", " + std::to_string(peers_.size()) +
            (peers_.size() == 1 ? " peer" : " peers") +
            (vnet_ ? ", TUN offloads" : ", no TUN offloads") + (udp_.gso() ? ", UDP GSO" : "") +
            (udp_.gro() ? ", UDP GRO" : "") + (table_ != 0 ? ", full tunnel" : ""));
  platform::notify_systemd("READY=1\nSTATUS=up, " + std::to_string(peers_.size()) + " peers");

  // The workers start only now: privileges were dropped for this thread
  // alone, and every later thread inherits what it kept.
  if (options_.threads > 1) {
    pool_ = std::make_unique<WorkerPool>(options_.threads);
    log_.info(std::to_string(options_.threads) + " threads encrypt and decrypt");
  }

  // Peers that keep their session alive start it now, as WireGuard's do.
  for (const auto& p : config_->peers) {
    if (const auto id = engine_->find_peer(p.public_key)) start_session(*id);
  }
  arm_timer(engine_->next_deadline());
  wait_tun();
  wait_udp();
  io_.run();
  pool_.reset();

  platform::notify_systemd("STOPPING=1");
  log_summary();
}

void Interface::wait_tun() {
  tun_io_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       on_tun_readable();
                       wait_tun();
                     });
}

void Interface::wait_udp() {
  udp_io_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       on_udp_readable();
                       wait_udp();
                     });
}

void Interface::arm_timer(Instant deadline) {
  if (deadline == armed_) return;
  armed_ = deadline;
  if (deadline == Instant::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(deadline);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled or re-armed
    armed_ = Instant::max();
    now_ = Clock::now();
    engine_->poll(now_);
    flush_sends();
    arm_timer(engine_->next_deadline());
  });
}

MutBytes Interface::next(std::size_t size) {
  if (slots_used_ == kSlots || size > mtu_) return {};
  return {slot(slots_used_) + session::kPacketHeadroom, mtu_};
}

void Interface::commit(std::size_t size) {
  slot_len_[slots_used_++] = size;
}

void Interface::on_tun_readable() {
  now_ = Clock::now();
  // Enough free slots for one frame of 64 KiB cut at the MTU.
  const std::size_t per_frame = vnet_ ? 65535 / (mtu_ - 40) + 2 : 1;
  for (std::size_t frames = 0; frames < kMaxFramesPerWakeup; ++frames) {
    if (kSlots - slots_used_ < per_frame) {
      finish_seals();
      flush_sends();
      slots_used_ = 0;
    }
    const std::size_t first = slots_used_;
    if (vnet_) {
      const ssize_t n = tun_.read(frame_);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) log_.error(std::string("TUN read: ") + std::strerror(errno));
        break;
      }
      const auto err =
          offload::segment(Bytes(frame_.data(), static_cast<std::size_t>(n)), mtu_, *this);
      if (err != offload::SegmentError::none) {
        ++bad_frames_;
        log_.debug(std::string("TUN frame dropped: ") + offload::to_string(err));
      }
    } else {
      const ssize_t n = tun_.read(MutBytes(slot(first) + session::kPacketHeadroom, mtu_));
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) log_.error(std::string("TUN read: ") + std::strerror(errno));
        break;
      }
      slot_len_[slots_used_++] = static_cast<std::size_t>(n);
    }
    for (std::size_t i = first; i < slots_used_; ++i)
      route_and_send(now_, i);
  }
  finish_seals();
  flush_sends();
  slots_used_ = 0;
  arm_timer(engine_->next_deadline());
}

void Interface::route_and_send(Instant now, std::size_t i) {
  const Bytes packet(slot(i) + session::kPacketHeadroom, slot_len_[i]);
  const auto peer = allowed_.lookup_destination(packet);
  if (!peer) {
    ++no_route_;
    return;
  }
  const MutBytes buffer(slot(i), slot_stride_);
  if (!pool_) {
    engine_->send_packet(now, *peer, buffer, slot_len_[i]);
    return;
  }
  // A job per slot at most, and the slots are reused only after finish_seals().
  if (engine_->prepare_send(now, *peer, buffer, slot_len_[i], seal_jobs_[seals_])) ++seals_;
}

void Interface::finish_seals() {
  if (seals_ == 0) return;
  seal_all(*pool_, std::span(seal_jobs_.data(), seals_));
  for (std::size_t i = 0; i < seals_; ++i)
    engine_->finish_send(now_, seal_jobs_[i]);
  seals_ = 0;
}

void Interface::finish_opens() {
  if (opens_ == 0) return;
  open_all(*pool_, std::span(open_jobs_.data(), opens_));
  for (std::size_t i = 0; i < opens_; ++i)
    engine_->finish_receive(now_, open_jobs_[i]);
  opens_ = 0;
}

void Interface::send_datagram(const Endpoint& to, Bytes datagram) {
  const bool in_slots = datagram.data() >= slots_.data() &&
                        datagram.data() + datagram.size() <= slots_.data() + slots_.size();
  // Room first: a send empties the batch and the side arena together.
  if (sends_->full() || (!in_slots && side_used_ + datagram.size() > side_.size())) flush_sends();
  Bytes data = datagram;
  if (!in_slots) {
    // Built in the engine's memory (a handshake message, a staged packet):
    // kept in the side arena until the batch goes out. It never exceeds an
    // MTU plus overhead, far below the arena's size.
    std::memcpy(side_.data() + side_used_, datagram.data(), datagram.size());
    data = Bytes(side_.data() + side_used_, datagram.size());
    side_used_ += datagram.size();
  }
  sends_->add(to, data);
}

void Interface::flush_sends() {
  if (sends_ && sends_->size() != 0) udp_.send(*sends_);
  side_used_ = 0;
}

void Interface::on_udp_readable() {
  for (std::size_t round = 0; round < kMaxReceiveRounds; ++round) {
    std::size_t n = 0;
    try {
      n = udp_.receive(*receives_);
    } catch (const std::exception& e) {
      log_.error(std::string("UDP receive: ") + e.what());
      io_.stop();
      return;
    }
    if (n == 0) break;
    now_ = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      const auto& d = (*receives_)[i];
      if (!pool_) {
        engine_->handle_datagram(now_, d.from, d.data);
        continue;
      }
      switch (engine_->prepare_receive(now_, d.from, d.data, open_jobs_[opens_])) {
        case session::Prepared::job:
          if (++opens_ == open_jobs_.size()) finish_opens();
          break;
        case session::Prepared::dropped:
          break;
        case session::Prepared::not_transport:
          // A handshake message in its place: what came before it first.
          finish_opens();
          engine_->handle_datagram(now_, d.from, d.data);
          break;
      }
    }
    finish_opens();
    if (coalescer_) coalescer_->flush(*this);
    flush_sends();
  }
  arm_timer(engine_->next_deadline());
}

void Interface::deliver_packet(PeerId peer, Bytes packet) {
  if (!allowed_.source_allowed(packet, peer)) {
    ++disallowed_source_;
    std::uint64_t held = 0;
    if (log_.enabled(Level::debug) && source_limit_.allow(Clock::now(), held)) {
      log_.debug("dropped a packet from peer " + peer_name(peer) +
                 " whose source is outside its allowed IPs" +
                 (held != 0 ? " (" + std::to_string(held) + " more not logged)" : ""));
    }
    return;
  }
  if (coalescer_) {
    if (!coalescer_->add(packet)) {
      coalescer_->flush(*this);
      coalescer_->add(packet);
    }
    return;
  }
  write(packet);
}

void Interface::write(Bytes frame) {
  if (tun_.write(frame) < 0) ++tun_write_errors_;
}

// --- Events ---

void Interface::on_event(const Event& e) {
  const auto peer_it = peers_.find(e.peer);
  switch (e.kind) {
    case Event::Kind::handshake_complete:
    case Event::Kind::session_confirmed: {
      // An initiator has sent message 3 but knows the responder took it only
      // when its first packet on the new keys arrives (session_confirmed).
      if (e.kind == Event::Kind::handshake_complete && e.we_initiated) {
        log_.debug("handshake finish sent to peer " + peer_name(e.peer) +
                   "; waiting for its confirmation");
        break;
      }
      const auto ep = engine_->endpoint(e.peer);
      const char* suite = session::suite_name(e.suite);
      log_.info("handshake complete with peer " + peer_name(e.peer) + " at " +
                (ep ? ep->to_string() : e.from.to_string()) + " (" +
                (suite != nullptr ? suite : "suite " + std::to_string(e.suite)) + ")");
      if (peer_it != peers_.end()) peer_it->second.attempts = 0;
      break;
    }
    case Event::Kind::handshake_started: {
      const auto ep = engine_->endpoint(e.peer);
      log_.debug("handshake initiation to peer " + peer_name(e.peer) +
                 (ep ? " at " + ep->to_string() : ""));
      if (peer_it != peers_.end() && peer_it->second.host &&
          ++peer_it->second.attempts % kResolveAfterAttempts == 0) {
        resolve_async(e.peer);
      }
      break;
    }
    case Event::Kind::handshake_gave_up:
      ++gave_up_;
      log_.warn("no handshake with peer " + peer_name(e.peer) +
                " for 90 s; giving up until there is traffic for it");
      if (peer_it != peers_.end() && peer_it->second.host) resolve_async(e.peer);
      break;
    case Event::Kind::cookie_sent:
      ++cookies_sent_;
      log_.debug("under load: cookie reply to " + e.from.to_string());
      break;
    case Event::Kind::retry_sent:
      log_.debug("suite retry sent to " + e.from.to_string());
      break;
    case Event::Kind::keys_wiped:
      log_.debug("keys of peer " + peer_name(e.peer) + " wiped");
      break;
    case Event::Kind::admitted:
      // The handshake the authorizer admitted is done: its grant holds now.
      if (candidate_ && e.key && candidate_->first == *e.key) {
        commit_grant(e.peer, std::move(candidate_->second));
      }
      candidate_.reset();
      break;
    case Event::Kind::admission_ended: {
      static constexpr const char* kWhy[] = {"its certificate expired", "idle for 9 minutes",
                                             "its certificate was refused"};
      log_.info("peer " + peer_name(e.peer) + " forgotten: " +
                kWhy[static_cast<std::size_t>(e.ended)] + "; its addresses and routes are gone");
      forget_peer_state(e.peer);
      break;
    }
    case Event::Kind::dropped:
      log_drop(e);
      if (e.drop == Drop::bad_mac1 &&
          e.message == static_cast<std::uint8_t>(wire::MessageType::initiation)) {
        watch_mac1(e.from);
      }
      // Traffic for a peer whose name did not resolve yet: try again.
      if (e.drop == Drop::no_session && peer_it != peers_.end() && peer_it->second.host &&
          !engine_->endpoint(e.peer)) {
        resolve_async(e.peer);
      }
      break;
  }
}

void Interface::watch_mac1(const Endpoint& from) {
  const unsigned n = mac1_watch_.note(Clock::now(), from.source_key());
  if (n == 0) return;
  log_.warn("initiations from " + from.to_string() + " keep failing mac1 (" + std::to_string(n) +
            " within a minute): a peer there most likely has a wrong public key for this "
            "gateway, whose key is " +
            key_text(engine_->public_key()));
}

void Interface::log_drop(const Event& e) {
  const Level level = control::is_handshake_failure(e.drop) ? Level::warn : Level::debug;
  if (!log_.enabled(level)) return;
  std::uint64_t held = 0;
  if (!drop_limits_[static_cast<std::size_t>(e.drop)].allow(Clock::now(), held)) return;
  std::string line =
      control::is_handshake_failure(e.drop) ? "refused handshake from " : "dropped from ";
  line += e.from.to_string();
  line += ": ";
  line += session::to_string(e.drop);
  if (e.peer != session::kNoPeer) line += ", peer " + peer_name(e.peer);
  if (e.key) line += ", key " + key_text(*e.key);
  if (e.drop == Drop::unsupported_version) line += ", version " + std::to_string(e.version);
  if (held != 0) line += " (" + std::to_string(held) + " more not logged)";
  log_.write(level, line);
}

void Interface::log_summary() const {
  for (const auto& [id, info] : peers_) {
    const session::PeerStats* s = engine_ ? engine_->stats(id) : nullptr;
    if (s == nullptr) continue;
    log_.info("peer " + info.name + ": received " + std::to_string(s->rx_bytes) + " bytes in " +
              std::to_string(s->rx_packets) + " packets, sent " + std::to_string(s->tx_bytes) +
              " bytes in " + std::to_string(s->tx_packets) + " packets, " +
              std::to_string(s->handshakes) + " handshakes");
  }
  std::string drops;
  const auto add = [&drops](const std::string& what, std::uint64_t count) {
    if (count != 0) drops += (drops.empty() ? "" : ", ") + what + " " + std::to_string(count);
  };
  for (std::size_t i = 0; i < static_cast<std::size_t>(Drop::count_); ++i) {
    const auto d = static_cast<Drop>(i);
    if (engine_) add(session::to_string(d), engine_->drops(d));
  }
  add("source outside allowed IPs", disallowed_source_);
  add("no peer for destination", no_route_);
  add("bad TUN frames", bad_frames_);
  add("TUN write errors", tun_write_errors_);
  // The socket's own losses: refused sends, full buffers, oversized datagrams.
  add("UDP send errors", udp_.stats().send_errors);
  add("UDP sends dropped (buffer full)", udp_.stats().send_dropped);
  add("UDP datagrams too long", udp_.stats().receive_truncated);
  log_.info("drops: " + (drops.empty() ? std::string("none") : drops));
}

}  // namespace

int run(const Options& options) {
  Log log("gwd", options.level);
  // No core dumps and no ptrace by the same user: memory holds keys.
  // (Not under LeakSanitizer, which needs to ptrace the process at exit.)
  // A change of user resets this: drop_privileges sets it again after.
#if !defined(__SANITIZE_ADDRESS__)
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
  Interface iface(options, log);
  if (!iface.start()) return 1;
  iface.run();
  iface.teardown();
  log.info("stopped");
  return 0;
}

}  // namespace gw::daemon
