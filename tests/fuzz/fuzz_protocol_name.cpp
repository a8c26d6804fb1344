// SPDX-License-Identifier: MIT
// libFuzzer target: the Noise protocol-name parser. Any input either parses
// into a protocol whose name is the input, or is refused with a reason.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gw/noise/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  const gw::noise::ParseResult r = gw::noise::parse_protocol(name);
  if (r) {
    if (!r.protocol || r.protocol->name() != name) std::abort();
    for (std::size_t i = 0; i < r.protocol->pattern.message_count; ++i) {
      if (r.protocol->pattern.messages[i].size == 0 && r.protocol->psk_count == 0) std::abort();
    }
  } else if (r.message.empty()) {
    std::abort();
  }
  return 0;
}
