// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <unistd.h>

#include <cerrno>

namespace gw::daemon {

std::optional<Level> parse_level(std::string_view text) noexcept {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn" || text == "warning") return Level::warn;
  if (text == "error") return Level::error;
  return std::nullopt;
}

const char* to_string(Level level) noexcept {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "?";
}

void Log::write(Level level, std::string_view message) const noexcept {
  if (!enabled(level)) return;
  try {
    std::string line = "gwd[" + tag_ + "]: " + to_string(level) + ": ";
    line.append(message);
    line.push_back('\n');
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  } catch (...) {
    // Out of memory for a log line: drop the line, keep the tunnel.
  }
}

bool LogLimiter::allow(std::chrono::steady_clock::time_point now,
                       std::uint64_t& suppressed) noexcept {
  if (now - last_refill_ >= interval_) {
    const auto periods = (now - last_refill_) / interval_;
    tokens_ = periods >= burst_
                  ? burst_
                  : std::min<unsigned>(burst_, tokens_ + static_cast<unsigned>(periods));
    last_refill_ = now;
  }
  if (tokens_ == 0) {
    ++suppressed_;
    return false;
  }
  --tokens_;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace gw::daemon
