// SPDX-License-Identifier: MIT
// gw's cipher suites (docs/PROTOCOL.md, section 2) and the responder's pick.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "gw/noise/protocol.hpp"
#include "gw/wire/payloads.hpp"

namespace gw::session {

enum class Suite : std::uint8_t {
  chachapoly_blake2b = 1,  // the default
  aesgcm_sha256 = 2,       // only where the CPU runs AES-256-GCM
  chachapoly_sha256 = 3,
};

// A short name for logs and status ("ChaChaPoly_BLAKE2b"), or nullptr.
const char* suite_name(std::uint8_t id) noexcept;
// Known to gw and runnable on this machine.
bool suite_available(std::uint8_t id) noexcept;
// The Noise protocol of a suite, XX or XXpsk3; nullptr if not available.
// Parsed once and kept: the handshake path parses no names.
const noise::Protocol* suite_protocol(std::uint8_t id, bool psk) noexcept;
// Every available suite, in gw's default order of preference.
std::vector<std::uint8_t> default_suites();
// The first suite of `policy` that the offer lists and this machine runs, or 0.
std::uint8_t pick_suite(std::span<const std::uint8_t> policy, const wire::Offer& offer) noexcept;

}  // namespace gw::session
