// SPDX-License-Identifier: MIT
// A peer's timers as plain deadlines (docs/PROTOCOL.md, section 9). The
// engine reports events (data sent, data received, handshake started ...);
// the functions in src/session/timers.cpp alone decide which deadlines those
// events set or clear, and what a deadline does when it is reached. Nothing
// here reads a clock: `now` comes with every event.
#pragma once

#include <optional>

#include "gw/time.hpp"

namespace gw::session {

struct PeerTimers {
  std::optional<Instant> retransmit_handshake;  // no answer to our handshake message
  std::optional<Instant> send_keepalive;        // data received, nothing sent since
  std::optional<Instant> new_handshake;         // data sent, nothing received since
  std::optional<Instant> zero_keys;             // no new session for a long time
  std::optional<Instant> persistent_keepalive;  // NAT keepalive
  std::optional<Instant> admission_ends;        // the authorizer's valid_until
  std::optional<Instant> attempts_began;        // first attempt of the current handshake
  std::optional<Instant> last_initiation;       // initiation rate limit per peer

  // The earliest deadline, or Instant::max().
  Instant next() const noexcept;
};

}  // namespace gw::session
