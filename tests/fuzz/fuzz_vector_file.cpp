// SPDX-License-Identifier: MIT
// libFuzzer target: the cacophony-format vector reader and replayer.
#include <cstdint>
#include <string_view>

#include "vectors/vector_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const gw::vectors::VectorFile file = gw::vectors::parse_vector_file(text);
  for (const auto& v : file.vectors)
    (void)gw::vectors::replay(v);
  return 0;
}
