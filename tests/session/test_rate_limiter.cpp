// SPDX-License-Identifier: MIT
// The handshake rate limiter (include/gw/session/rate_limiter.hpp), driven by
// a fake clock: `now` is an Instant the test advances by hand.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "gw/constants.hpp"
#include "gw/session/rate_limiter.hpp"
#include "gw/time.hpp"

using gw::Instant;
using gw::session::RateLimiter;
using gw::session::SourceKey;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

constexpr int kBurst = static_cast<int>(gw::session_impl::kHandshakeBurst);
constexpr nanoseconds kCost{1'000'000'000 / gw::session_impl::kHandshakesPerSecond};
constexpr milliseconds kExpiry{gw::session_impl::kSourceIdleExpiryMs};

// An arbitrary start, far from the clock's epoch.
const Instant t0 = Instant{} + std::chrono::hours(5);

SourceKey v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  const std::array<std::uint8_t, 4> address = {a, b, c, d};
  return SourceKey::ipv4(address);
}

SourceKey v6(const std::array<std::uint8_t, 16>& address) {
  return SourceKey::ipv6(address);
}

// Calls allow() n times at `now` and counts the handshakes let through.
int allowed_of(RateLimiter& limiter, const SourceKey& source, Instant now, int n) {
  int allowed = 0;
  for (int i = 0; i < n; ++i)
    allowed += limiter.allow(source, now) ? 1 : 0;
  return allowed;
}

}  // namespace

TEST_CASE("RateLimiter: the parameters are WireGuard's") {
  CHECK(gw::session_impl::kHandshakesPerSecond == 20);
  CHECK(kBurst == 5);
  CHECK(gw::session_impl::kMaxTrackedSources == 8192);
  CHECK(kExpiry == std::chrono::seconds(1));
}

TEST_CASE("RateLimiter: a new source gets a burst, then is refused") {
  RateLimiter limiter;
  const SourceKey a = v4(192, 0, 2, 1);
  for (int i = 0; i < kBurst; ++i)
    CHECK(limiter.allow(a, t0));
  CHECK_FALSE(limiter.allow(a, t0));
  CHECK_FALSE(limiter.allow(a, t0));
  CHECK(limiter.size() == 1);
}

TEST_CASE("RateLimiter: tokens refill at the rate, to at most the burst") {
  RateLimiter limiter;
  const SourceKey a = v4(192, 0, 2, 1);
  REQUIRE(allowed_of(limiter, a, t0, kBurst) == kBurst);

  CHECK_FALSE(limiter.allow(a, t0 + kCost - nanoseconds(1)));  // one nanosecond short
  CHECK(limiter.allow(a, t0 + kCost));
  CHECK_FALSE(limiter.allow(a, t0 + kCost));

  // A steady stream at the rate is let through entirely...
  Instant now = t0 + kCost;
  for (int i = 0; i < 100; ++i) {
    now += kCost;
    REQUIRE(limiter.allow(a, now));
  }
  // ...and one at twice the rate, half of it.
  int allowed = 0;
  for (int i = 0; i < 100; ++i) {
    now += kCost / 2;
    allowed += limiter.allow(a, now) ? 1 : 0;
  }
  CHECK(allowed == 50);

  // A long pause refills the bucket to the burst, not beyond.
  now += 10 * kBurst * kCost;
  CHECK(allowed_of(limiter, a, now, 2 * kBurst) == kBurst);
}

TEST_CASE("RateLimiter: a clock that steps back refunds nothing") {
  RateLimiter limiter;
  const SourceKey a = v4(192, 0, 2, 1);
  REQUIRE(allowed_of(limiter, a, t0, kBurst) == kBurst);
  CHECK_FALSE(limiter.allow(a, t0 - std::chrono::seconds(3)));
  CHECK(limiter.allow(a, t0 + kCost));
  CHECK_FALSE(limiter.allow(a, t0 + kCost));
}

TEST_CASE("RateLimiter: sources are independent") {
  RateLimiter limiter;
  const SourceKey a = v4(192, 0, 2, 1);
  const SourceKey b = v4(192, 0, 2, 2);
  REQUIRE(allowed_of(limiter, a, t0, kBurst) == kBurst);
  CHECK_FALSE(limiter.allow(a, t0));
  CHECK(allowed_of(limiter, b, t0, kBurst + 3) == kBurst);
  CHECK_FALSE(limiter.allow(a, t0));
  CHECK(limiter.size() == 2);
}

TEST_CASE("RateLimiter: IPv6 addresses in one /64 share a bucket, other /64s do not") {
  const std::array<std::uint8_t, 16> host1 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2,
                                              0,    0,    0,    0,    0, 0, 0, 1};
  const std::array<std::uint8_t, 16> host2 = {0x20, 0x01, 0x0d, 0xb8, 0,    1,    0,    2,
                                              0xff, 0xff, 0xab, 0xcd, 0x12, 0x34, 0x56, 0x78};
  const std::array<std::uint8_t, 16> other = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3,
                                              0,    0,    0,    0,    0, 0, 0, 1};
  CHECK(v6(host1) == v6(host2));
  CHECK(v6(host1) != v6(other));

  RateLimiter limiter;
  int allowed = 0;
  for (int i = 0; i < kBurst; ++i) {
    allowed += limiter.allow(v6(host1), t0) ? 1 : 0;
    allowed += limiter.allow(v6(host2), t0) ? 1 : 0;
  }
  CHECK(allowed == kBurst);  // one bucket for both hosts
  CHECK(allowed_of(limiter, v6(other), t0, kBurst + 1) == kBurst);
  CHECK(limiter.size() == 2);
}

TEST_CASE("RateLimiter: IPv4-mapped IPv6 addresses are keyed as IPv4") {
  const std::array<std::uint8_t, 16> mapped1 = {0, 0, 0,    0,    0,   0, 0, 0,
                                                0, 0, 0xff, 0xff, 192, 0, 2, 1};
  const std::array<std::uint8_t, 16> mapped2 = {0, 0, 0,    0,    0,   0, 0, 0,
                                                0, 0, 0xff, 0xff, 192, 0, 2, 2};
  CHECK(v6(mapped1) == v4(192, 0, 2, 1));
  CHECK(v6(mapped1) != v6(mapped2));  // not lumped together as the ::/64 prefix

  // Family is part of the key: 1.2.3.4 is not the prefix 0102:0304::/64.
  const std::array<std::uint8_t, 16> lookalike = {1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(v6(lookalike) != v4(1, 2, 3, 4));

  RateLimiter limiter;
  REQUIRE(allowed_of(limiter, v4(192, 0, 2, 1), t0, kBurst) == kBurst);
  CHECK_FALSE(limiter.allow(v6(mapped1), t0));
  CHECK(limiter.allow(v6(mapped2), t0));
}

TEST_CASE("RateLimiter: idle sources expire and collect() forgets them") {
  RateLimiter limiter;
  const SourceKey a = v4(192, 0, 2, 1);
  const SourceKey b = v4(192, 0, 2, 2);
  REQUIRE(limiter.allow(a, t0));
  REQUIRE(limiter.allow(b, t0 + milliseconds(500)));
  limiter.collect(t0 + kExpiry - nanoseconds(1));
  CHECK(limiter.size() == 2);
  limiter.collect(t0 + kExpiry);
  CHECK(limiter.size() == 1);  // a went, b stays
  limiter.collect(t0 + milliseconds(500) + kExpiry);
  CHECK(limiter.size() == 0);
}

TEST_CASE("RateLimiter: allow() collects idle sources, at most once per interval") {
  RateLimiter limiter;
  REQUIRE(limiter.allow(v4(10, 0, 0, 1), t0));  // collects; next at t0+1s
  REQUIRE(limiter.allow(v4(10, 0, 0, 2), t0 + milliseconds(500)));
  CHECK(limiter.size() == 2);
  REQUIRE(limiter.allow(v4(10, 0, 0, 3), t0 + milliseconds(1000)));  // collects .1
  CHECK(limiter.size() == 2);
  REQUIRE(
      limiter.allow(v4(10, 0, 0, 4), t0 + milliseconds(1600)));  // .2 is idle, not collected yet
  CHECK(limiter.size() == 3);
  REQUIRE(limiter.allow(v4(10, 0, 0, 4), t0 + milliseconds(2000)));  // collects .2 and .3
  CHECK(limiter.size() == 1);
}

TEST_CASE("RateLimiter: forgetting an idle source changes no decision") {
  RateLimiter collected;
  RateLimiter kept(gw::session_impl::kMaxTrackedSources);
  const SourceKey a = v4(192, 0, 2, 1);
  REQUIRE(allowed_of(collected, a, t0, kBurst + 1) == kBurst);
  REQUIRE(allowed_of(kept, a, t0, kBurst + 1) == kBurst);
  collected.collect(t0 + kExpiry);
  CHECK(collected.size() == 0);
  // The forgotten source and the remembered one fare the same from now on.
  for (int ms = 0; ms < 400; ms += 7) {
    const Instant now = t0 + kExpiry + milliseconds(ms);
    REQUIRE(collected.allow(a, now) == kept.allow(a, now));
  }
}

TEST_CASE("RateLimiter: beyond the cap on tracked sources, new sources are refused") {
  SUBCASE("the default cap") {
    RateLimiter limiter;
    const std::size_t cap = gw::session_impl::kMaxTrackedSources;
    for (std::size_t i = 0; i < cap; ++i) {
      const SourceKey s =
          v4(10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
      REQUIRE(limiter.allow(s, t0));
    }
    CHECK(limiter.size() == cap);
    CHECK_FALSE(limiter.allow(v4(10, 2, 0, 0), t0 + milliseconds(1)));  // fails closed
    CHECK(limiter.size() == cap);
    CHECK(limiter.allow(v4(10, 1, 0, 0), t0 + milliseconds(1)));  // known sources go on
    // Once the tracked sources have gone idle they are collected and room returns.
    CHECK(limiter.allow(v4(10, 2, 0, 0), t0 + milliseconds(1) + kExpiry));
    CHECK(limiter.size() == 1);
  }
  SUBCASE("a small cap") {
    RateLimiter limiter(2);
    CHECK(limiter.allow(v4(10, 0, 0, 1), t0));
    CHECK(limiter.allow(v4(10, 0, 0, 2), t0));
    CHECK_FALSE(limiter.allow(v4(10, 0, 0, 3), t0));
    CHECK(limiter.size() == 2);
  }
}
