// SPDX-License-Identifier: MIT
#include "command.hpp"

namespace gw::gwctl {

std::optional<std::string> given(const CLI::Option* option, const std::string& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

}  // namespace gw::gwctl
