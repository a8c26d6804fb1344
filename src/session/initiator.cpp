// SPDX-License-Identifier: MIT
// The initiator's side of the handshake (docs/PROTOCOL.md, sections 5.2-5.4):
// initiation, retry, response (with the responder's identity checked before
// anything more is sent), finish, and cookie replies.
#include <algorithm>
#include <cstring>

#include "engine_internal.hpp"
#include "gw/session/suites.hpp"

namespace gw::session {

namespace {

constexpr char kPrologueLabel[] = "gw v1 initiation";  // 16 bytes, no terminator used
constexpr std::size_t kPrologueLabelSize = sizeof kPrologueLabel - 1;
static_assert(kPrologueLabelSize == 16);

}  // namespace

// The prologue of section 5.1: the label, then the initiation's header.
std::size_t initiation_prologue(Bytes header, std::array<std::uint8_t, 80>& out) {
  std::memcpy(out.data(), kPrologueLabel, kPrologueLabelSize);
  std::copy(header.begin(), header.end(), out.begin() + kPrologueLabelSize);
  return kPrologueLabelSize + header.size();
}

void Engine::start_handshake(Peer& p, Instant now, bool retransmit) {
  if (!p.endpoint) {
    drop(Drop::no_session, {}, p.id);
    return;
  }
  if (!retransmit && p.timers.last_initiation &&
      now - *p.timers.last_initiation < timer_spec::kRekeyTimeout) {
    return;  // at most one initiation per REKEY_TIMEOUT
  }
  if (config_.suites.empty()) {
    // Our policy names no suite this machine runs: there is nothing to offer.
    drop(Drop::no_common_suite, {}, p.id);
    return;
  }
  if (!p.timers.attempts_began) {
    p.timers.attempts_began = now;
    p.stats.attempt_since = now;
  }
  wire::InitiationFields fields;
  fields.flags = p.config.psk ? wire_spec::kFlagPsk : std::uint8_t{0};
  // A peer admitted by its certificate must show it again, in message 2.
  if (p.config.admitted) fields.flags |= wire_spec::kFlagCertificate;
  fields.suite = config_.suites.front();
  send_initiation(p, now, fields);
}

void Engine::send_initiation(Peer& p, Instant now, wire::InitiationFields fields,
                             bool keep_earlier) {
  if (keep_earlier && p.handshake) {
    p.earlier.push_back(std::move(p.handshake));
  } else {
    end_attempts(p);
  }
  auto h = std::make_unique<InitiatorHandshake>();
  h->local_index = indices_.insert(rng_, {p.id, IndexKind::handshake});
  if (h->local_index == kNoIndex) return drop(Drop::too_many_handshakes, {}, p.id);
  fields.sender_index = h->local_index;
  h->fields = fields;

  const std::size_t size = wire::initiation_size(fields.flags);
  const MutBytes out(scratch_.data(), size);
  const std::size_t header = wire::write_initiation_header(out, fields);
  std::array<std::uint8_t, 80> prologue{};
  const std::size_t prologue_len = initiation_prologue(out.first(header), prologue);

  h->hs.emplace(*protocol_of(fields.suite, p.config.psk.has_value()), noise::Role::initiator, rng_);
  noise::HandshakeState& hs = *h->hs;
  (void)hs.set_prologue({prologue.data(), prologue_len});
  (void)hs.set_local_static(config_.static_key);
  if (p.config.psk) (void)hs.add_psk(p.config.psk->bytes());
  (void)hs.start();

  wire::Offer offer;
  offer.count = static_cast<std::uint8_t>(config_.suites.size());
  std::copy(config_.suites.begin(), config_.suites.end(), offer.suites.begin());
  const std::size_t offer_len = wire::write_offer(payload_, offer);
  std::size_t written = 0;
  if (hs.write_message({payload_.data(), offer_len},
                       out.subspan(header, size - header - wire_spec::kMacsSize),
                       written) != noise::Error::ok) {
    indices_.erase(h->local_index);
    return;
  }
  stamp_mac1(out, p.mac1_key, true);
  stamp_mac2(out, p.cookies.cookie(now));
  h->first_hash = first_hash(out);
  std::copy_n(out.end() - wire_spec::kMacsSize, wire_spec::kMacLen, h->last_mac1.begin());
  p.handshake = std::move(h);

  sink_.send_datagram(*p.endpoint, out);
  ++p.stats.attempts;
  on_handshake_initiated(p, now);
  Event e;
  e.kind = Event::Kind::handshake_started;
  e.peer = p.id;
  e.suite = fields.suite;
  report(e);
}

void Engine::end_attempts(Peer& p, std::uint32_t keep) {
  if (p.handshake && p.handshake->local_index != keep) indices_.erase(p.handshake->local_index);
  for (const auto& h : p.earlier) {
    if (h->local_index != keep) indices_.erase(h->local_index);
  }
  p.handshake.reset();
  p.earlier.clear();
}

// Finds the attempt of ours under `index`: the latest of its peer's round or
// an earlier one still answerable.
Engine::Attempt Engine::initiator_of(std::uint32_t index) const {
  const auto entry = indices_.find(index);
  if (!entry || entry->kind != IndexKind::handshake || entry->peer == kNoPeer) return {};
  Peer* p = peer_of(entry->peer);
  if (p == nullptr) return {};
  if (p->handshake && p->handshake->local_index == index) return {p, p->handshake.get()};
  for (const auto& h : p->earlier) {
    if (h->local_index == index) return {p, h.get()};
  }
  return {};
}

// A retry is authenticated only by a mac1 keyed with our ephemeral key,
// which is public: anyone who saw the initiation can forge one. So a retry
// starts a second attempt and ends none: the first stays answerable, and a
// forged retry costs one more initiation, never the handshake. Each retry of
// a first attempt that names another suite we offered is followed once (the
// tag is the responder's to check; a responder that cannot read the offer
// sends one per suite of its policy), up to kMaxLiveAttempts in the round.
void Engine::on_retry(Instant now, const Endpoint& from, MutBytes datagram) {
  wire::Retry r;
  if (wire::parse_retry(datagram, r) != wire::ParseStatus::ok) return drop(Drop::malformed, from);
  const Attempt a = initiator_of(r.receiver_index);
  if (a.peer == nullptr) return drop(Drop::unknown_index, from);
  Peer& p = *a.peer;
  const InitiatorHandshake& h = *a.handshake;
  if (!mac1_valid(datagram, mac1_key(*h.hs->local_ephemeral(), network()), false)) {
    return drop(Drop::bad_mac1, from, p.id);
  }
  const bool offered =
      std::find(config_.suites.begin(), config_.suites.end(), r.suite) != config_.suites.end();
  const auto same = [&](const std::unique_ptr<InitiatorHandshake>& x) {
    return x && x->fields.suite == r.suite &&
           std::equal(r.retry_tag.begin(), r.retry_tag.end(), x->fields.retry_tag.begin());
  };
  const bool followed = same(p.handshake) || std::any_of(p.earlier.begin(), p.earlier.end(), same);
  if ((h.fields.flags & wire_spec::kFlagRetried) != 0 || !offered || r.suite == h.fields.suite ||
      followed || p.earlier.size() + 1 >= engine_impl::kMaxLiveAttempts) {
    return drop(Drop::bad_retry, from, p.id);
  }
  wire::InitiationFields next = h.fields;
  next.flags |= wire_spec::kFlagRetried;
  next.suite = r.suite;
  next.first_hash = h.first_hash;
  std::copy(r.retry_tag.begin(), r.retry_tag.end(), next.retry_tag.begin());
  send_initiation(p, now, next, true);
}

void Engine::on_response(Instant now, const Endpoint& from, MutBytes datagram) {
  wire::Response r;
  if (wire::parse_response(datagram, r) != wire::ParseStatus::ok) {
    return drop(Drop::malformed, from);
  }
  const Attempt a = initiator_of(r.receiver_index);
  if (a.peer == nullptr) return drop(Drop::unknown_index, from);
  Peer* p = a.peer;
  InitiatorHandshake& h = *a.handshake;
  noise::HandshakeState& hs = *h.hs;
  if (!mac1_valid(datagram, mac1_key(*hs.local_ephemeral(), network()), false)) {
    return drop(Drop::bad_mac1, from, p->id);
  }
  std::size_t n = 0;
  if (hs.read_message(r.noise, payload_, n) != noise::Error::ok) {
    return drop(Drop::decrypt_failed, from, p->id);  // the handshake is unchanged
  }
  // The responder must be the peer we meant, and still admitted (its
  // certificate valid now, say), before we say who we are.
  std::optional<Drop> refusal;
  if (*hs.remote_static() != p->config.public_key) refusal = Drop::identity_mismatch;
  wire::ExtensionList extensions;
  if (!refusal) refusal = check_extensions({payload_.data(), n}, extensions);
  if (!refusal && admit(now, Role::initiator, p->config.public_key, extensions) != p->id) {
    refusal = Drop::not_admitted;
  }
  if (refusal) {
    end_attempts(*p);
    p->stats.trouble = Trouble::refused;
    p->stats.refusal = *refusal;
    const PeerId id = p->id;
    drop(*refusal, from, id);
    if (*refusal == Drop::not_admitted) forget(id, Event::Ended::refused);
    return;
  }
  send_finish(*p, h, now, from, r.sender_index);
}

// Writes message 3, derives the session (held as `next` until confirmed) and
// sends what was waiting for it.
void Engine::send_finish(Peer& p, InitiatorHandshake& h, Instant now, const Endpoint& to,
                         std::uint32_t remote_index) {
  const std::size_t header = wire::write_finish_header(scratch_, remote_index);
  const std::size_t ext = write_extensions(payload_, true);
  std::size_t written = 0;
  const MutBytes room(scratch_.data() + header, scratch_.size() - header - wire_spec::kMacLen);
  if (h.hs->write_message({payload_.data(), ext}, room, written) != noise::Error::ok) {
    end_attempts(p);
    return;
  }
  const MutBytes out(scratch_.data(), header + written + wire_spec::kMacLen);
  stamp_mac1(out, p.mac1_key, false);

  noise::TransportState t;
  (void)h.hs->split(t);
  auto kp = make_keypair(t, now, true, h.local_index, remote_index, h.fields.suite);
  indices_.replace(h.local_index, {p.id, IndexKind::keypair});
  end_attempts(p, h.local_index);  // the round is over: h is gone with the rest
  if (p.next) indices_.erase(p.next->local_index);
  p.next = std::move(kp);
  move_endpoint(p, to);

  sink_.send_datagram(to, out);
  report_admitted(p);
  session_derived(p, now, false);
  flush_staged(p, now);
}

void Engine::on_cookie_reply(Instant now, const Endpoint& from, MutBytes datagram) {
  wire::CookieReply c;
  if (wire::parse_cookie_reply(datagram, c) != wire::ParseStatus::ok) {
    return drop(Drop::malformed, from);
  }
  const Attempt a = initiator_of(c.receiver_index);
  if (a.peer == nullptr) return drop(Drop::unknown_index, from);
  Peer& p = *a.peer;
  InitiatorHandshake& h = *a.handshake;
  if (!p.cookies.consume_reply(c, p.cookie_key, h.last_mac1, now)) {
    return drop(Drop::decrypt_failed, from, p.id);
  }
  // The responder wants our address proven before it answers: resend at
  // once with mac2 (a fresh ephemeral key and index), once per attempt; a
  // further cookie reply waits for the retransmit timer, as under load. The
  // attempt answered stays answerable, like one a retry answered.
  if (h.resent_for_cookie || p.earlier.size() + 1 >= engine_impl::kMaxLiveAttempts) return;
  h.resent_for_cookie = true;
  const wire::InitiationFields fields = h.fields;
  send_initiation(p, now, fields, true);
  if (p.handshake) p.handshake->resent_for_cookie = true;
}

}  // namespace gw::session
