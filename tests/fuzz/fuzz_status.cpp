// SPDX-License-Identifier: MIT
// libFuzzer target: the status reader (what gwctl makes of gwd's reply to
// "show"). Any JSON either reads into a status that to_json() writes and
// status_from_json() reads back equal, or is refused with an error naming a
// JSON path; nothing throws. A status read also goes through to_prometheus(),
// whatever its strings hold.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "gw/control/status.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  std::string error;
  const std::optional<gw::control::Status> s = gw::control::status_from_json(j, error);
  if (!s) {
    if (error.rfind("$", 0) != 0) std::abort();
    return 0;
  }
  const std::optional<gw::control::Status> again =
      gw::control::status_from_json(gw::control::to_json(*s), error);
  if (!again || !(*again == *s)) std::abort();
  if (gw::control::to_prometheus(*s).empty()) std::abort();
  return 0;
}
