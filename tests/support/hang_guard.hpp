// SPDX-License-Identifier: MIT
// Waits that only guard a test against a hang (a poll for a datagram on
// loopback, a server's deadline) are stretched by GW_TEST_TIME_FACTOR, a whole
// number the build sets for sanitizer builds (tests/meson.build), so that a
// slow machine never reaches them in normal operation. A wait whose length is
// what a test checks (a deadline cut short on purpose) is never stretched.
#pragma once

#include <chrono>
#include <cstdlib>

namespace gw::test {

inline int time_factor() {
  const char* text = std::getenv("GW_TEST_TIME_FACTOR");
  if (text == nullptr) return 1;
  const long f = std::strtol(text, nullptr, 10);
  return f >= 1 && f <= 99 ? static_cast<int>(f) : 1;
}

// `ms` milliseconds, stretched: for poll().
inline int hang_guard_ms(int ms) {
  return ms * time_factor();
}

inline std::chrono::milliseconds hang_guard(std::chrono::milliseconds d) {
  return d * time_factor();
}

}  // namespace gw::test
