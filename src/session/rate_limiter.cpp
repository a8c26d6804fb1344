// SPDX-License-Identifier: MIT
#include "gw/session/rate_limiter.hpp"

#include <algorithm>
#include <chrono>

namespace gw::session {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kCostNs = kNsPerSecond / session_impl::kHandshakesPerSecond;
constexpr std::int64_t kCapacityNs = kCostNs * session_impl::kHandshakeBurst;
constexpr std::chrono::milliseconds kIdleExpiry{session_impl::kSourceIdleExpiryMs};
constexpr std::chrono::milliseconds kCollectInterval{session_impl::kRateLimiterGcIntervalMs};

// Forgetting an idle source is only invisible if its bucket has refilled.
static_assert(kIdleExpiry >= std::chrono::nanoseconds(kCapacityNs));

// Refill time elapsed since `last`, never negative, capped at a full bucket
// so that the sum below cannot overflow.
std::int64_t refill_ns(Instant last, Instant now) {
  if (now <= last) return 0;
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count();
  return std::min<std::int64_t>(elapsed, kCapacityNs);
}

}  // namespace

SourceKey SourceKey::ipv4(std::span<const std::uint8_t, 4> address) {
  SourceKey key;
  key.family = Family::ipv4;
  std::copy(address.begin(), address.end(), key.bytes.begin());
  return key;
}

SourceKey SourceKey::ipv6(std::span<const std::uint8_t, 16> address) {
  // ::ffff:0:0/96. Without this, every IPv4 peer reaching a dual-stack socket
  // would share the single bucket of the ::/64 prefix.
  constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address.begin())) {
    return ipv4(address.subspan<12, 4>());
  }
  SourceKey key;
  key.family = Family::ipv6;
  std::copy(address.begin(), address.begin() + 8, key.bytes.begin());
  return key;
}

bool RateLimiter::allow(const SourceKey& source, Instant now) {
  if (now >= next_collect_) collect(now);
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) return false;  // fail closed
    it = buckets_.emplace(source, Bucket{kCapacityNs, now}).first;
  }
  Bucket& bucket = it->second;
  bucket.tokens_ns = std::min(kCapacityNs, bucket.tokens_ns + refill_ns(bucket.last, now));
  bucket.last = std::max(bucket.last, now);
  if (bucket.tokens_ns < kCostNs) return false;
  bucket.tokens_ns -= kCostNs;
  return true;
}

void RateLimiter::collect(Instant now) {
  std::erase_if(buckets_,
                [now](const auto& entry) { return now - entry.second.last >= kIdleExpiry; });
  next_collect_ = now + kCollectInterval;
}

}  // namespace gw::session
