// SPDX-License-Identifier: MIT
// Engine: construction, peers, the dispatch of incoming datagrams, reporting,
// and poll(). The protocol steps live in initiator.cpp, responder.cpp,
// transport.cpp; the timer rules in timers.cpp.
#include <algorithm>
#include <stdexcept>

#include "engine_internal.hpp"
#include "gw/session/suites.hpp"

namespace gw::session {

const char* to_string(Drop d) noexcept {
  switch (d) {
    case Drop::malformed:
      return "malformed message";
    case Drop::bad_mac1:
      return "bad mac1";
    case Drop::under_load:
      return "under load without a valid cookie";
    case Drop::rate_limited:
      return "handshake rate limit";
    case Drop::replayed_initiation:
      return "replayed initiation";
    case Drop::unknown_index:
      return "unknown receiver index";
    case Drop::decrypt_failed:
      return "authentication failed";
    case Drop::replay:
      return "replayed counter";
    case Drop::outside_window:
      return "counter older than the replay window";
    case Drop::expired_keypair:
      return "session expired";
    case Drop::bad_inner_packet:
      return "not an IP packet";
    case Drop::unsupported_version:
      return "unsupported protocol version";
    case Drop::no_common_suite:
      return "no common cipher suite";
    case Drop::negotiation_failed:
      return "suite negotiation failed";
    case Drop::bad_retry:
      return "invalid retry";
    case Drop::identity_mismatch:
      return "responder identity mismatch";
    case Drop::unknown_peer:
      return "unknown peer";
    case Drop::psk_mismatch:
      return "pre-shared key mismatch (or a static key the sender does not hold)";
    case Drop::psk_required:
      return "peer must use its pre-shared key";
    case Drop::psk_not_configured:
      return "no pre-shared key configured for peer";
    case Drop::bad_payload:
      return "malformed handshake payload";
    case Drop::critical_extension:
      return "unknown critical extension";
    case Drop::too_many_handshakes:
      return "too many pending handshakes";
    case Drop::no_session:
      return "no session and no endpoint";
    case Drop::not_admitted:
      return "admission refused (its certificate is missing, invalid or expired)";
    case Drop::unproven_source:
      return "response over 3x the initiation to an unproven source (a cookie reply instead)";
    case Drop::count_:
      break;
  }
  return "?";
}

namespace {

const crypto::PublicKey& checked_public_key(const EngineConfig& config) {
  if (!config.static_key) throw std::invalid_argument("engine: no static key");
  return config.static_key->public_key;
}

}  // namespace

Engine::Engine(EngineConfig config, crypto::Rng& rng, Sink& sink)
    : config_(std::move(config)),
      rng_(rng),
      sink_(sink),
      mac1_key_(session::mac1_key(checked_public_key(config_), network())),
      cookies_(config_.static_key->public_key, network()) {
  if (config_.suites.empty()) config_.suites = default_suites();
  std::erase_if(config_.suites,
                [this](std::uint8_t id) { return protocol_of(id, false) == nullptr; });
  // Each id once, at its first place: an offer lists no id twice (PROTOCOL.md 4.1).
  for (auto it = config_.suites.begin(); it != config_.suites.end(); ++it) {
    config_.suites.erase(std::remove(it + 1, config_.suites.end(), *it), config_.suites.end());
  }
  if (config_.suites.size() > wire_spec::kMaxOfferedSuites) {
    config_.suites.resize(wire_spec::kMaxOfferedSuites);
  }
  cookies_.set_under_load_threshold(config_.under_load_threshold);
  cookies_.set_always_under_load(config_.always_under_load);
}

Engine::~Engine() {
  for (auto& [id, p] : peers_)
    wipe_peer_keys(*p);
}

// --- Peers ---

PeerId Engine::add_peer(PeerConfig config) {
  if (peers_by_key_.contains(config.public_key)) return kNoPeer;
  auto p = std::make_unique<Peer>();
  p->id = next_peer_id_++;
  p->mac1_key = session::mac1_key(config.public_key, network());
  p->cookie_key = session::cookie_key(config.public_key, network());
  const std::optional<Endpoint> configured = config.endpoint;
  p->config = std::move(config);
  move_endpoint(*p, configured);
  peers_by_key_[p->config.public_key] = p->id;
  index_endpoint(*p, configured);
  const PeerId id = p->id;
  peers_[id] = std::move(p);
  return id;
}

// The configured endpoint (where the peer is expected to be, whatever it
// roamed to) in the index restart_hint() reads.
void Engine::index_endpoint(Peer& p, const std::optional<Endpoint>& configured) {
  if (p.config.endpoint) {
    const auto it = by_endpoint_.find(*p.config.endpoint);
    if (it != by_endpoint_.end() && it->second == p.id) by_endpoint_.erase(it);
  }
  p.config.endpoint = configured;
  if (configured) by_endpoint_.emplace(*configured, p.id);
}

void Engine::move_endpoint(Peer& p, const std::optional<Endpoint>& to) {
  if (p.endpoint == to) return;
  if (p.endpoint) {
    const auto it = live_endpoints_.find(*p.endpoint);
    if (it != live_endpoints_.end() && it->second == p.id) live_endpoints_.erase(it);
  }
  p.endpoint = to;
  if (to) live_endpoints_[*to] = p.id;
}

PeerId Engine::rekeying_peer(const Endpoint& from) const {
  const auto it = live_endpoints_.find(from);
  if (it == live_endpoints_.end()) return kNoPeer;
  const Peer* p = peer_of(it->second);
  return p != nullptr && p->current && p->endpoint == from ? p->id : kNoPeer;
}

void Engine::end_pending(PendingMap::iterator it, bool free_index) {
  if (free_index) indices_.erase(it->first);
  pending_book_.remove(it->first);
  pending_.erase(it);
}

bool Engine::remove_peer(PeerId id) {
  Peer* p = peer_of(id);
  if (p == nullptr) return false;
  wipe_peer_keys(*p);
  peers_by_key_.erase(p->config.public_key);
  index_endpoint(*p, std::nullopt);
  move_endpoint(*p, std::nullopt);
  peers_.erase(id);
  return true;
}

bool Engine::set_endpoint(PeerId id, const Endpoint& endpoint) {
  Peer* p = peer_of(id);
  if (p == nullptr || !endpoint.valid()) return false;
  move_endpoint(*p, endpoint);
  index_endpoint(*p, endpoint);
  return true;
}

bool Engine::clear_endpoint(PeerId id) {
  Peer* p = peer_of(id);
  if (p == nullptr) return false;
  move_endpoint(*p, std::nullopt);
  index_endpoint(*p, std::nullopt);
  return true;
}

bool Engine::set_psk(PeerId id, crypto::LockedKey psk) {
  Peer* p = peer_of(id);
  if (p == nullptr) return false;
  p->config.psk = std::move(psk);
  return true;
}

Instant Engine::set_persistent_keepalive(Instant now, PeerId id, std::uint16_t seconds) {
  Peer* p = peer_of(id);
  if (p == nullptr) return next_deadline_;
  p->config.persistent_keepalive_s = seconds;
  p->timers.persistent_keepalive.reset();
  arm_persistent_keepalive(*p, now);
  return settle(p->timers.next());
}

std::optional<PeerId> Engine::find_peer(const crypto::PublicKey& key) const {
  const auto it = peers_by_key_.find(key);
  if (it == peers_by_key_.end()) return std::nullopt;
  return it->second;
}

const PeerStats* Engine::stats(PeerId id) const {
  const Peer* p = peer_of(id);
  return p != nullptr ? &p->stats : nullptr;
}

std::optional<Endpoint> Engine::endpoint(PeerId id) const {
  const Peer* p = peer_of(id);
  return p != nullptr ? p->endpoint : std::nullopt;
}

bool Engine::has_session(PeerId id) const {
  const Peer* p = peer_of(id);
  return p != nullptr && p->current != nullptr;
}

bool Engine::has_keys(PeerId id) const {
  const Peer* p = peer_of(id);
  return p != nullptr && (p->current != nullptr || p->next != nullptr);
}

std::optional<Instant> Engine::valid_until(PeerId id) const {
  const Peer* p = peer_of(id);
  return p != nullptr ? p->timers.admission_ends : std::nullopt;
}

std::optional<PeerId> Engine::admit(Instant now, Role role, const crypto::PublicKey& key,
                                    const wire::ExtensionList& extensions) {
  const auto known = find_peer(key);
  Admission a = authorizer_ != nullptr
                    ? authorizer_->authorize(now, role, key, known, extensions)
                    : (known ? Admission::existing(*known) : Admission::refuse());
  if (!a.admit) return std::nullopt;
  PeerId id = a.peer;
  if (a.newcomer) {
    if (known) return std::nullopt;  // a newcomer with a key we know: a confused answer
    a.newcomer->public_key = key;
    a.newcomer->admitted = true;
    id = add_peer(std::move(*a.newcomer));
  }
  Peer* p = peer_of(id);
  if (p == nullptr || p->config.public_key != key) return std::nullopt;
  set_valid_until(*p, a.valid_until);
  return id;
}

void Engine::forget(PeerId id, Event::Ended why) {
  const Peer* p = peer_of(id);
  if (p == nullptr || !p->config.admitted) return;
  Event e;
  e.kind = Event::Kind::admission_ended;
  e.peer = id;
  e.key = p->config.public_key;
  e.ended = why;
  remove_peer(id);
  report(e);
}

void Engine::report_admitted(const Peer& p) {
  if (authorizer_ == nullptr) return;
  Event e;
  e.kind = Event::Kind::admitted;
  e.peer = p.id;
  e.key = p.config.public_key;
  report(e);
}

Engine::Peer* Engine::peer_of(PeerId id) const {
  const auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

// Frees the peer's indices and destroys (and so wipes) its keys.
void Engine::wipe_peer_keys(Peer& p) {
  for (auto* kp : {&p.current, &p.previous, &p.next}) {
    if (*kp) indices_.erase((*kp)->local_index);
    kp->reset();
  }
  end_attempts(p);
  p.staged.clear();
}

// --- Reporting ---

void Engine::report(const Event& e) {
  sink_.on_event(e);
}

void Engine::drop(Drop d, const Endpoint& from, PeerId peer) {
  ++drops_[static_cast<std::size_t>(d)];
  Event e;
  e.kind = Event::Kind::dropped;
  e.drop = d;
  e.peer = peer;
  e.from = from;
  e.message = message_;
  report(e);
}

// --- Dispatch ---

Instant Engine::handle_datagram(Instant now, const Endpoint& from, MutBytes datagram) {
  const auto type = wire::peek_type(datagram);
  if (!type) {
    drop(Drop::malformed, from);
    return next_deadline_;
  }
  message_ = static_cast<std::uint8_t>(*type);
  struct Clear {
    std::uint8_t& m;
    ~Clear() { m = 0; }
  } clear{message_};
  switch (*type) {
    case wire::MessageType::initiation:
      on_initiation(now, from, datagram);
      break;
    case wire::MessageType::response:
      on_response(now, from, datagram);
      break;
    case wire::MessageType::finish:
      on_finish(now, from, datagram);
      break;
    case wire::MessageType::retry:
      on_retry(now, from, datagram);
      break;
    case wire::MessageType::cookie_reply:
      on_cookie_reply(now, from, datagram);
      break;
    case wire::MessageType::transport:
      on_transport(now, from, datagram);
      break;
  }
  return next_deadline_;
}

Instant Engine::initiate(Instant now, PeerId id) {
  if (Peer* p = peer_of(id)) {
    start_handshake(*p, now, false);
  }
  return next_deadline_;
}

// --- Timers and expiry ---

// A deadline only ever moves earlier here; poll() recomputes it exactly.
Instant Engine::settle(Instant deadline) {
  next_deadline_ = std::min(next_deadline_, deadline);
  return next_deadline_;
}

void Engine::expire_pending(Instant now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    const Instant end = it->second->created + engine_impl::kPendingHandshakeLifetime;
    if (now >= end) {
      const auto gone = it++;
      end_pending(gone, true);
    } else {
      next_deadline_ = std::min(next_deadline_, end);
      ++it;
    }
  }
  while (!answered_order_.empty() &&
         (now - answered_order_.front().first >= engine_impl::kReplayCacheTime ||
          answered_order_.size() > engine_impl::kReplayCacheSize)) {
    answered_.erase(answered_order_.front().second);
    answered_order_.pop_front();
  }
}

Instant Engine::poll(Instant now) {
  next_deadline_ = Instant::max();
  for (auto it = peers_.begin(); it != peers_.end();) {
    Peer& p = *it->second;
    ++it;  // run_timers may forget p
    if (run_timers(p, now)) next_deadline_ = std::min(next_deadline_, p.timers.next());
  }
  expire_pending(now);
  return next_deadline_;
}

// --- Handshake payloads ---

std::size_t Engine::write_extensions(MutBytes out, bool with_certificate) const {
  wire::ExtensionWriter w(out);
  const auto extra = [&](std::uint16_t type) {
    return std::any_of(config_.extra_extensions.begin(), config_.extra_extensions.end(),
                       [&](const EngineConfig::Extension& e) { return e.type == type; });
  };
  const std::array<std::uint8_t, wire_spec::kFeaturesSize> features{};  // none defined yet
  if (!extra(wire_spec::kExtSuites)) w.add(wire_spec::kExtSuites, 0, config_.suites);
  if (!extra(wire_spec::kExtFeatures)) w.add(wire_spec::kExtFeatures, 0, features);
  if (with_certificate && !config_.certificate.empty() && !extra(wire_spec::kExtCertificate)) {
    w.add(wire_spec::kExtCertificate, 0, config_.certificate);
  }
  for (const EngineConfig::Extension& e : config_.extra_extensions) {
    w.add(e.type, e.critical ? wire_spec::kExtensionCritical : std::uint8_t{0}, e.value);
  }
  // Padding last: the list grows to the first fixed size that holds it and
  // a padding entry, so that its size tells an observer which of a few
  // sizes it is, not whose certificate it carries.
  for (const std::size_t size : wire_spec::kExtensionListSizes) {
    if (w.size() == size) break;
    if (w.size() + wire_spec::kExtensionHeaderSize > size) continue;
    static constexpr std::array<std::uint8_t, 1024> kZeros{};
    w.add(wire_spec::kExtPadding, 0,
          Bytes(kZeros.data(), size - w.size() - wire_spec::kExtensionHeaderSize));
    break;
  }
  return w.size();
}

const noise::Protocol* Engine::protocol_of(std::uint8_t suite, bool psk) const noexcept {
  if (suite == static_cast<std::uint8_t>(Suite::aesgcm_sha256) && config_.aes_hardware == false) {
    return nullptr;
  }
  return suite_protocol(suite, psk);
}

// The list's shape, then every entry against the table of defined types
// (docs/PROTOCOL.md, section 6).
std::optional<Drop> Engine::check_extensions(Bytes payload, wire::ExtensionList& list) const {
  const wire::ExtensionCheck c = wire::read_extensions(payload, list);
  if (c.fault == wire::ExtensionFault::unknown_critical) return Drop::critical_extension;
  if (!c) return Drop::bad_payload;
  return std::nullopt;
}

}  // namespace gw::session
