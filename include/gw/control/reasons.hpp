// SPDX-License-Identifier: MIT
// The engine's drop reasons as stable names for programs: the keys of the
// "dropped" and "handshakes_failed" counters in the control protocol
// (docs/CONTROL.md) and the `reason` label of the Prometheus metrics.
#pragma once

#include "gw/session/engine.hpp"

namespace gw::control {

// The enumerator's own identifier ("bad_mac1", "unknown_peer", ...): snake
// case, so it is a JSON key and a label value as it stands. "unknown" for a
// value outside the enumeration.
const char* drop_reason(session::Drop d) noexcept;

// True for the reasons a handshake is refused (the peer's identity, key,
// version or suite), which count as failed handshakes rather than as dropped
// packets.
bool is_handshake_failure(session::Drop d) noexcept;

}  // namespace gw::control
