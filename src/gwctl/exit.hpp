// SPDX-License-Identifier: MIT
// gwctl's exit codes, its one-line errors and its output, shared by every
// command. Only a command (a function that returns gwctl's exit code) prints
// an error, with fail() or usage(), and returns right after; the helpers
// under it return the error's line instead (docs/DECISIONS.md).
#pragma once

#include <iostream>
#include <string>

namespace gw::gwctl {

inline constexpr int kFailure = 1;  // the command failed
inline constexpr int kUsage = 2;    // the command line is wrong

// "gwctl: LINE" on stderr; returns kFailure.
inline int fail(const std::string& line) {
  std::cerr << "gwctl: " << line << '\n';
  return kFailure;
}

// "gwctl: LINE" on stderr; returns kUsage.
inline int usage(const std::string& line) {
  std::cerr << "gwctl: " << line << '\n';
  return kUsage;
}

// `text` on stdout, flushed; false when it could not be written.
inline bool print(const std::string& text) {
  std::cout << text;
  return static_cast<bool>(std::cout.flush());
}

}  // namespace gw::gwctl
