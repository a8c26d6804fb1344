// SPDX-License-Identifier: MIT
// A deterministic Rng for tests: the same seed gives the same stream.
#pragma once

#include <array>
#include <cstdint>

#include <sodium.h>

#include "gw/crypto/random.hpp"

namespace gw::test {

class FakeRng final : public crypto::Rng {
 public:
  explicit FakeRng(std::uint64_t seed = 1) {
    seed_[0] = static_cast<std::uint8_t>(seed);
    seed_[1] = static_cast<std::uint8_t>(seed >> 8);
    seed_[2] = static_cast<std::uint8_t>(seed >> 16);
    seed_[3] = static_cast<std::uint8_t>(seed >> 24);
  }

  void fill(MutBytes out) override {
    if (out.empty()) return;  // libsodium's pointer must not be null
    // Each call draws from a fresh seed: the base seed with a call counter.
    std::array<std::uint8_t, randombytes_SEEDBYTES> seed = seed_;
    for (std::size_t i = 0; i < 8; ++i)
      seed[8 + i] = static_cast<std::uint8_t>(calls_ >> (8 * i));
    ++calls_;
    randombytes_buf_deterministic(out.data(), out.size(), seed.data());
  }

  std::uint64_t calls() const { return calls_; }

 private:
  std::array<std::uint8_t, randombytes_SEEDBYTES> seed_{};
  std::uint64_t calls_ = 0;
};

}  // namespace gw::test
