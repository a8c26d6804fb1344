// SPDX-License-Identifier: MIT
// Every timer rule of a peer, in one place (docs/PROTOCOL.md, section 9; the
// rules and constants are WireGuard's). The rest of the engine reports events
// through the on_* hooks; run_timers() acts on the deadlines they set.
//
//   retransmit_handshake  set when we send an initiation (REKEY_TIMEOUT plus
//                         jitter) and kept after message 3 until the responder
//                         confirms; when reached: a new initiation, or give up
//                         after REKEY_ATTEMPT_TIME.
//   send_keepalive        set when data arrives and none was sent since;
//                         cleared by sending data; when reached: a keepalive.
//   new_handshake         set when data is sent and nothing came back since;
//                         cleared by any authenticated packet; when reached: a
//                         new handshake.
//   zero_keys             set when a session is derived; when reached, three
//                         REJECT_AFTER_TIMEs later: every key is wiped, and an
//                         admitted (not configured) peer is forgotten.
//   persistent_keepalive  re-armed by every authenticated packet sent or
//                         received, when configured; when reached: a keepalive.
//   admission_ends        set by the authorizer's decision at each handshake
//                         (a certificate's not_after); when reached: every
//                         session ends, and an admitted peer is forgotten.
#include <algorithm>

#include "engine_internal.hpp"

namespace gw::session {

Instant PeerTimers::next() const noexcept {
  Instant t = Instant::max();
  for (const auto& d : {retransmit_handshake, send_keepalive, new_handshake, zero_keys,
                        persistent_keepalive, admission_ends}) {
    if (d) t = std::min(t, *d);
  }
  return t;
}

namespace {
bool due(std::optional<Instant>& deadline, Instant now) {
  if (!deadline || now < *deadline) return false;
  deadline.reset();
  return true;
}
}  // namespace

Instant Engine::jittered(Instant now) {
  const auto jitter = std::chrono::milliseconds(
      rng_.uniform(static_cast<std::uint32_t>(timer_spec::kRekeyTimeoutJitterMax.count()) + 1));
  return now + timer_spec::kRekeyTimeout + jitter;
}

void Engine::on_handshake_initiated(Peer& p, Instant now) {
  p.timers.last_initiation = now;
  p.timers.retransmit_handshake = jittered(now);
  settle(p.timers.next());
}

// The counters and `latest handshake` move only with a session both sides
// hold: as responder at once, as initiator when the responder confirms.
void Engine::session_derived(Peer& p, Instant now, bool responder) {
  p.timers.zero_keys = now + timer_spec::kZeroKeysAfter;
  if (responder) {
    on_session_confirmed(p, now);
  } else {
    p.timers.retransmit_handshake = jittered(now);  // until the responder confirms
  }
  const Keypair* kp = responder ? p.current.get() : p.next.get();
  Event e;
  e.kind = Event::Kind::handshake_complete;
  e.peer = p.id;
  e.suite = kp->suite;
  e.we_initiated = !responder;
  report(e);
  settle(p.timers.next());
}

void Engine::on_session_confirmed(Peer& p, Instant now) {
  ++p.stats.handshakes;
  p.stats.last_handshake = now;
  p.stats.suite = p.current->suite;
  p.stats.attempt_since.reset();
  p.stats.attempts = 0;
  p.stats.trouble = Trouble::none;
  p.timers.retransmit_handshake.reset();
  p.timers.attempts_began.reset();
  // An initiation of ours still waiting for its response (a retransmission
  // sent before this confirmation came) is moot now; left pending, with no
  // timer to end it, it would block every later rekey (they start only when
  // no handshake is under way) until the session expired.
  end_attempts(p);
}

void Engine::on_data_sent(Peer& p, Instant now) {
  p.timers.send_keepalive.reset();
  if (!p.timers.new_handshake) p.timers.new_handshake = now + timer_spec::kNewHandshakeTimeout;
}

void Engine::on_data_received(Peer& p, Instant now) {
  if (!p.timers.send_keepalive) p.timers.send_keepalive = now + timer_spec::kKeepaliveTimeout;
}

void Engine::on_packet_sent(Peer& p, Instant now) {
  arm_persistent_keepalive(p, now);
}

void Engine::on_packet_received(Peer& p, Instant now) {
  p.timers.new_handshake.reset();
  arm_persistent_keepalive(p, now);
}

void Engine::arm_persistent_keepalive(Peer& p, Instant now) {
  if (p.config.persistent_keepalive_s != 0) {
    p.timers.persistent_keepalive = now + std::chrono::seconds(p.config.persistent_keepalive_s);
  }
}

void Engine::give_up(Peer& p) {
  end_attempts(p);
  p.staged.clear();
  p.timers.attempts_began.reset();
  p.stats.attempt_since.reset();
  p.timers.new_handshake.reset();
  Event e;
  e.kind = Event::Kind::handshake_gave_up;
  e.peer = p.id;
  report(e);
}

void Engine::set_valid_until(Peer& p, std::optional<Instant> until) {
  p.timers.admission_ends = until;
  if (until) settle(*until);
}

// The admission's end: no session outlives it. An admitted peer goes with
// it; a configured one (a custom authorizer's) keeps its place and must be
// admitted again by its next handshake.
void Engine::end_admission(Peer& p, Instant now) {
  (void)now;
  if (p.config.admitted) return forget(p.id, Event::Ended::expired);
  wipe_peer_keys(p);
  Event e;
  e.kind = Event::Kind::keys_wiped;
  e.peer = p.id;
  report(e);
}

bool Engine::run_timers(Peer& p, Instant now) {
  if (due(p.timers.admission_ends, now)) {
    const bool admitted = p.config.admitted;
    end_admission(p, now);
    if (admitted) return false;
  }
  if (due(p.timers.retransmit_handshake, now)) {
    // What the last attempt got: no response at all, or no confirmation.
    if (p.handshake) {
      p.stats.trouble = Trouble::no_response;
    } else if (p.next) {
      p.stats.trouble = Trouble::not_confirmed;
    }
    if (p.timers.attempts_began &&
        now - *p.timers.attempts_began >= timer_spec::kRekeyAttemptTime) {
      give_up(p);
    } else {
      start_handshake(p, now, true);
    }
  }
  if (due(p.timers.send_keepalive, now)) send_keepalive(p, now);
  if (due(p.timers.new_handshake, now)) start_handshake(p, now, false);
  if (due(p.timers.zero_keys, now)) {
    if (p.config.admitted) {
      forget(p.id, Event::Ended::idle);  // its grant does not linger
      return false;
    }
    wipe_peer_keys(p);
    Event e;
    e.kind = Event::Kind::keys_wiped;
    e.peer = p.id;
    report(e);
  }
  if (due(p.timers.persistent_keepalive, now)) {
    if (sending_keypair(p, now) != nullptr) {
      send_keepalive(p, now);
    } else {
      arm_persistent_keepalive(p, now);
      start_handshake(p, now, false);  // keep the NAT mapping: bring a session up
    }
  }
  return true;
}

}  // namespace gw::session
