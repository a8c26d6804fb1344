// SPDX-License-Identifier: MIT
// What the kernel says of the memory at an address: the VmFlags line of the
// mapping that holds it in /proc/self/smaps ("dd": excluded from core dumps,
// "lo": locked). For the tests of locked secrets.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace gw::test {

// The VmFlags of the mapping holding `p` (" rd wr mr mw me dd lo ..."), or
// nullopt when no mapping holds it.
inline std::optional<std::string> vm_flags_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long start = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (line.find(':') == std::string::npos || line.find('-') < line.find(':')) {
      if (head >> std::hex >> start >> dash >> end && dash == '-') {
        inside = address >= start && address < end;
        continue;
      }
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line.substr(8) + " ";
  }
  return std::nullopt;
}

inline bool has_flag(const std::optional<std::string>& flags, const char* flag) {
  return flags && flags->find(std::string(" ") + flag + " ") != std::string::npos;
}

}  // namespace gw::test
