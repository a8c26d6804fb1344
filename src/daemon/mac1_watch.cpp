// SPDX-License-Identifier: MIT
#include "mac1_watch.hpp"

#include <algorithm>

namespace gw::daemon {

unsigned Mac1Watch::note(Instant now, const session::SourceKey& source) {
  if (!seen_.contains(source) && seen_.size() >= kMaxSources) {
    // Full: forget the source whose window began longest ago.
    const auto oldest = std::min_element(
        seen_.begin(), seen_.end(),
        [](const auto& a, const auto& b) { return a.second.window_start < b.second.window_start; });
    seen_.erase(oldest);
  }
  Seen& s = seen_[source];
  if (s.count == 0 || now - s.window_start >= kWindow) {
    s.window_start = now;
    s.count = 0;
  }
  ++s.count;
  if (s.count < kThreshold) return 0;
  if (s.ever_warned && now - s.warned < kRepeat) return 0;
  s.warned = now;
  s.ever_warned = true;
  return s.count;
}

}  // namespace gw::daemon
