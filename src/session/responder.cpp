// SPDX-License-Identifier: MIT
// The responder's side of the handshake (docs/PROTOCOL.md, sections 5.2-5.4
// and 7): the checks that cost no Diffie-Hellman (mac1, load and cookie, rate,
// replay), negotiation and retry, response, and the finish that reveals and
// admits the initiator.
#include <algorithm>

#include "engine_internal.hpp"
#include "gw/session/suites.hpp"

namespace gw::session {

std::size_t initiation_prologue(Bytes header, std::array<std::uint8_t, 80>& out);

// The PSK of the peer whose static key message 3 has just revealed; it also
// records what it saw, so a failure can be reported precisely.
bool Engine::PskLookup::provide_psk(const std::optional<crypto::PublicKey>& remote_static,
                                    crypto::Secret<noise_spec::kPskLen>& psk) {
  asked = remote_static;
  if (!remote_static) return false;
  const auto id = engine.find_peer(*remote_static);
  peer = id.value_or(kNoPeer);
  if (!id) return false;
  const Peer* p = engine.peer_of(*id);
  has_psk = p->config.psk.has_value();
  if (!has_psk) return false;
  psk = *p->config.psk;
  return true;
}

void Engine::send_cookie_reply(Instant now, const Endpoint& from, const wire::Initiation& m) {
  const std::size_t n =
      cookies_.write_cookie_reply(scratch_, m.fields.sender_index, m.mac1, from, now, rng_);
  if (n != 0) sink_.send_datagram(from, {scratch_.data(), n});
  Event e;
  e.kind = Event::Kind::cookie_sent;
  e.from = from;
  report(e);
}

// Under load, an initiation needs a valid mac2; without one it gets a cookie
// reply and costs us no Diffie-Hellman.
bool Engine::admit_under_load(Instant now, const Endpoint& from, Bytes datagram,
                              const wire::Initiation& m) {
  if (!cookies_.under_load(now) || cookies_.mac2_valid(datagram, from, now, rng_)) return true;
  send_cookie_reply(now, from, m);
  drop(Drop::under_load, from);
  return false;
}

// No unauthenticated request draws more than kAmplificationFactor times its
// size before its source has proven its address (a valid mac2, RFC 9000 8.1):
// a response that would (one carrying our certificate, say) is preceded by a
// cookie reply, and the initiator resends with mac2 at once.
bool Engine::amplification_guard(Instant now, const Endpoint& from, Bytes datagram,
                                 const wire::Initiation& m) {
  const std::size_t response = wire_spec::kResponseMinSize - wire_spec::kMinExtensionListSize +
                               write_extensions(payload_, m.certificate_requested());
  if (response <= wire_spec::kAmplificationFactor * datagram.size() ||
      cookies_.mac2_valid(datagram, from, now, rng_)) {
    return true;
  }
  send_cookie_reply(now, from, m);
  drop(Drop::unproven_source, from);
  return false;
}

void Engine::on_initiation(Instant now, const Endpoint& from, MutBytes datagram) {
  wire::Initiation m;
  const wire::ParseStatus parsed = wire::parse_initiation(datagram, m);
  if (parsed != wire::ParseStatus::ok && parsed != wire::ParseStatus::later_version) {
    return drop(Drop::malformed, from);
  }
  if (!cookies_.mac1_valid(datagram, true)) return drop(Drop::bad_mac1, from);
  // A later version's initiation, of whatever size: reported, never answered.
  if (parsed == wire::ParseStatus::later_version) return drop_version(from, m.version);
  if (!admit_under_load(now, from, datagram, m)) return;
  if (!rate_limiter_.allow(from.source_key(), now)) return drop(Drop::rate_limited, from);
  crypto::PublicKey initiator_e{};
  std::copy_n(m.noise.begin(), initiator_e.size(), initiator_e.begin());
  if (answered_.contains(initiator_e)) return drop(Drop::replayed_initiation, from);

  if (m.psk() && !m.retried() && protocol_of(m.fields.suite, true) == nullptr) {
    return send_blind_retries(now, from, datagram, m, initiator_e);
  }

  auto pending = std::make_unique<PendingResponder>();
  wire::Offer offer;
  if (const auto refusal = read_initiation(m, *pending, offer)) return drop(*refusal, from);
  if (offer.version != wire_spec::kProtocolVersion) return drop_version(from, offer.version);
  const std::uint8_t pick = pick_suite(config_.suites, offer);
  if (pick == 0) return drop(Drop::no_common_suite, from);
  if (!offer.contains(m.fields.suite)) return drop(Drop::bad_payload, from);
  if (pick != m.fields.suite) {
    if (m.retried()) return drop(Drop::negotiation_failed, from);
    return send_retry(now, from, datagram, m.fields.sender_index, pick, initiator_e);
  }
  if (m.retried() && !cookies_.retry_tag_valid(m.fields.first_hash, m.fields.suite,
                                               m.fields.retry_tag, now, rng_)) {
    return drop(Drop::bad_retry, from);
  }
  if (!amplification_guard(now, from, datagram, m)) return;
  send_response(now, from, m, std::move(pending), initiator_e);
}

// Runs Noise message 1 under the attempt's suite and reads the offer. A suite
// we cannot run still has a readable offer without a PSK (it is not
// encrypted), so the initiator can be told which suite to use.
std::optional<Drop> Engine::read_initiation(const wire::Initiation& m, PendingResponder& pending,
                                            wire::Offer& offer) {
  pending.suite = m.fields.suite;
  pending.psk = m.psk();
  const noise::Protocol* proto = protocol_of(m.fields.suite, m.psk());
  if (proto == nullptr) {
    if (m.psk()) return Drop::no_common_suite;
    const Bytes plain = m.noise.last(wire_spec::kOfferSize);
    return wire::parse_offer(plain, offer) == wire::ParseStatus::ok
               ? std::nullopt
               : std::optional(Drop::bad_payload);
  }
  std::array<std::uint8_t, 80> prologue{};
  const std::size_t prologue_len = initiation_prologue(m.header, prologue);
  pending.hs.emplace(*proto, noise::Role::responder, rng_);
  noise::HandshakeState& hs = *pending.hs;
  (void)hs.set_prologue({prologue.data(), prologue_len});
  (void)hs.set_local_static(config_.static_key);
  if (m.psk()) (void)hs.set_psk_provider(&psk_lookup_);
  (void)hs.start();
  std::size_t n = 0;
  if (hs.read_message(m.noise, payload_, n) != noise::Error::ok) return Drop::decrypt_failed;
  if (wire::parse_offer({payload_.data(), n}, offer) != wire::ParseStatus::ok) {
    return Drop::bad_payload;
  }
  return std::nullopt;
}

void Engine::send_retry(Instant now, const Endpoint& from, Bytes datagram, std::uint32_t receiver,
                        std::uint8_t suite, const crypto::PublicKey& initiator_e) {
  const Mac tag = cookies_.retry_tag(first_hash(datagram), suite, now, rng_);
  const MutBytes out(scratch_.data(), wire_spec::kRetrySize);
  if (wire::write_retry(out, suite, receiver, tag) == 0) return;
  stamp_mac1(out, mac1_key(initiator_e, network()), false);
  sink_.send_datagram(from, out);
  Event e;
  e.kind = Event::Kind::retry_sent;
  e.from = from;
  e.suite = suite;
  report(e);
}

// With the PSK flag the offer is encrypted under the attempt's suite, so a
// responder that does not run that suite cannot read it, nor pick. It sends
// a retry for each suite of its policy, most preferred first: the initiator
// follows each one it offered (PROTOCOL.md 5.2), every second attempt is
// readable, and the one on our pick from its offer is answered, the others
// refused as negotiation_failed, exactly as after a single retry.
void Engine::send_blind_retries(Instant now, const Endpoint& from, Bytes datagram,
                                const wire::Initiation& m, const crypto::PublicKey& initiator_e) {
  for (const std::uint8_t suite : config_.suites) {
    if (suite != m.fields.suite) {
      send_retry(now, from, datagram, m.fields.sender_index, suite, initiator_e);
    }
  }
}

void Engine::send_response(Instant now, const Endpoint& from, const wire::Initiation& m,
                           std::unique_ptr<PendingResponder> pending,
                           const crypto::PublicKey& initiator_e) {
  const std::uint32_t index = indices_.insert(rng_, {kNoPeer, IndexKind::handshake});
  if (index == kNoIndex) return drop(Drop::too_many_handshakes, from);
  const std::size_t header = wire::write_response_header(scratch_, index, m.fields.sender_index);
  const std::size_t ext = write_extensions(payload_, m.certificate_requested());
  std::size_t written = 0;
  const MutBytes room(scratch_.data() + header, scratch_.size() - header - wire_spec::kMacLen);
  if (pending->hs->write_message({payload_.data(), ext}, room, written) != noise::Error::ok) {
    indices_.erase(index);
    return;
  }
  const MutBytes out(scratch_.data(), header + written + wire_spec::kMacLen);
  stamp_mac1(out, mac1_key(initiator_e, network()), false);

  answered_.emplace(initiator_e, now);
  answered_order_.emplace_back(now, initiator_e);
  if (answered_order_.size() > engine_impl::kReplayCacheSize) {  // a hard cap, between polls too
    answered_.erase(answered_order_.front().second);
    answered_order_.pop_front();
  }
  pending->created = now;
  pending->remote_index = m.fields.sender_index;
  // Room by the rules of PROTOCOL.md 7.5: a rekey from a session's endpoint
  // in that peer's own places, anyone else in the shared table, where the
  // heaviest source gives up its oldest entry.
  const PeerId owner = rekeying_peer(from);
  if (const auto victim = pending_book_.add(index, from.source_key(), owner)) {
    const auto gone = pending_.find(*victim);
    if (gone != pending_.end()) end_pending(gone, true);
    ++pending_evictions_;
  }
  pending_[index] = std::move(pending);
  sink_.send_datagram(from, out);
  settle(now + engine_impl::kPendingHandshakeLifetime);
}

// Why a finish failed to read: with a PSK, what the lookup saw tells which
// peer and what went wrong; without one, the message did not authenticate.
Drop Engine::finish_failure(const PendingResponder& pending, PeerId& peer,
                            std::optional<crypto::PublicKey>& key) const {
  if (!pending.psk || !psk_lookup_.asked) return Drop::decrypt_failed;
  peer = psk_lookup_.peer;
  key = psk_lookup_.asked;
  if (peer == kNoPeer) return Drop::unknown_peer;
  return psk_lookup_.has_psk ? Drop::psk_mismatch : Drop::psk_not_configured;
}

void Engine::on_finish(Instant now, const Endpoint& from, MutBytes datagram) {
  wire::Finish f;
  if (wire::parse_finish(datagram, f) != wire::ParseStatus::ok) return drop(Drop::malformed, from);
  const auto it = pending_.find(f.receiver_index);
  if (it == pending_.end()) return drop(Drop::unknown_index, from);
  if (!cookies_.mac1_valid(datagram, false)) return drop(Drop::bad_mac1, from);
  PendingResponder& pending = *it->second;
  noise::HandshakeState& hs = *pending.hs;
  psk_lookup_.reset();
  std::size_t n = 0;
  if (hs.read_message(f.noise, payload_, n) != noise::Error::ok) {
    PeerId peer = kNoPeer;
    std::optional<crypto::PublicKey> key;
    const Drop why = finish_failure(pending, peer, key);
    if (why != Drop::decrypt_failed) {
      // The PSK was asked for, so s decrypted: only this handshake's own
      // initiator gets that far. The refusal is final, like the ones below;
      // a replay of this finish then finds nothing and is not reported again.
      end_pending(it, true);
    }
    return drop_with_key(why, from, peer, key);
  }
  // Message 3 authenticated: the initiator holds this static key.
  const crypto::PublicKey rs = *hs.remote_static();
  wire::ExtensionList extensions;
  std::optional<Drop> refusal = check_extensions({payload_.data(), n}, extensions);
  const std::optional<PeerId> known = find_peer(rs);
  std::optional<PeerId> id;
  if (!refusal) {
    id = admit(now, Role::responder, rs, extensions);
    if (!id) {
      refusal = known ? Drop::not_admitted : Drop::unknown_peer;
    } else if (peer_of(*id)->config.psk && !pending.psk) {
      refusal = Drop::psk_required;
    }
  }
  if (refusal) {
    end_pending(it, true);
    drop_with_key(*refusal, from, id ? *id : known.value_or(kNoPeer), rs);
    // A peer admitted by an earlier decision loses its place with this one.
    if (*refusal == Drop::not_admitted) forget(*known, Event::Ended::refused);
    return;
  }
  accept_finish(*peer_of(*id), now, from, f.receiver_index, it);
}

void Engine::accept_finish(Peer& p, Instant now, const Endpoint& from, std::uint32_t index,
                           PendingMap::iterator it) {
  noise::TransportState t;
  (void)it->second->hs->split(t);
  auto kp = make_keypair(t, now, false, index, it->second->remote_index, it->second->suite);
  end_pending(it, false);
  indices_.replace(index, {p.id, IndexKind::keypair});
  move_endpoint(p, from);
  // The initiator derived these keys before it sent message 3: use them now.
  // The keys it sent on last stay as previous, for what is still in flight:
  // the old current as a rule, but the old previous if the initiator never
  // started on the old current (its confirmation was lost and the handshake
  // redone) or after crossing handshakes (each side sends on its own).
  if (p.current && p.previous && p.previous->last_received > p.current->last_received) {
    std::swap(p.current, p.previous);
  }
  if (p.previous) indices_.erase(p.previous->local_index);
  p.previous = std::move(p.current);
  p.current = std::move(kp);
  report_admitted(p);
  session_derived(p, now, true);
  if (p.staged.empty()) {
    send_keepalive(p, now);  // the confirmation the initiator waits for
  } else {
    flush_staged(p, now);
  }
}

void Engine::drop_version(const Endpoint& from, std::uint8_t version) {
  ++drops_[static_cast<std::size_t>(Drop::unsupported_version)];
  Event e;
  e.drop = Drop::unsupported_version;
  e.from = from;
  e.version = version;
  e.message = message_;
  report(e);
}

void Engine::drop_with_key(Drop d, const Endpoint& from, PeerId peer,
                           const std::optional<crypto::PublicKey>& key) {
  ++drops_[static_cast<std::size_t>(d)];
  Event e;
  e.drop = d;
  e.from = from;
  e.peer = peer;
  e.key = key;
  e.message = message_;
  report(e);
}

}  // namespace gw::session
