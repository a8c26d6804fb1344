// SPDX-License-Identifier: MIT
// Byte views used across gw. libsodium speaks `unsigned char`, so gw's byte
// type is std::uint8_t: no casts between the code and the library it calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gw {

using Bytes = std::span<const std::uint8_t>;
using MutBytes = std::span<std::uint8_t>;

}  // namespace gw
