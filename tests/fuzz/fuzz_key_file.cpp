// SPDX-License-Identifier: MIT
// libFuzzer target: the text of key files (include/gw/config/key_file.hpp).
// For any input:
//  * key_kind() and describe_kind() agree: a description, on one line,
//    exactly for the kinds gw knows;
//  * parse_ca_key_text() accepts it only as the kind key_kind() says, and
//    the key it read survives ca_key_text() and a second parse unchanged; a
//    refusal names a line and leaves the output wiped;
//  * wrong_kind() refuses it, for every use, exactly when its kind is known
//    and not the one that use takes, in one line that names it.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gw/config/key_file.hpp"

using namespace gw::config;

namespace {

KeyKind wanted(KeyUse use) {
  if (use == KeyUse::ca_private_key) return KeyKind::ca_private;
  if (use == KeyUse::ca_public_key) return KeyKind::ca_public;
  return KeyKind::key_line;
}

bool one_line(const std::string& s) {
  return s.find('\n') == std::string::npos && s.find('\r') == std::string::npos;
}

void ca_armour(std::string_view text, KeyKind kind, KeyKind found) {
  std::array<std::uint8_t, kKeyLen> key{};
  std::string error;
  if (!parse_ca_key_text(text, kind, key, error)) {
    if (error.rfind("line ", 0) != 0 || key != std::array<std::uint8_t, kKeyLen>{}) std::abort();
    return;
  }
  if (found != kind) std::abort();
  const std::string again = ca_key_text(kind, key);
  std::array<std::uint8_t, kKeyLen> back{};
  if (!parse_ca_key_text(again, kind, back, error) || back != key || key_kind(again) != kind) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const KeyKind kind = key_kind(text);
  const std::string described = describe_kind(text);
  if (described.empty() != (kind == KeyKind::other) || !one_line(described)) std::abort();
  ca_armour(text, KeyKind::ca_private, kind);
  ca_armour(text, KeyKind::ca_public, kind);
  for (const KeyUse use : {KeyUse::private_key, KeyUse::psk, KeyUse::public_key,
                           KeyUse::ca_private_key, KeyUse::ca_public_key}) {
    const auto wrong = wrong_kind(text, use, "f");
    if (wrong.has_value() != (kind != KeyKind::other && kind != wanted(use))) std::abort();
    if (wrong &&
        (!one_line(*wrong) || wrong->rfind("f: this is " + described + ", not ", 0) != 0)) {
      std::abort();
    }
  }
  return 0;
}
