// SPDX-License-Identifier: MIT
#include "gw/session/suites.hpp"

#include <array>
#include <string>

namespace gw::session {

namespace {

struct Entry {
  std::uint8_t id;
  const char* name;
};

constexpr std::array<Entry, 3> kSuites{{
    {1, "ChaChaPoly_BLAKE2b"},
    {2, "AESGCM_SHA256"},
    {3, "ChaChaPoly_SHA256"},
}};

// Protocols parsed once: [suite index][psk].
struct Table {
  std::array<std::array<std::optional<noise::Protocol>, 2>, kSuites.size()> protocols;
  Table() {
    for (std::size_t i = 0; i < kSuites.size(); ++i) {
      for (const bool psk : {false, true}) {
        const std::string name =
            std::string(psk ? "Noise_XXpsk3_25519_" : "Noise_XX_25519_") + kSuites[i].name;
        noise::ParseResult r = noise::parse_protocol(name);
        if (r) protocols[i][psk ? 1 : 0] = *r.protocol;  // AESGCM may be unavailable
      }
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

const char* suite_name(std::uint8_t id) noexcept {
  for (const Entry& e : kSuites) {
    if (e.id == id) return e.name;
  }
  return nullptr;
}

const noise::Protocol* suite_protocol(std::uint8_t id, bool psk) noexcept {
  if (id == 0 || id > kSuites.size()) return nullptr;
  const auto& p = table().protocols[id - 1][psk ? 1 : 0];
  return p ? &*p : nullptr;
}

bool suite_available(std::uint8_t id) noexcept {
  return suite_protocol(id, false) != nullptr;
}

std::vector<std::uint8_t> default_suites() {
  std::vector<std::uint8_t> ids;
  for (const std::uint8_t id : {std::uint8_t{1}, std::uint8_t{3}, std::uint8_t{2}}) {
    if (suite_available(id)) ids.push_back(id);
  }
  return ids;
}

std::uint8_t pick_suite(std::span<const std::uint8_t> policy, const wire::Offer& offer) noexcept {
  for (const std::uint8_t id : policy) {
    if (offer.contains(id) && suite_available(id)) return id;
  }
  return 0;
}

}  // namespace gw::session
