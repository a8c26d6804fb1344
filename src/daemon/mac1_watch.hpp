// SPDX-License-Identifier: MIT
// Notices a source whose initiations keep failing mac1: the likeliest cause
// is a peer configured with a wrong public key for this gateway (or, with a
// network key, a wrong network key), and its operator sees nothing but
// unanswered handshakes. Pure: time comes with each call.
#pragma once

#include <cstdint>
#include <map>

#include "gw/session/rate_limiter.hpp"
#include "gw/time.hpp"

namespace gw::daemon {

class Mac1Watch {
 public:
  static constexpr unsigned kThreshold = 3;  // failures within kWindow
  static constexpr Duration kWindow = std::chrono::seconds(60);
  static constexpr Duration kRepeat = std::chrono::minutes(5);  // one warning per source
  static constexpr std::size_t kMaxSources = 1024;

  // Notes one failed initiation from `source`; returns the failures seen in
  // the window when a warning is due now, else 0.
  unsigned note(Instant now, const session::SourceKey& source);

 private:
  struct Seen {
    Instant window_start{};
    unsigned count = 0;
    Instant warned{};
    bool ever_warned = false;
  };
  std::map<session::SourceKey, Seen> seen_;
};

}  // namespace gw::daemon
