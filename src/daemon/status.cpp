// SPDX-License-Identifier: MIT
// Status: the interface, its peers and counters as control::Status (show,
// metrics) and the list of peers admitted by certificate.
#include <algorithm>

#include "gateway.hpp"
#include "gw/control/reasons.hpp"
#include "gw/session/suites.hpp"

namespace gw::daemon {
namespace {

std::string suite_text(std::uint8_t id) {
  const char* n = session::suite_name(id);
  return n != nullptr ? n : std::to_string(id);
}

const char* trouble_text(const session::PeerStats& st) {
  switch (st.trouble) {
    case session::Trouble::none:
      return nullptr;
    case session::Trouble::no_response:
      return "no_response";
    case session::Trouble::not_confirmed:
      return "not_confirmed";
    case session::Trouble::refused:
      return nullptr;  // the refusal's reason instead
  }
  return nullptr;
}

}  // namespace

void Gateway::add_live_state(control::Status& s, control::PeerStatus& ps, PeerId id,
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
  if (st.trouble == session::Trouble::refused) {
    ps.handshake_trouble = control::drop_reason(st.refusal);
  } else if (const char* t = trouble_text(st)) {
    ps.handshake_trouble = t;
  }
  ps.rx_bytes = st.rx_bytes;
  ps.tx_bytes = st.tx_bytes;
  ps.rx_packets = st.rx_packets;
  ps.tx_packets = st.tx_packets;
  ps.handshakes = st.handshakes;
  if (ps.session) {
    ps.suite = suite_text(st.suite);
    ++s.counters.sessions_active;
  }
  s.peers.push_back(std::move(ps));
}

void Gateway::add_counters(control::Status& s) const {
  for (const auto& [why, n] : counters_.cert_refusals)
    s.counters.handshakes_failed["certificate_" + why.substr(0, why.find(' '))] += n;
  for (std::size_t i = 0; i < static_cast<std::size_t>(session::Drop::count_); ++i) {
    const auto d = static_cast<session::Drop>(i);
    (control::is_handshake_failure(d) ? s.counters.handshakes_failed
                                      : s.counters.dropped)[control::drop_reason(d)] =
        engine_->drops(d);
  }
  s.counters.handshakes_failed["timeout"] = counters_.gave_up;
  // Pending handshakes that lost their place to newer ones (PROTOCOL.md 7.5):
  // a climbing count is a flood of initiations that are never finished.
  s.counters.handshakes_failed["evicted"] = engine_ ? engine_->pending_evictions() : 0;
  s.counters.dropped["disallowed_source"] = counters_.disallowed_source;
  s.counters.dropped["no_route"] = counters_.no_route;
  s.counters.dropped["bad_tun_frame"] = counters_.bad_frames;
  s.counters.dropped["tun_write_error"] = counters_.tun_write_errors;
  s.counters.cookie_replies_sent = counters_.cookies_sent;
}

control::Status Gateway::status() const {
  control::Status s;
  s.name = started_.name;
  s.public_key = key_text(engine_->public_key());
  s.listen_port = udp_.port();
  s.mtu = started_.mtu;
  s.addresses = started_.addresses;
  for (const std::uint8_t id : started_.suites)
    s.suites.push_back(suite_text(id));
  s.full_tunnel = table_ != 0;
  const auto wall = std::chrono::system_clock::now();
  const auto steady = Clock::now();
  s.time = std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
  for (const config::Peer& p : config_.peers) {
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
  add_counters(s);
  return s;
}

nlohmann::json Gateway::certified_list() const {
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

}  // namespace gw::daemon
