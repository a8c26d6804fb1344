// SPDX-License-Identifier: MIT
// The source of randomness, injected wherever randomness is used so that tests
// can replace it with a deterministic one.
#pragma once

#include <cstdint>

#include "gw/bytes.hpp"

namespace gw::crypto {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(MutBytes out) = 0;
  std::uint32_t next_u32();
  std::uint64_t next_u64();
  // Uniform in [0, bound); bound must be > 0.
  std::uint32_t uniform(std::uint32_t bound);
};

// libsodium's randombytes (getrandom(2) on Linux).
class SystemRng final : public Rng {
 public:
  void fill(MutBytes out) override;
};

// A process-wide SystemRng.
Rng& system_rng();

}  // namespace gw::crypto
