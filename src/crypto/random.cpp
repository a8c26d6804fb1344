// SPDX-License-Identifier: MIT
#include "gw/crypto/random.hpp"

#include <array>
#include <cstring>

#include <sodium.h>

#include "gw/crypto/sodium.hpp"

namespace gw::crypto {

std::uint32_t Rng::next_u32() {
  std::array<std::uint8_t, 4> b{};
  fill(b);
  std::uint32_t v;
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

std::uint64_t Rng::next_u64() {
  std::array<std::uint8_t, 8> b{};
  fill(b);
  std::uint64_t v;
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

std::uint32_t Rng::uniform(std::uint32_t bound) {
  // Rejection sampling: drop the values of the last incomplete multiple of
  // `bound`, so every residue is equally likely.
  const std::uint32_t limit = static_cast<std::uint32_t>(-bound) % bound;
  for (;;) {
    const std::uint32_t v = next_u32();
    if (v >= limit) return v % bound;
  }
}

void SystemRng::fill(MutBytes out) {
  if (out.empty()) return;
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

Rng& system_rng() {
  static SystemRng rng;
  return rng;
}

}  // namespace gw::crypto
