// SPDX-License-Identifier: MIT
// Time as gw's layers see it. Pure layers (noise, wire, session, routing...)
// receive `now` as an Instant argument and never read a clock themselves; only
// daemon/ reads steady_clock, so every timer rule can be tested with a fake
// clock in memory.
#pragma once

#include <chrono>

namespace gw {

// Monotonic: immune to wall-clock jumps (NTP steps, manual changes).
using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

}  // namespace gw
