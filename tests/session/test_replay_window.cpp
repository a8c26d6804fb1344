// SPDX-License-Identifier: MIT
// The replay window (include/gw/session/replay_window.hpp): a numbered table
// of cases walked in order on one window, loops that cross every ring word,
// and a comparison against a naive set-based window on random sequences.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>

#include "gw/constants.hpp"
#include "gw/session/replay_window.hpp"

using gw::session::ReplayWindow;

namespace {

constexpr std::uint64_t kW = ReplayWindow::kWindow;
constexpr std::uint64_t kRing = gw::session_impl::kReplayRingWords * 64;  // bits in the ring
constexpr std::uint64_t kLimit = gw::session_spec::kRejectAfterMessages;
constexpr std::uint64_t kMax = ~std::uint64_t{0};

struct Case {
  std::uint64_t counter;
  bool accepted;
  const char* why;
};

// Walked in order on one window: each case sees the state the ones above left.
constexpr Case kCases[] = {
    {0, true, "counter 0 is an ordinary first counter"},
    {0, false, "replay of 0"},
    {1, true, "in order"},
    {1, false, "replay"},
    {6, true, "a gap: 2..5 still pending"},
    {4, true, "late, inside the window"},
    {4, false, "late replay"},
    {2, true, "late"},
    {5, true, "late"},
    {3, true, "the last of the gap"},
    {6, false, "replay of the highest"},
    {kW + 6, true, "a jump of exactly the window"},
    {6, false, "recorded, and exactly at the window's edge (highest - W)"},
    {7, true, "not recorded, one inside the edge"},
    {5, false, "just outside the window (highest - W - 1)"},
    {0, false, "far outside"},
    {kW + 7, true, "in order after the jump"},
    {7, false, "recorded, at the edge again"},
    {6, false, "slid out by one"},
    {3 * kRing + 8, true, "a jump of several rings clears every word"},
    {3 * kRing + 7, true, "shares its bit with 7, recorded a ring earlier"},
    {2 * kRing + kW + 6, true, "shares its bit with W + 6, recorded a ring earlier"},
    {3 * kRing + 7, false, "replay"},
    {3 * kRing + 8 - kW, true, "the oldest counter inside"},
    {3 * kRing + 7 - kW, false, "the newest counter outside"},
    {3 * kRing + 8 + 64 * 5, true, "a jump of five words clears just those"},
    {2 * kRing + kW + 6, false, "recorded in a word the jump did not clear"},
    {3 * kRing + 7, false, "recorded in the old highest word"},
    {3 * kRing + 8 + 64 * 5 - kW, true, "the oldest counter inside after the jump"},
    {3 * kRing + 8 + 64 * 5 + 1, true, "in order"},
    {kLimit - 1, true, "the last counter a keypair accepts, after a huge jump"},
    {kLimit, false, "the reject limit itself"},
    {kLimit + 1, false, "past the limit"},
    {kMax, false, "2^64 - 1"},
    {kLimit - 1, false, "replay at the limit"},
    {kLimit - 2, true, "late, just below the limit"},
    {kLimit - 1 - kW, true, "the oldest counter inside, near the limit"},
    {kLimit - 2 - kW, false, "the newest counter outside, near the limit"},
    {0, false, "ancient"},
};

// The obvious replay window: every recorded counter in a set.
class NaiveWindow {
 public:
  bool accepts(std::uint64_t c) const {
    if (c >= kLimit) return false;
    if (!highest_ || c > *highest_) return true;
    if (*highest_ - c > kW) return false;
    return !seen_.contains(c);
  }

  // Refused for its age: past the limit or below the window.
  bool too_old(std::uint64_t c) const {
    return c >= kLimit || (highest_ && c<*highest_&& * highest_ - c> kW);
  }

  bool record(std::uint64_t c) {
    if (!accepts(c)) return false;
    seen_.insert(c);
    highest_ = std::max(highest_.value_or(0), c);
    // Counters below the window are refused without looking at the set.
    if (*highest_ > kW) seen_.erase(seen_.begin(), seen_.lower_bound(*highest_ - kW));
    return true;
  }

  void reset() {
    seen_.clear();
    highest_.reset();
  }

 private:
  std::set<std::uint64_t> seen_;
  std::optional<std::uint64_t> highest_;
};

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > kMax - b ? kMax : a + b;
}
std::uint64_t saturating_sub(std::uint64_t a, std::uint64_t b) {
  return a < b ? 0 : a - b;
}

// One step of a random receive sequence: mostly in order, with late packets,
// duplicates, jumps forward and counters at the window's edge.
class SequenceGen {
 public:
  SequenceGen(std::uint64_t seed, std::uint64_t start) : rng_(seed), next_(start) {}

  std::uint64_t next() {
    const std::uint64_t c = pick();
    recent_[recent_pos_++ % recent_.size()] = c;
    return c;
  }

 private:
  std::uint64_t below(std::uint64_t bound) { return rng_() % bound; }

  std::uint64_t pick() {
    const std::uint64_t roll = below(100);
    if (roll < 45) return next_++;                                     // in order
    if (roll < 65) return saturating_sub(next_, 1 + below(kW + 300));  // late
    if (roll < 78) return recent_[below(recent_.size())];              // duplicate
    if (roll < 83) return saturating_sub(next_, kW - 2 + below(5));    // edge
    if (roll < 93) return next_ = saturating_add(next_, below(200));   // small skip
    return next_ = saturating_add(next_, below(3 * kRing));            // jump
  }

  std::mt19937_64 rng_;
  std::uint64_t next_;
  std::array<std::uint64_t, 64> recent_{};
  std::size_t recent_pos_ = 0;
};

}  // namespace

TEST_CASE("ReplayWindow: the numbered table of cases") {
  ReplayWindow window;
  for (std::size_t i = 0; i < std::size(kCases); ++i) {
    const Case& c = kCases[i];
    INFO("case " << i + 1 << " (counter " << c.counter << "): " << c.why);
    CHECK(window.check(c.counter) == c.accepted);
    if (c.accepted) CHECK_FALSE(window.too_old(c.counter));
    CHECK(window.update(c.counter) == c.accepted);
    CHECK_FALSE(window.check(c.counter));  // recorded now, or refused before
  }
}

TEST_CASE("ReplayWindow: check() changes nothing") {
  ReplayWindow window;
  CHECK(window.check(10));
  CHECK(window.check(10));
  CHECK(window.check(10 + 3 * kRing));  // a big jump, only looked at
  CHECK(window.update(10));
  CHECK(window.update(9));  // still inside: the jump above was never made
}

TEST_CASE("ReplayWindow: reset() forgets every counter") {
  ReplayWindow window;
  CHECK(window.update(5));
  CHECK(window.update(5 + 4 * kRing));
  window.reset();
  CHECK(window.update(0));
  CHECK(window.update(5));
  CHECK(window.update(6));
  CHECK_FALSE(window.update(5));
}

TEST_CASE("ReplayWindow: every counter in order, across three turns of the ring") {
  ReplayWindow window;
  for (std::uint64_t c = 0; c < 3 * kRing + 100; ++c) {
    REQUIRE(window.update(c));
    REQUIRE_FALSE(window.update(c));
  }
  for (std::uint64_t c = 0; c < 3 * kRing + 100; ++c)
    REQUIRE_FALSE(window.check(c));
}

TEST_CASE("ReplayWindow: a whole window received in reverse, at every alignment in a word") {
  const std::uint64_t bases[] = {0, 1, 31, 63, 64, 65, 127, kRing - 1};
  for (const std::uint64_t base : bases) {
    CAPTURE(base);
    ReplayWindow window;
    REQUIRE(window.update(base + kW));
    for (std::uint64_t c = base + kW; c-- > base;)
      REQUIRE(window.update(c));
    for (std::uint64_t c = base; c <= base + kW; ++c)
      REQUIRE_FALSE(window.update(c));
    if (base > 0) REQUIRE_FALSE(window.update(base - 1));
    REQUIRE(window.update(base + kW + 1));
    REQUIRE_FALSE(window.check(base));  // slid out of the window
  }
}

TEST_CASE("ReplayWindow: one counter per word leaves the rest of each word free") {
  ReplayWindow window;
  const std::uint64_t words = 2 * gw::session_impl::kReplayRingWords + 3;
  for (std::uint64_t k = 0; k < words; ++k)
    REQUIRE(window.update(64 * k + 63));
  const std::uint64_t highest = 64 * (words - 1) + 63;
  for (std::uint64_t k = 0; k < words; ++k) {
    CAPTURE(k);
    const bool inside = highest - 64 * k <= kW;
    REQUIRE(window.update(64 * k) == inside);
    REQUIRE_FALSE(window.update(64 * k + 63));
  }
}

TEST_CASE("ReplayWindow: the window size meets DESIGN.md") {
  CHECK(kW >= 2048);
  CHECK(kW == gw::session_impl::kReplayWindow);
  CHECK(kLimit == 0xFFFF'FFFF'FFFF'DFFFULL);  // 2^64 - 2^13 - 1
}

TEST_CASE("ReplayWindow: agrees with a naive window on random sequences") {
  const std::uint64_t starts[] = {0, 1'000'003, kLimit - 20'000};
  std::uint64_t seed = 1;
  for (const std::uint64_t start : starts) {
    for (int run = 0; run < 4; ++run, ++seed) {
      CAPTURE(seed);
      SequenceGen gen(seed, start);
      ReplayWindow window;
      NaiveWindow naive;
      std::mt19937_64 reset_rng(seed ^ 0x5eed);
      for (int step = 0; step < 20'000; ++step) {
        const std::uint64_t c = gen.next();
        CAPTURE(step);
        CAPTURE(c);
        REQUIRE(window.check(c) == naive.accepts(c));
        REQUIRE(window.too_old(c) == naive.too_old(c));
        REQUIRE(window.update(c) == naive.record(c));
        if (reset_rng() % 5000 == 0) {
          window.reset();
          naive.reset();
        }
      }
    }
  }
}
