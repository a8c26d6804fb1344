// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <array>

#include "mac1_watch.hpp"

using namespace gw;
using gw::daemon::Mac1Watch;

namespace {
session::SourceKey v4(std::uint8_t last) {
  const std::array<std::uint8_t, 4> a{192, 0, 2, last};
  return session::SourceKey::ipv4(a);
}
const Instant t0 = Instant{} + std::chrono::hours(1);
}  // namespace

TEST_CASE("mac1 watch: the third failure within a minute warns, once per five minutes") {
  Mac1Watch w;
  CHECK(w.note(t0, v4(5)) == 0);
  CHECK(w.note(t0 + std::chrono::seconds(10), v4(5)) == 0);
  CHECK(w.note(t0 + std::chrono::seconds(20), v4(5)) == 3);
  CHECK(w.note(t0 + std::chrono::seconds(21), v4(5)) == 0);  // warned already
  // Another source counts on its own.
  CHECK(w.note(t0 + std::chrono::seconds(21), v4(6)) == 0);
  // Failures spread wider than the window never reach the threshold.
  Mac1Watch slow;
  for (int i = 0; i < 10; ++i)
    CHECK(slow.note(t0 + std::chrono::seconds(40 * i), v4(7)) == 0);
  // Five minutes after a warning, a source still failing is named again.
  const Instant later = t0 + std::chrono::minutes(6);
  CHECK(w.note(later, v4(5)) == 0);
  CHECK(w.note(later + std::chrono::seconds(1), v4(5)) == 0);
  CHECK(w.note(later + std::chrono::seconds(2), v4(5)) == 3);
  CHECK(w.note(later + std::chrono::seconds(3), v4(5)) == 0);
}

TEST_CASE("mac1 watch: a flood of sources stays bounded and still warns for a new one") {
  Mac1Watch w;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const std::array<std::uint8_t, 4> a{10, static_cast<std::uint8_t>(i >> 16),
                                        static_cast<std::uint8_t>(i >> 8),
                                        static_cast<std::uint8_t>(i)};
    (void)w.note(t0, session::SourceKey::ipv4(a));
  }
  const Instant t = t0 + std::chrono::seconds(1);
  CHECK(w.note(t, v4(9)) == 0);
  CHECK(w.note(t, v4(9)) == 0);
  CHECK(w.note(t, v4(9)) == 3);
}
