// SPDX-License-Identifier: MIT
// Per-source token buckets for handshake initiations, in the manner of
// WireGuard's ratelimiter: each source may start kHandshakesPerSecond
// handshakes per second with bursts of kHandshakeBurst (session_impl in
// constants.hpp), so one source cannot make the responder spend all its time
// on DH.
//
// A source is an IPv4 address, or the /64 prefix of an IPv6 address (one
// host usually owns a whole /64, so per-address buckets would be free to
// multiply). IPv4-mapped IPv6 addresses count as the IPv4 address.
//
// Memory is bounded: a source idle for kSourceIdleExpiryMs is forgotten
// (its bucket would be full again by then, so forgetting changes no decision),
// and at most kMaxTrackedSources are tracked. A new source arriving while the
// table is full is refused: under a flood of spoofed sources we fail closed.
//
// Pure: `now` comes in as an argument. Not thread-safe.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>

#include "gw/constants.hpp"
#include "gw/time.hpp"

namespace gw::session {

// The part of a source address a bucket is keyed on.
struct SourceKey {
  enum class Family : std::uint8_t { ipv4 = 4, ipv6 = 6 };

  static SourceKey ipv4(std::span<const std::uint8_t, 4> address);
  // Keeps the /64 prefix; an IPv4-mapped address (::ffff:a.b.c.d) gives the IPv4 key.
  static SourceKey ipv6(std::span<const std::uint8_t, 16> address);

  Family family = Family::ipv4;
  std::array<std::uint8_t, 16> bytes{};  // the kept prefix, zero after it

  auto operator<=>(const SourceKey&) const = default;
};

class RateLimiter {
 public:
  explicit RateLimiter(std::size_t max_sources = session_impl::kMaxTrackedSources)
      : max_sources_(max_sources) {}

  // Takes one token from the source's bucket: true if the handshake may
  // proceed. Also forgets idle sources, at most once per GC interval.
  bool allow(const SourceKey& source, Instant now);

  // Forgets every source idle for kSourceIdleExpiryMs or longer.
  void collect(Instant now);

  // Sources tracked now.
  std::size_t size() const { return buckets_.size(); }

 private:
  // Tokens are nanoseconds of refill time: a handshake costs 1 s / rate and a
  // bucket holds burst such costs. Integers, so no rounding drift.
  struct Bucket {
    std::int64_t tokens_ns = 0;
    Instant last{};
  };

  // An ordered map: lookups stay O(log n) even for sources an attacker picks
  // to collide, with no keyed hash to manage. Inserts allocate, but only for
  // a new source, and the table is capped.
  std::map<SourceKey, Bucket> buckets_;
  std::size_t max_sources_;
  Instant next_collect_{};
};

}  // namespace gw::session
