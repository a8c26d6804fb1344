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
  Peer* p = peer_of(id);
  if (p == nullptr || buffer.size() < kPacketHeadroom + packet_len + kPacketTailroom) {
    return next_deadline_;
  }
  Keypair* kp = sending_keypair(*p, now);
  if (kp == nullptr) {
    if (p->staged.size() >= engine_impl::kMaxStagedPackets) p->staged.pop_front();
    p->staged.emplace_back(
        buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(kPacketHeadroom + packet_len +
                                                                     kPacketTailroom));
    if (!p->handshake) start_handshake(*p, now, false);
    return settle(p->timers.next());
  }
  encrypt_and_send(*p, *kp, now, buffer, packet_len);
  const bool old = kp->we_initiated && now - kp->created >= timer_spec::kRekeyAfterTime;
  if ((old || kp->next_counter >= timer_spec::kRekeyAfterMessages) && !p->handshake) {
    start_handshake(*p, now, false);
  }
  return settle(p->timers.next());
}

bool Engine::encrypt_and_send(Peer& p, Keypair& kp, Instant now, MutBytes buffer, std::size_t len) {
  if (!p.endpoint) return false;
  const std::size_t room = buffer.size() - kTransportHeaderSize - noise_spec::kTagLen;
  std::size_t padded =
      std::min((len + kPaddingMultiple - 1) / kPaddingMultiple * kPaddingMultiple, room);
  // Padding never takes a packet past the interface MTU: a full-size packet
  // would no longer fit the underlay's (docs/PROTOCOL.md 4.6).
  if (config_.mtu != 0) padded = std::max(len, std::min<std::size_t>(padded, config_.mtu));
  std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(kTransportHeaderSize + len),
            buffer.begin() + static_cast<std::ptrdiff_t>(kTransportHeaderSize + padded),
            std::uint8_t{0});
  const std::uint64_t counter = kp.next_counter++;
  std::size_t n = 0;
  const MutBytes body = buffer.subspan(kTransportHeaderSize, padded + noise_spec::kTagLen);
  if (kp.send.encrypt_at(counter, {}, body.first(padded), body, n) != noise::Error::ok) {
    return false;
  }
  wire::write_transport_header(buffer, kp.remote_index, counter);
  sink_.send_datagram(*p.endpoint, buffer.first(kTransportHeaderSize + n));
  if (len > 0) {
    p.stats.tx_bytes += len;
    ++p.stats.tx_packets;
    on_data_sent(p, now);
  }
  on_packet_sent(p, now);
  return true;
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
    p.staged.pop_front();
    encrypt_and_send(p, *kp, now, buf, buf.size() - kPacketHeadroom - kPacketTailroom);
  }
}

void Engine::on_transport(Instant now, const Endpoint& from, MutBytes datagram) {
  wire::Transport t;
  if (wire::parse_transport(datagram, t) != wire::ParseStatus::ok) {
    return drop(Drop::malformed, from);
  }
  const auto entry = indices_.find(t.receiver_index);
  Peer* p = entry && entry->kind == IndexKind::keypair ? peer_of(entry->peer) : nullptr;
  Keypair* kp = p != nullptr ? p->keypair_by_index(t.receiver_index) : nullptr;
  if (kp == nullptr) return drop(Drop::unknown_index, from);
  if (now - kp->created >= timer_spec::kRejectAfterTime) {
    return drop(Drop::expired_keypair, from, p->id);
  }
  if (!kp->replay.check(t.counter)) return drop(Drop::replay, from, p->id);
  const MutBytes body = datagram.subspan(kTransportHeaderSize);
  std::size_t n = 0;
  if (kp->receive.decrypt_at(t.counter, {}, body, body, n) != noise::Error::ok) {
    return drop(Drop::decrypt_failed, from, p->id);
  }
  if (!kp->replay.update(t.counter)) return drop(Drop::replay, from, p->id);
  kp->last_received = ++p->received;
  if (kp == p->next.get()) confirm_next(*p, now);
  p->endpoint = from;
  on_packet_received(*p, now);
  if (n > 0) {
    const auto len = routing::packet_length(body.first(n));
    if (!len) return drop(Drop::bad_inner_packet, from, p->id);
    p->stats.rx_bytes += *len;
    ++p->stats.rx_packets;
    on_data_received(*p, now);
    sink_.deliver_packet(p->id, body.first(*len));
  }
  if (kp->we_initiated && now - kp->created >= timer_spec::kRekeyOnReceiveAge && !p->handshake) {
    start_handshake(*p, now, false);
  }
  settle(p->timers.next());
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
