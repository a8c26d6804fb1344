// SPDX-License-Identifier: MIT
// Event log and counters: what the engine reports (handshakes, drops,
// admissions), logged with rate limits and counted; the summary at exit.
#include "gateway.hpp"
#include "gw/control/reasons.hpp"
#include "gw/session/suites.hpp"

namespace gw::daemon {
namespace {

// Handshake attempts without success before a DNS name is resolved again.
constexpr unsigned kResolveAfterAttempts = 3;

}  // namespace

void Gateway::on_handshake_done(const Event& e, PeerInfo* info) {
  // An initiator has sent message 3 but knows the responder took it only
  // when its first packet on the new keys arrives (session_confirmed).
  if (e.kind == Event::Kind::handshake_complete && e.we_initiated) {
    log_.debug("handshake finish sent to peer " + peer_name(e.peer) +
               "; waiting for its confirmation");
    return;
  }
  const auto ep = engine_->endpoint(e.peer);
  const char* suite = session::suite_name(e.suite);
  log_.info("handshake complete with peer " + peer_name(e.peer) + " at " +
            (ep ? ep->to_string() : e.from.to_string()) + " (" +
            (suite != nullptr ? suite : "suite " + std::to_string(e.suite)) + ")");
  if (info != nullptr) info->attempts = 0;
}

void Gateway::on_event(const Event& e) {
  const auto peer_it = peers_.find(e.peer);
  PeerInfo* info = peer_it != peers_.end() ? &peer_it->second : nullptr;
  switch (e.kind) {
    case Event::Kind::handshake_complete:
    case Event::Kind::session_confirmed:
      on_handshake_done(e, info);
      break;
    case Event::Kind::handshake_started: {
      const auto ep = engine_->endpoint(e.peer);
      log_.debug("handshake initiation to peer " + peer_name(e.peer) +
                 (ep ? " at " + ep->to_string() : ""));
      if (info != nullptr && info->host && ++info->attempts % kResolveAfterAttempts == 0) {
        resolve_async(e.peer);
      }
      break;
    }
    case Event::Kind::handshake_gave_up:
      ++counters_.gave_up;
      log_.warn("no handshake with peer " + peer_name(e.peer) +
                " for 90 s; giving up until there is traffic for it");
      if (info != nullptr && info->host) resolve_async(e.peer);
      break;
    case Event::Kind::cookie_sent:
      ++counters_.cookies_sent;
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
      if (e.drop == session::Drop::bad_mac1 &&
          e.message == static_cast<std::uint8_t>(wire::MessageType::initiation)) {
        watch_mac1(e.from);
      }
      // Traffic for a peer whose name did not resolve yet: try again.
      if (e.drop == session::Drop::no_session && info != nullptr && info->host &&
          !engine_->endpoint(e.peer)) {
        resolve_async(e.peer);
      }
      break;
  }
}

void Gateway::watch_mac1(const Endpoint& from) {
  const unsigned n = mac1_watch_.note(Clock::now(), from.source_key());
  if (n == 0) return;
  log_.warn("initiations from " + from.to_string() + " keep failing mac1 (" + std::to_string(n) +
            " within a minute): a peer there most likely has a wrong public key for this "
            "gateway, whose key is " +
            key_text(engine_->public_key()));
}

void Gateway::log_drop(const Event& e) {
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
  if (e.drop == session::Drop::unsupported_version) {
    line += ", version " + std::to_string(e.version);
  }
  if (held != 0) line += " (" + std::to_string(held) + " more not logged)";
  log_.write(level, line);
}

void Gateway::log_summary() const {
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
  for (std::size_t i = 0; i < static_cast<std::size_t>(session::Drop::count_); ++i) {
    const auto d = static_cast<session::Drop>(i);
    if (engine_) add(session::to_string(d), engine_->drops(d));
  }
  add("source outside allowed IPs", counters_.disallowed_source);
  add("no peer for destination", counters_.no_route);
  add("bad TUN frames", counters_.bad_frames);
  add("TUN write errors", counters_.tun_write_errors);
  // The socket's own losses: refused sends, full buffers, oversized datagrams.
  add("UDP send errors", udp_.stats().send_errors);
  add("UDP sends dropped (buffer full)", udp_.stats().send_dropped);
  add("UDP datagrams too long", udp_.stats().receive_truncated);
  log_.info("drops: " + (drops.empty() ? std::string("none") : drops));
}

}  // namespace gw::daemon
