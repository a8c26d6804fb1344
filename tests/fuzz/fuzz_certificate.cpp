// SPDX-License-Identifier: MIT
// libFuzzer target: certificates. The input is tried three ways:
//  * as a binary encoding: decode() refuses it with an error, or encode() of
//    what it read gives back exactly the input (one encoding per
//    certificate); verify() then runs without crashing, and the same fields
//    signed by the fuzzer's own CA verify, within their dates only;
//  * as armoured text: dearmor() refuses it with an error, or its
//    certificate survives armor() and dearmor() unchanged;
//  * as a revocation list: parse() refuses it naming a line, or to_text()
//    parses back to the same list.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "gw/identity/certificate.hpp"

using namespace gw::identity;

namespace {

// The seed corpus is signed by this CA (seed: 32 bytes of 0x01), so mutations
// of it reach the signature check and the steps after it.
const CaKey& fuzz_ca() {
  static const CaKey ca = [] {
    gw::crypto::Secret<kCaSeedLen> seed;
    for (std::size_t i = 0; i < seed.size(); ++i)
      seed.data()[i] = 1;
    return CaKey::from_seed(seed);
  }();
  return ca;
}

void binary(gw::Bytes input) {
  std::string error;
  const auto cert = decode(input, &error);
  if (!cert) {
    if (error.empty()) std::abort();
    return;
  }
  const std::vector<std::uint8_t> again = encode(*cert);
  if (again.size() != input.size() || !std::equal(again.begin(), again.end(), input.begin())) {
    std::abort();
  }
  const CaKey& ca = fuzz_ca();
  const std::vector<CaPublicKey> trusted = {ca.public_key};
  RevocationList revoked;
  const CertError found = verify(*cert, trusted, revoked, cert->not_before, cert->public_key);
  if (found != CertError::ok && found != CertError::bad_signature &&
      found != CertError::unknown_ca) {
    std::abort();  // at not_before, with its own key and nothing revoked
  }
  if (reason(found) == nullptr || to_string(found) == nullptr) std::abort();

  const auto signed_cert = sign(*cert, ca, &error);
  if (!signed_cert) std::abort();  // decode() accepted every field
  if (verify(*signed_cert, trusted, revoked, cert->not_before) != CertError::ok ||
      verify(*signed_cert, trusted, revoked, cert->not_after) != CertError::expired) {
    std::abort();
  }
  if (cert->not_before != std::numeric_limits<std::int64_t>::min() &&
      verify(*signed_cert, trusted, revoked, cert->not_before - 1) != CertError::not_yet_valid) {
    std::abort();
  }
  revoked.add(fingerprint(*signed_cert));
  if (verify(*signed_cert, trusted, revoked, cert->not_before) != CertError::revoked) std::abort();
  if (decode(encode(*signed_cert)) != signed_cert) std::abort();
}

void armoured(std::string_view text) {
  std::string error;
  const auto cert = dearmor(text, &error);
  if (!cert) {
    if (error.empty()) std::abort();
    return;
  }
  if (dearmor(armor(*cert)) != cert) std::abort();
}

void revocations(std::string_view text) {
  std::string error;
  const auto list = RevocationList::parse(text, &error);
  if (!list) {
    if (error.rfind("line ", 0) != 0) std::abort();
    return;
  }
  const std::string out = list->to_text();
  const auto again = RevocationList::parse(out);
  if (!again || again->to_text() != out || again->size() != list->size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  binary({data, size});
  armoured(text);
  revocations(text);
  return 0;
}
