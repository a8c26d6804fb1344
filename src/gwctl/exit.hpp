// SPDX-License-Identifier: MIT
// gwctl's exit codes and its one-line errors, shared by every command.
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

}  // namespace gw::gwctl
