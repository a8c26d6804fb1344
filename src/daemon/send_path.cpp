// SPDX-License-Identifier: MIT
// The send path, TUN -> UDP, in pipeline order:
//  1. on_tun_readable: up to kMaxFramesPerWakeup reads per wakeup. With TUN
//     offloads a read is one frame (virtio-net header, up to 64 KiB) that
//     offload::segment cuts into MTU-sized packets, each written straight into
//     a packet slot (next/commit); without, a read lands in a slot itself.
//  2. route_and_send: the destination's peer by allowed IPs (no peer: counted
//     as no_route); the engine encrypts the packet in place in its slot, on
//     the loop or, with worker threads, prepared here and sealed in parallel
//     (finish_seals), in order.
//  3. send_datagram (the engine's Sink): each datagram joins the send batch;
//     one the engine built in its own memory (a handshake message, a staged
//     packet) is copied to the side arena first.
//  4. flush_sends: the batch goes out in one call (UDP GSO when it can), when
//     it is full, when the slots run out and at the end of the wakeup.
#include <cerrno>
#include <cstring>

#include "gateway.hpp"

namespace gw::daemon {
namespace {

// Packets the TUN side handles per wakeup before the UDP side gets its turn.
constexpr std::size_t kMaxFramesPerWakeup = 64;

}  // namespace

void Gateway::on_tun_readable() {
  now_ = Clock::now();
  // Enough free slots for one frame of 64 KiB cut at the MTU.
  const std::size_t per_frame = vnet_ ? 65535 / (buf_.mtu - 40) + 2 : 1;
  for (std::size_t frames = 0; frames < kMaxFramesPerWakeup; ++frames) {
    if (kSlots - buf_.slots_used < per_frame) {
      finish_seals();
      flush_sends();
      buf_.slots_used = 0;
    }
    const std::size_t first = buf_.slots_used;
    const ssize_t n =
        tun_.read(vnet_ ? MutBytes(buf_.frame.data(), buf_.frame.size()) : buf_.packet_room(first));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) log_.error(std::string("TUN read: ") + std::strerror(errno));
      break;
    }
    if (vnet_) {
      const auto err =
          offload::segment(Bytes(buf_.frame.data(), static_cast<std::size_t>(n)), buf_.mtu, *this);
      if (err != offload::SegmentError::none) {
        ++counters_.bad_frames;
        log_.debug(std::string("TUN frame dropped: ") + offload::to_string(err));
      }
    } else {
      buf_.slot_len[buf_.slots_used++] = static_cast<std::size_t>(n);
    }
    for (std::size_t i = first; i < buf_.slots_used; ++i)
      route_and_send(now_, i);
  }
  finish_seals();
  flush_sends();
  buf_.slots_used = 0;
  arm_timer(engine_->next_deadline());
}

MutBytes Gateway::next(std::size_t size) {
  if (buf_.slots_used == kSlots || size > buf_.mtu) return {};
  return buf_.packet_room(buf_.slots_used);
}

void Gateway::commit(std::size_t size) {
  buf_.slot_len[buf_.slots_used++] = size;
}

void Gateway::route_and_send(Instant now, std::size_t i) {
  const Bytes packet(buf_.slot(i) + session::kPacketHeadroom, buf_.slot_len[i]);
  const auto peer = allowed_.lookup_destination(packet);
  if (!peer) {
    ++counters_.no_route;
    return;
  }
  const MutBytes buffer(buf_.slot(i), buf_.stride);
  if (!pool_) {
    engine_->send_packet(now, *peer, buffer, buf_.slot_len[i]);
    return;
  }
  // A job per slot at most, and the slots are reused only after finish_seals().
  if (engine_->prepare_send(now, *peer, buffer, buf_.slot_len[i], buf_.seal_jobs[buf_.seals])) {
    ++buf_.seals;
  }
}

void Gateway::finish_seals() {
  if (buf_.seals == 0) return;
  seal_all(*pool_, std::span(buf_.seal_jobs.data(), buf_.seals));
  for (std::size_t i = 0; i < buf_.seals; ++i)
    engine_->finish_send(now_, buf_.seal_jobs[i]);
  buf_.seals = 0;
}

void Gateway::send_datagram(const Endpoint& to, Bytes datagram) {
  const bool in_slots = buf_.in_slots(datagram);
  // Room first: a send empties the batch and the side arena together.
  if (buf_.sends->full() || (!in_slots && buf_.side_used + datagram.size() > buf_.side.size())) {
    flush_sends();
  }
  Bytes data = datagram;
  if (!in_slots) {
    // Built in the engine's memory (a handshake message, a staged packet):
    // kept in the side arena until the batch goes out. It never exceeds an
    // MTU plus overhead, far below the arena's size.
    std::memcpy(buf_.side.data() + buf_.side_used, datagram.data(), datagram.size());
    data = Bytes(buf_.side.data() + buf_.side_used, datagram.size());
    buf_.side_used += datagram.size();
  }
  buf_.sends->add(to, data);
}

void Gateway::flush_sends() {
  if (buf_.sends && buf_.sends->size() != 0) udp_.send(*buf_.sends);
  buf_.side_used = 0;
}

}  // namespace gw::daemon
