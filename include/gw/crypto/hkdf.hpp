// SPDX-License-Identifier: MIT
// HKDF as the Noise Protocol Framework defines it (section 4.3): HMAC-based
// extract-and-expand (RFC 5869) with an empty info and two or three outputs.
#pragma once

#include "gw/bytes.hpp"
#include "gw/crypto/hash.hpp"

namespace gw::crypto {

// out1, out2 (and out3 unless it is empty) each receive hash_len(alg) bytes:
//   temp_key = HMAC(chaining_key, ikm)
//   out1 = HMAC(temp_key, 0x01); out2 = HMAC(temp_key, out1 || 0x02);
//   out3 = HMAC(temp_key, out2 || 0x03)
// The outputs may not overlap the inputs.
void hkdf(HashAlg alg, Bytes chaining_key, Bytes ikm, MutBytes out1, MutBytes out2,
          MutBytes out3 = {}) noexcept;

}  // namespace gw::crypto
