// SPDX-License-Identifier: MIT
#include "gw/crypto/hkdf.hpp"

#include <array>

#include "gw/constants.hpp"
#include "gw/crypto/hmac.hpp"
#include "gw/crypto/secret.hpp"

namespace gw::crypto {

void hkdf(HashAlg alg, Bytes chaining_key, Bytes ikm, MutBytes out1, MutBytes out2,
          MutBytes out3) noexcept {
  const std::size_t len = hash_len(alg);
  Secret<noise_spec::kMaxHashLen> temp_key;
  hmac(alg, chaining_key, ikm, temp_key.bytes());

  // The key is absorbed once; each output continues from a copy of that state.
  const Hmac keyed(alg, temp_key.bytes().first(len));
  const std::uint8_t one = 0x01, two = 0x02, three = 0x03;

  Hmac mac = keyed;
  mac.update({&one, 1});
  mac.final(out1);

  mac = keyed;
  mac.update(out1.first(len));
  mac.update({&two, 1});
  mac.final(out2);

  if (out3.empty()) return;
  mac = keyed;
  mac.update(out2.first(len));
  mac.update({&three, 1});
  mac.final(out3);
}

}  // namespace gw::crypto
