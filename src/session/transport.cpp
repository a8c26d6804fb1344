// SPDX-License-Identifier: MIT
// The data path (docs/PROTOCOL.md, section 8).
//
// Outbound: send_packet picks the keypair (current, else an unconfirmed next),
// pads the packet to 16 bytes, takes the next counter, encrypts in the
// caller's buffer and writes the header in front; with no usable keypair the
// packet is staged and a handshake starts.
// Inbound: on_transport finds the keypair by receiver index, drops a counter
// the replay window already refuses, decrypts in place, records the counter
// only now that it is authentic, promotes an unconfirmed keypair, follows the
// peer's address (roaming) and delivers the packet without its padding.
//
// Both directions come in three steps (engine.hpp: prepare, seal/open,
// finish) so that a caller can run the AEAD of a batch on several threads:
// the prepare and finish steps own every change to the engine, and run in
// order on one thread; seal() and open() only read the keys.
#include <algorithm>

#include "engine_internal.hpp"
#include "gw/routing/ip_header.hpp"

namespace gw::session {

using wire_spec::kPaddingMultiple;
using wire_spec::kTransportHeaderSize;

std::unique_ptr<Engine::Keypair> Engine::make_keypair(noise::TransportState& t, Instant now,
                                                      bool we_initiated, std::uint32_t local,
                                                      std::uint32_t remote, std::uint8_t suite) {
  auto kp = std::make_unique<Keypair>();
  kp->send = std::move(t.send);
  kp->receive = std::move(t.receive);
  kp->created = now;
  kp->we_initiated = we_initiated;
  kp->local_index = local;
  kp->remote_index = remote;
  kp->suite = suite;
  return kp;
}

Engine::Keypair* Engine::sending_keypair(Peer& p, Instant now) {
  if (p.current && !p.current->expired(now)) return p.current.get();
  if (p.next && !p.next->expired(now)) return p.next.get();
  return nullptr;
}

Instant Engine::send_packet(Instant now, PeerId id, MutBytes buffer, std::size_t packet_len) {
  SealJob job;
  if (prepare_send(now, id, buffer, packet_len, job)) {
    seal(job);
    finish_send(now, job);
  }
  return next_deadline_;
}

bool Engine::prepare_send(Instant now, PeerId id, MutBytes buffer, std::size_t packet_len,
                          SealJob& job) {
  Peer* p = peer_of(id);
  if (p == nullptr || buffer.size() < kPacketHeadroom + packet_len + kPacketTailroom) {
    return false;
  }
  Keypair* kp = sending_keypair(*p, now);
  if (kp == nullptr) {
    if (p->staged.size() >= engine_impl::kMaxStagedPackets) p->staged.erase(p->staged.begin());
    p->staged.emplace_back(
        buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(kPacketHeadroom + packet_len +
                                                                     kPacketTailroom));
    if (!p->handshake) start_handshake(*p, now, false);
    settle(p->timers.next());
    return false;
  }
  if (!p->endpoint) {
    rekey_after_send(*p, *kp, now, kp->next_counter);
    settle(p->timers.next());
    return false;
  }
  prepare_seal(*kp, id, buffer, packet_len, job);
  return true;
}

Instant Engine::finish_send(Instant now, const SealJob& job) {
  Peer* p = peer_of(job.peer);
  if (p == nullptr) return next_deadline_;
  complete_send(*p, now, job);
  // The keypair that sealed the job, unless an earlier finish replaced it.
  for (const Keypair* kp : {p->current.get(), p->next.get(), p->previous.get()}) {
    if (kp != nullptr && &kp->send == job.cipher) {
      rekey_after_send(*p, *kp, now, job.counter + 1);
      break;
    }
  }
  return settle(p->timers.next());
}

void Engine::rekey_after_send(Peer& p, const Keypair& kp, Instant now, std::uint64_t next_counter) {
  const bool old = kp.we_initiated && now - kp.created >= timer_spec::kRekeyAfterTime;
  if ((old || next_counter >= timer_spec::kRekeyAfterMessages) && !p.handshake) {
    start_handshake(p, now, false);
  }
}

// Pads the packet, takes the counter and writes the header: all of sending
// that changes the keypair.
void Engine::prepare_seal(Keypair& kp, PeerId peer, MutBytes buffer, std::size_t len,
                          SealJob& job) {
  const std::size_t room = buffer.size() - kTransportHeaderSize - noise_spec::kTagLen;
  std::size_t padded =
      std::min((len + kPaddingMultiple - 1) / kPaddingMultiple * kPaddingMultiple, room);
  // Padding never takes a packet past the interface MTU: a full-size packet
  // would no longer fit the underlay's (docs/PROTOCOL.md 4.6).
  if (config_.mtu != 0) padded = std::max(len, std::min<std::size_t>(padded, config_.mtu));
  std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(kTransportHeaderSize + len),
            buffer.begin() + static_cast<std::ptrdiff_t>(kTransportHeaderSize + padded),
            std::uint8_t{0});
  job.peer = peer;
  job.cipher = &kp.send;
  job.buffer = buffer;
  job.len = len;
  job.padded = padded;
  job.counter = kp.next_counter++;
  job.size = 0;
  wire::write_transport_header(buffer, kp.remote_index, job.counter);
}

void Engine::seal(SealJob& job) noexcept {
  std::size_t n = 0;
  const MutBytes body = job.buffer.subspan(kTransportHeaderSize, job.padded + noise_spec::kTagLen);
  const bool ok =
      job.cipher->encrypt_at(job.counter, {}, body.first(job.padded), body, n) == noise::Error::ok;
  job.size = ok ? kTransportHeaderSize + n : 0;
}

bool Engine::complete_send(Peer& p, Instant now, const SealJob& job) {
  if (job.size == 0 || !p.endpoint) return false;
  sink_.send_datagram(*p.endpoint, job.buffer.first(job.size));
  if (job.len > 0) {
    p.stats.tx_bytes += job.len;
    ++p.stats.tx_packets;
    on_data_sent(p, now);
  }
  on_packet_sent(p, now);
  return true;
}

bool Engine::encrypt_and_send(Peer& p, Keypair& kp, Instant now, MutBytes buffer, std::size_t len) {
  if (!p.endpoint) return false;
  SealJob job;
  prepare_seal(kp, p.id, buffer, len, job);
  seal(job);
  return complete_send(p, now, job);
}

void Engine::send_keepalive(Peer& p, Instant now) {
  Keypair* kp = sending_keypair(p, now);
  if (kp == nullptr) return;
  std::array<std::uint8_t, kTransportHeaderSize + noise_spec::kTagLen> buf{};
  encrypt_and_send(p, *kp, now, buf, 0);
}

void Engine::flush_staged(Peer& p, Instant now) {
  while (!p.staged.empty()) {
    Keypair* kp = sending_keypair(p, now);
    if (kp == nullptr) return;
    std::vector<std::uint8_t> buf = std::move(p.staged.front());
    p.staged.erase(p.staged.begin());
    encrypt_and_send(p, *kp, now, buf, buf.size() - kPacketHeadroom - kPacketTailroom);
  }
  std::vector<std::vector<std::uint8_t>>().swap(p.staged);  // its memory too
}

// Transport packets for an index we do not know, from a configured peer's
// endpoint, while we hold no session and attempt none with it: the peer still
// sends on a session we lost (we restarted). Start a handshake to it now,
// rate-limited as every initiation (one per REKEY_TIMEOUT per peer), instead
// of waiting for its new-handshake timer (15 s). A peer we hold a session
// with is left alone, so injected packets cannot force rekeys, and the
// initiation goes to the configured endpoint, never to the packet's source.
void Engine::restart_hint(Instant now, const Endpoint& from) {
  const auto it = by_endpoint_.find(from);
  if (it == by_endpoint_.end()) return;
  Peer* p = peer_of(it->second);
  if (p == nullptr || p->current || p->next || p->handshake) return;
  move_endpoint(*p, p->config.endpoint);
  start_handshake(*p, now, false);
}

void Engine::on_transport(Instant now, const Endpoint& from, MutBytes datagram) {
  OpenJob job;
  if (prepare_receive(now, from, datagram, job) != Prepared::job) return;
  open(job);
  finish_receive(now, job);
}

Prepared Engine::prepare_receive(Instant now, const Endpoint& from, MutBytes datagram,
                                 OpenJob& job) {
  const auto type = wire::peek_type(datagram);
  if (!type || *type != wire::MessageType::transport) return Prepared::not_transport;
  wire::Transport t;
  if (wire::parse_transport(datagram, t) != wire::ParseStatus::ok) {
    drop(Drop::malformed, from);
    return Prepared::dropped;
  }
  Peer* p = nullptr;
  Keypair* kp = receiving_keypair(now, from, t.receiver_index, t.counter, nullptr, p);
  if (kp == nullptr) return Prepared::dropped;
  job.from = from;
  job.datagram = datagram;
  job.cipher = &kp->receive;
  job.receiver_index = t.receiver_index;
  job.counter = t.counter;
  job.plain_len = 0;
  job.ok = false;
  return Prepared::job;
}

Engine::Keypair* Engine::receiving_keypair(Instant now, const Endpoint& from, std::uint32_t index,
                                           std::uint64_t counter,
                                           const noise::CipherState* expected, Peer*& peer) {
  const auto entry = indices_.find(index);
  peer = entry && entry->kind == IndexKind::keypair ? peer_of(entry->peer) : nullptr;
  Keypair* kp = peer != nullptr ? peer->keypair_by_index(index) : nullptr;
  if (kp == nullptr || (expected != nullptr && &kp->receive != expected)) {
    drop(Drop::unknown_index, from);
    if (kp == nullptr && expected == nullptr) restart_hint(now, from);
    return nullptr;
  }
  if (now - kp->created >= timer_spec::kRejectAfterTime) {
    drop(Drop::expired_keypair, from, peer->id);
    return nullptr;
  }
  if (!kp->replay.check(counter)) {
    drop(kp->replay.too_old(counter) ? Drop::outside_window : Drop::replay, from, peer->id);
    return nullptr;
  }
  return kp;
}

void Engine::open(OpenJob& job) noexcept {
  const MutBytes body = job.datagram.subspan(kTransportHeaderSize);
  std::size_t n = 0;
  job.ok = job.cipher->decrypt_at(job.counter, {}, body, body, n) == noise::Error::ok;
  job.plain_len = job.ok ? n : 0;
}

Instant Engine::finish_receive(Instant now, const OpenJob& job) {
  const Endpoint& from = job.from;
  // Everything prepare_receive checked, again: an earlier finish of the same
  // batch may have replaced the keypair or moved its window.
  Peer* p = nullptr;
  Keypair* kp = receiving_keypair(now, from, job.receiver_index, job.counter, job.cipher, p);
  if (kp == nullptr) return next_deadline_;
  if (!job.ok) {
    drop(Drop::decrypt_failed, from, p->id);
    return next_deadline_;
  }
  if (!kp->replay.update(job.counter)) {
    drop(kp->replay.too_old(job.counter) ? Drop::outside_window : Drop::replay, from, p->id);
    return next_deadline_;
  }
  kp->last_received = ++p->received;
  if (kp == p->next.get()) confirm_next(*p, now);
  move_endpoint(*p, from);
  on_packet_received(*p, now);
  const std::size_t n = job.plain_len;
  if (n > 0) {
    const Bytes body = job.datagram.subspan(kTransportHeaderSize, n);
    const auto len = routing::packet_length(body);
    if (!len) {
      drop(Drop::bad_inner_packet, from, p->id);
      return next_deadline_;
    }
    p->stats.rx_bytes += *len;
    ++p->stats.rx_packets;
    on_data_received(*p, now);
    sink_.deliver_packet(p->id, body.first(*len));
  }
  if (kp->we_initiated && now - kp->created >= timer_spec::kRekeyOnReceiveAge && !p->handshake) {
    start_handshake(*p, now, false);
  }
  return settle(p->timers.next());
}

// The responder has our newest keys: they become current, and the keys that
// were current stay to receive what is still in flight.
void Engine::confirm_next(Peer& p, Instant now) {
  if (p.previous) indices_.erase(p.previous->local_index);
  p.previous = std::move(p.current);
  p.current = std::move(p.next);
  on_session_confirmed(p, now);
  Event e;
  e.kind = Event::Kind::session_confirmed;
  e.peer = p.id;
  e.suite = p.current->suite;
  report(e);
}

}  // namespace gw::session
