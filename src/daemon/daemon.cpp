// SPDX-License-Identifier: MIT
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp lacks it

#include "daemon.hpp"

#include <netdb.h>
#include <sys/prctl.h>

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
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"
#include "gw/crypto/random.hpp"
#include "gw/offload/offload.hpp"
#include "gw/platform/netlink.hpp"
#include "gw/platform/system.hpp"
#include "gw/platform/tun.hpp"
#include "gw/platform/udp.hpp"
#include "gw/routing/allowed_ips.hpp"
#include "gw/session/engine.hpp"
#include "gw/session/suites.hpp"
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

std::string key_text(const crypto::PublicKey& key) {
  return config::to_base64(Bytes(key.data(), key.size()));
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

bool is_handshake_refusal(Drop d) {
  switch (d) {
    case Drop::unknown_peer:
    case Drop::psk_mismatch:
    case Drop::psk_required:
    case Drop::psk_not_configured:
    case Drop::identity_mismatch:
    case Drop::no_common_suite:
    case Drop::negotiation_failed:
    case Drop::unsupported_version:
    case Drop::critical_extension:
    case Drop::bad_payload:
    case Drop::bad_retry:
      return true;
    default:
      return false;
  }
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
  };
  struct AddedRoute {
    routing::Prefix prefix;
    std::uint32_t table;
  };

  bool load();
  void setup_network();
  void remove_stale_rules();
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
  void log_summary() const;

  std::uint8_t* slot(std::size_t i) noexcept { return slots_.data() + i * slot_stride_; }

  Options options_;
  Log& log_;
  std::optional<config::InterfaceConfig> config_;
  std::optional<crypto::KeyPair> key_;
  std::vector<std::optional<crypto::Secret<config::kKeyLen>>> psks_;

  std::unique_ptr<session::Engine> engine_;
  routing::AllowedIps allowed_;
  std::unordered_map<PeerId, PeerInfo> peers_;

  std::optional<platform::Netlink> netlink_;
  platform::UdpSocket udp_;
  platform::Tun tun_;
  bool vnet_ = false;
  std::uint32_t table_ = 0;  // of a full tunnel; 0: none
  std::vector<AddedRoute> routes_added_;
  std::vector<platform::Rule> rules_added_;

  asio::io_context io_{1};
  asio::posix::stream_descriptor tun_io_{io_};
  asio::posix::stream_descriptor udp_io_{io_};
  asio::steady_timer timer_{io_};
  Instant armed_ = Instant::max();
  asio::signal_set signals_{io_};
  asio::ip::udp::resolver resolver_{io_};

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
  std::array<LogLimiter, static_cast<std::size_t>(Drop::count_)> drop_limits_{};
  LogLimiter source_limit_;
  bool torn_down_ = false;
};

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

bool Interface::start() {
  if (!load()) return false;
  const config::InterfaceConfig& cfg = *config_;
  try {
    // The engine and the routing table: pure, nothing touched yet.
    session::EngineConfig ec;
    ec.static_key = *key_;
    ec.suites = cfg.suites;
    ec.mtu = cfg.mtu;
    engine_ = std::make_unique<session::Engine>(std::move(ec), crypto::system_rng(), *this);
    key_.reset();  // the engine holds its own copy
    bool full_tunnel = false;
    for (std::size_t i = 0; i < cfg.peers.size(); ++i) {
      const config::Peer& p = cfg.peers[i];
      session::PeerConfig pc;
      pc.name = p.name;
      pc.public_key = p.public_key;
      pc.psk = std::move(psks_[i]);
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
        if (prefix.length == 0) full_tunnel = true;
      }
      peers_.emplace(id, std::move(info));
    }
    psks_.clear();
    if (full_tunnel) table_ = tunnel_table(cfg.name);

    // The UDP socket first: a busy port is the likeliest failure.
    platform::UdpSocket::Options uo;
    uo.port = cfg.listen_port;
    uo.gso = options_.offloads;
    uo.gro = options_.offloads;
    if (table_ != 0) uo.fwmark = table_;
    udp_ = platform::UdpSocket::open(uo);

    netlink_.emplace();
    tun_ = platform::Tun::open({cfg.name, options_.offloads});
    vnet_ = tun_.offloads().vnet_hdr;
    setup_network();

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
      const bool ours =
          r.table == table_ || (r.priority == kSuppressRulePriority &&
                                r.suppress_prefixlength == 0 && r.table == platform::kMainTable);
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

void Interface::setup_network() {
  const config::InterfaceConfig& cfg = *config_;
  const unsigned ifindex = tun_.ifindex();
  netlink_->set_mtu(ifindex, cfg.mtu);
  for (const std::string& text : cfg.addresses) {
    netlink_->add_address(ifindex, *routing::Prefix::parse(text));
  }
  netlink_->set_up(ifindex, true);

  if (table_ != 0) remove_stale_rules();
  bool default_v4 = false, default_v6 = false;
  for (const auto& [id, info] : peers_) {
    for (const routing::Prefix& prefix : info.allowed_ips) {
      const bool is_default = prefix.length == 0;
      if (is_default) (prefix.family == routing::Family::v4 ? default_v4 : default_v6) = true;
      const std::uint32_t table = is_default ? table_ : platform::kMainTable;
      try {
        netlink_->add_route(ifindex, prefix, table);
        routes_added_.push_back({prefix, table});
      } catch (const platform::NetlinkError& e) {
        if (e.error() != EEXIST) throw;
        // The kernel's own route for an interface address, or one an operator made.
        log_.debug("route " + prefix.to_string() + " exists already; left as it is");
      }
    }
  }
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
    platform::Rule tunnel;
    tunnel.family = family;
    tunnel.priority = kTunnelRulePriority;
    tunnel.table = table_;
    tunnel.fwmark = table_;
    tunnel.invert = true;
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
          netlink_->remove_route(tun_.ifindex(), it->prefix, it->table);
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
  rules_added_.clear();
  routes_added_.clear();
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

  const config::InterfaceConfig& cfg = *config_;
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
  now_ = Clock::now();
  for (const auto& p : cfg.peers) {
    const auto id = engine_->find_peer(p.public_key);
    if (id && p.persistent_keepalive != 0 && engine_->endpoint(*id)) engine_->initiate(now_, *id);
  }
  flush_sends();
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
      log_.warn("no handshake with peer " + peer_name(e.peer) +
                " for 90 s; giving up until there is traffic for it");
      if (peer_it != peers_.end() && peer_it->second.host) resolve_async(e.peer);
      break;
    case Event::Kind::cookie_sent:
      log_.debug("under load: cookie reply to " + e.from.to_string());
      break;
    case Event::Kind::retry_sent:
      log_.debug("suite retry sent to " + e.from.to_string());
      break;
    case Event::Kind::keys_wiped:
      log_.debug("keys of peer " + peer_name(e.peer) + " wiped after 9 minutes without a session");
      break;
    case Event::Kind::dropped:
      log_drop(e);
      // Traffic for a peer whose name did not resolve yet: try again.
      if (e.drop == Drop::no_session && peer_it != peers_.end() && peer_it->second.host &&
          !engine_->endpoint(e.peer)) {
        resolve_async(e.peer);
      }
      break;
  }
}

void Interface::log_drop(const Event& e) {
  const Level level = is_handshake_refusal(e.drop) ? Level::warn : Level::debug;
  if (!log_.enabled(level)) return;
  std::uint64_t held = 0;
  if (!drop_limits_[static_cast<std::size_t>(e.drop)].allow(Clock::now(), held)) return;
  std::string line = is_handshake_refusal(e.drop) ? "refused handshake from " : "dropped from ";
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
