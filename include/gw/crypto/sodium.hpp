// SPDX-License-Identifier: MIT
// libsodium start-up. Every crypto entry point that depends on sodium_init()
// (randomness, CPU feature detection) calls ensure_sodium() first; it is cheap
// after the first call and safe from any thread.
#pragma once

namespace gw::crypto {

// Initialises libsodium once. Throws std::runtime_error if it cannot.
void ensure_sodium();

}  // namespace gw::crypto
