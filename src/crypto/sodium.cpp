// SPDX-License-Identifier: MIT
#include "gw/crypto/sodium.hpp"

#include <stdexcept>

#include <sodium.h>

namespace gw::crypto {

void ensure_sodium() {
  // sodium_init() is thread-safe and idempotent; the static keeps later calls
  // to a single load.
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace gw::crypto
