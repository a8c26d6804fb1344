// SPDX-License-Identifier: MIT
// The receive path, UDP -> TUN, in pipeline order:
//  1. on_udp_readable: up to kMaxReceiveRounds batched receives per wakeup
//     (recvmmsg, with UDP GRO when the socket has it).
//  2. Each datagram to the engine: decrypted in place on the loop or, with
//     worker threads, prepared here, opened in parallel (finish_opens) and
//     finished in order; a handshake message among them first lets what came
//     before it finish.
//  3. deliver_packet (the engine's Sink): the inner source must be in the
//     peer's allowed IPs (else counted as disallowed_source); with TUN
//     offloads, TCP segments are coalesced into larger frames.
//  4. write: each frame (or packet) to the TUN; the coalescer is flushed at
//     the end of every round, then the sends the round caused go out.
#include "gateway.hpp"

namespace gw::daemon {
namespace {

// Receive rounds per wakeup on the UDP side.
constexpr std::size_t kMaxReceiveRounds = 8;

}  // namespace

void Gateway::on_udp_readable() {
  for (std::size_t round = 0; round < kMaxReceiveRounds; ++round) {
    if (!receive_round()) break;
  }
  arm_timer(engine_->next_deadline());
}

// One batch: false when there was nothing (or the socket failed).
bool Gateway::receive_round() {
  std::size_t n = 0;
  try {
    n = udp_.receive(*buf_.receives);
  } catch (const std::exception& e) {
    log_.error(std::string("UDP receive: ") + e.what());
    io_.stop();
    return false;
  }
  if (n == 0) return false;
  now_ = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& d = (*buf_.receives)[i];
    if (!pool_) {
      engine_->handle_datagram(now_, d.from, d.data);
      continue;
    }
    switch (engine_->prepare_receive(now_, d.from, d.data, buf_.open_jobs[buf_.opens])) {
      case session::Prepared::job:
        if (++buf_.opens == buf_.open_jobs.size()) finish_opens();
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
  if (buf_.coalescer) buf_.coalescer->flush(*this);
  flush_sends();
  return true;
}

void Gateway::finish_opens() {
  if (buf_.opens == 0) return;
  open_all(*pool_, std::span(buf_.open_jobs.data(), buf_.opens));
  for (std::size_t i = 0; i < buf_.opens; ++i)
    engine_->finish_receive(now_, buf_.open_jobs[i]);
  buf_.opens = 0;
}

void Gateway::deliver_packet(PeerId peer, Bytes packet) {
  if (!allowed_.source_allowed(packet, peer)) {
    ++counters_.disallowed_source;
    std::uint64_t held = 0;
    if (log_.enabled(Level::debug) && source_limit_.allow(Clock::now(), held)) {
      log_.debug("dropped a packet from peer " + peer_name(peer) +
                 " whose source is outside its allowed IPs" +
                 (held != 0 ? " (" + std::to_string(held) + " more not logged)" : ""));
    }
    return;
  }
  if (buf_.coalescer) {
    if (!buf_.coalescer->add(packet)) {
      buf_.coalescer->flush(*this);
      buf_.coalescer->add(packet);
    }
    return;
  }
  write(packet);
}

void Gateway::write(Bytes frame) {
  if (tun_.write(frame) < 0) ++counters_.tun_write_errors;
}

}  // namespace gw::daemon
