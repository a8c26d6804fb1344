// SPDX-License-Identifier: MIT
// The few fields of an inner IP packet the tunnel reads: version, length,
// source and destination addresses. Bounds are checked; nothing is trusted.
#pragma once

#include <cstddef>
#include <optional>

#include "gw/bytes.hpp"

namespace gw::routing {

// The length an IPv4 or IPv6 packet says it has, if the header is complete
// and that length fits in `packet` (padding may follow). nullopt otherwise.
std::optional<std::size_t> packet_length(Bytes packet) noexcept;

}  // namespace gw::routing
