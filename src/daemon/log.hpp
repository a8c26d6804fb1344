// SPDX-License-Identifier: MIT
// gwd's log: one line per event on stderr, "gwd[IFACE]: LEVEL: message".
// Lines never carry a secret: keys appear only as public keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::daemon {

enum class Level : std::uint8_t { debug, info, warn, error };
std::optional<Level> parse_level(std::string_view text) noexcept;
const char* to_string(Level level) noexcept;

class Log {
 public:
  Log(std::string tag, Level min) : tag_(std::move(tag)), min_(min) {}
  bool enabled(Level level) const noexcept { return level >= min_; }
  void set_tag(std::string tag) { tag_ = std::move(tag); }
  // One write(2) per line, so lines from several processes never interleave.
  void write(Level level, std::string_view message) const noexcept;
  void debug(std::string_view m) const noexcept { write(Level::debug, m); }
  void info(std::string_view m) const noexcept { write(Level::info, m); }
  void warn(std::string_view m) const noexcept { write(Level::warn, m); }
  void error(std::string_view m) const noexcept { write(Level::error, m); }

 private:
  std::string tag_;
  Level min_;
};

// Lets through `burst` lines, then one per `interval`, and says how many it
// held back: for events an attacker can cause at will (drops of bad datagrams).
class LogLimiter {
 public:
  LogLimiter() : LogLimiter(std::chrono::seconds(1), 5) {}
  LogLimiter(std::chrono::steady_clock::duration interval, unsigned burst)
      : interval_(interval), burst_(burst), tokens_(burst) {}
  // Whether to log now; `suppressed` is set to the lines held back since the last one.
  bool allow(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed) noexcept;

 private:
  std::chrono::steady_clock::duration interval_;
  unsigned burst_;
  unsigned tokens_;
  std::chrono::steady_clock::time_point last_refill_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace gw::daemon
