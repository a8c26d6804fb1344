// SPDX-License-Identifier: MIT
// The gateway: start-up in order, the event loop, signals, the deadline timer
// and teardown in reverse (gateway.hpp).
#include "gateway.hpp"

#include <grp.h>
#include <sys/prctl.h>

#include <stdexcept>

#include "gw/config/key_file.hpp"
#include "gw/control/status.hpp"
#include "gw/crypto/random.hpp"
#include "gw/platform/system.hpp"

namespace gw::daemon {

namespace asio = boost::asio;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string key_text(const crypto::PublicKey& key) {
  return config::to_base64(Bytes(key.data(), key.size()));
}

bool Gateway::load() {
  config::LoadResult r = config::load_config(options_.config_path);
  if (!r) {
    for (const std::string& e : r.errors)
      log_.error(e);
    return false;
  }
  config_ = std::move(*r.config);
  key_ = std::move(r.key);
  keys_.public_key = key_->public_key;
  keys_.certificate = std::move(r.certificate);
  psks_ = std::move(r.psks);
  cas_ = std::move(r.cas);
  revoked_ = std::move(r.revoked);
  network_key_ = std::move(r.network_key);
  started_ = config_;
  started_.peers.clear();
  for (const std::string& removed : store_.remove_stale_temporaries(config_))
    log_.info("removed " + removed + ", left by an interrupted save");
  log_.set_tag(config_.name);
  handlers_.emplace(store_, config_, *this, log_, GW_VERSION);
  return true;
}

// The engine: pure, nothing touched yet.
void Gateway::start_engine() {
  session::EngineConfig ec;
  ec.static_key = key_;
  ec.suites = config_.suites;
  ec.mtu = config_.mtu;
  ec.under_load_threshold = config_.under_load_threshold;
  if (keys_.certificate) ec.certificate = identity::encode(*keys_.certificate);
  if (network_key_) {
    ec.network_key.emplace(network_key_->bytes());
    keys_.network_key = digest(*network_key_);
    network_key_.reset();  // the engine holds its own copy
  }
  engine_ = std::make_unique<session::Engine>(std::move(ec), crypto::system_rng(), *this);
  engine_->set_authorizer(this);
  key_.reset();  // the engine holds the one copy now
  own_table_ = tunnel_table(config_.name);
  if (default_routes(config_.peers).any()) table_ = own_table_;
}

// The UDP socket first (a busy port is the likeliest failure), then the
// control socket, the metrics endpoint and the TUN.
void Gateway::open_sockets() {
  platform::UdpSocket::Options uo;
  uo.port = config_.listen_port;
  uo.gso = options_.offloads;
  uo.gro = options_.offloads;
  if (table_ != 0) uo.fwmark = table_;
  udp_ = platform::UdpSocket::open(uo);

  open_control();
  if (config_.metrics_port != 0) {
    metrics_ = std::make_unique<MetricsServer>(io_, config_.metrics_port,
                                               [this] { return control::to_prometheus(status()); });
    metrics_->start();
    log_.info("metrics on http://127.0.0.1:" + std::to_string(metrics_->port()) + "/metrics");
  }
  tun_ = platform::Tun::open({config_.name, options_.offloads});
  vnet_ = tun_.offloads().vnet_hdr;
}

void Gateway::open_control() {
  ControlServer::Options o;
  o.path = options_.run_dir + "/" + config_.name + ".sock";
  if (config_.control_group) {
    const group* g = ::getgrnam(config_.control_group->c_str());
    if (g == nullptr) {
      throw std::runtime_error("control_group: no group named " + *config_.control_group);
    }
    o.group = g->gr_gid;
    o.group_name = *config_.control_group;
  }
  control_ = std::make_unique<ControlServer>(
      io_, log_, [this](std::string_view line) { return handlers_->handle(line); });
  control_->open(o);
  log_.debug("control socket " + o.path);
}

// The link, then the configured peers (reconcile from none: their routes),
// then a full tunnel's rules.
void Gateway::setup_network() {
  const DefaultRoutes defaults = default_routes(config_.peers);
  network_.emplace(*netlink_, log_, config_.name, tun_.ifindex(), table_, own_table_);
  network_->setup_link(config_, defaults);
  std::vector<std::optional<crypto::LockedKey>> psks;
  for (crypto::LockedKey& k : psks_)
    psks.emplace_back(std::move(k));
  psks_.clear();
  const std::vector<std::string> failed =
      apply(diff_peers(applied_, config_.peers), config_, std::move(psks));
  if (!failed.empty()) throw std::runtime_error(failed.front());
  network_->add_rules(defaults);
}

bool Gateway::start() {
  if (!load()) return false;
  try {
    start_engine();
    // What the host routes already, before anything is touched.
    netlink_.emplace();
    const std::vector<std::string> refused = route_refusals(config_, options_.config_path + ": ");
    for (const std::string& e : refused)
      log_.error(e);
    if (!refused.empty()) {
      teardown();
      return false;
    }
    open_sockets();
    setup_network();
    underlay_.valid = false;  // read before the interface and its addresses were there
    // Endpoints given by DNS name: resolved now, again when handshakes fail.
    for (auto& [id, info] : peers_) {
      if (info.host) resolve_blocking(id, info);
    }
    // Everything that needs root is done; later route changes need CAP_NET_ADMIN.
    if (config_.user) {
      platform::drop_privileges(*config_.user, config_.group, true);
      log_.info("running as user " + *config_.user + " with " + platform::effective_capabilities());
    }
  } catch (const std::exception& e) {
    log_.error(std::string("setup failed: ") + e.what());
    teardown();
    return false;
  }
  buf_.allocate(config_.mtu, vnet_, udp_.gro());
  tun_io_.assign(tun_.fd());
  udp_io_.assign(udp_.fd());
  return true;
}

void Gateway::teardown() noexcept {
  if (torn_down_) return;
  torn_down_ = true;
  if (tun_io_.is_open()) tun_io_.release();
  if (udp_io_.is_open()) udp_io_.release();
  network_.reset();  // rules, routes, the filter: in reverse
  if (control_) control_->close();
  if (metrics_) metrics_->stop();
  tun_.close();  // the interface, its addresses and remaining routes go with it
  udp_.close();
  engine_.reset();  // wipes every session key
}

void Gateway::run() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log_.info(std::string("stopping on ") + (signo == SIGINT ? "SIGINT" : "SIGTERM"));
    io_.stop();
  });
  std::string addresses;
  for (const std::string& a : started_.addresses)
    addresses += (addresses.empty() ? "" : " ") + a;
  log_.info("up: public key " + key_text(engine_->public_key()) + ", addresses " +
            (addresses.empty() ? "none" : addresses) + ", mtu " + std::to_string(started_.mtu) +
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
  running_ = true;
  // Peers that keep their session alive start it now, as WireGuard's do.
  start_idle_sessions();
  arm_timer(engine_->next_deadline());
  wait_tun();
  wait_udp();
  io_.run();
  pool_.reset();
  platform::notify_systemd("STOPPING=1");
  log_summary();
}

void Gateway::wait_tun() {
  tun_io_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       on_tun_readable();
                       wait_tun();
                     });
}

void Gateway::wait_udp() {
  udp_io_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       on_udp_readable();
                       wait_udp();
                     });
}

void Gateway::arm_timer(Instant deadline) {
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
    after_engine();
  });
}

void Gateway::after_engine() {
  flush_sends();
  arm_timer(engine_->next_deadline());
}

int run(const Options& options) {
  Log log("gwd", options.level);
  // No core dumps and no ptrace by the same user: memory holds keys.
  // (Not under LeakSanitizer, which needs to ptrace the process at exit.)
  // A change of user resets this: drop_privileges sets it again after.
#if !defined(__SANITIZE_ADDRESS__)
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
  Gateway gateway(options, log);
  if (!gateway.start()) return 1;
  gateway.run();
  gateway.teardown();
  log.info("stopped");
  return 0;
}

}  // namespace gw::daemon
