// SPDX-License-Identifier: MIT
// libFuzzer target: the interface config parser. Any input either parses into
// a config that to_json() writes and parse_config() reads back equal, or is
// refused with at least one error, each naming the file.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gw/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const gw::config::ParseResult r = gw::config::parse_config(text, "fuzz.json");
  if (!r) {
    if (r.errors.empty()) std::abort();
    for (const std::string& e : r.errors) {
      if (e.rfind("fuzz.json: ", 0) != 0) std::abort();
    }
    return 0;
  }
  if (!r.errors.empty()) std::abort();
  const std::string json = gw::config::to_json(*r.config);
  const gw::config::ParseResult again = gw::config::parse_config(json, "again.json");
  if (!again || !(*again.config == *r.config)) std::abort();
  if (gw::config::to_json(*again.config) != json) std::abort();
  return 0;
}
