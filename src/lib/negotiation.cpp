// SPDX-License-Identifier: MIT
#include "negotiation.hpp"

#include <algorithm>
#include <string_view>

#include <sodium.h>

#include "gw/constants.hpp"
#include "gw/session/suites.hpp"

namespace gw::lib::negotiation {

namespace {

constexpr std::string_view kLabel = "gw channel v1";

}  // namespace

Header header(std::uint8_t suite, std::uint8_t flags, const wire::Offer& offer) noexcept {
  Header h{kInitiation, kVersion, suite, flags};
  wire::write_offer(std::span<std::uint8_t>(h).subspan(4), offer);
  return h;
}

Status suite_ids(const std::vector<std::string>& names, std::vector<std::uint8_t>& out) {
  out.clear();
  if (names.empty()) {
    out = session::default_suites();
    return {};
  }
  if (names.size() > wire_spec::kMaxOfferedSuites) {
    return fail(Errc::invalid_argument,
                "suites: more than " + std::to_string(wire_spec::kMaxOfferedSuites));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string where = "suites[" + std::to_string(i) + "]: ";
    std::uint8_t id = 0;
    for (std::uint8_t candidate = 1; session::suite_name(candidate) != nullptr; ++candidate) {
      if (names[i] == session::suite_name(candidate)) id = candidate;
    }
    if (id == 0) {
      return fail(Errc::invalid_argument,
                  where + "unknown suite '" + names[i] +
                      "' (known: ChaChaPoly_BLAKE2b, AESGCM_SHA256, ChaChaPoly_SHA256)");
    }
    if (!session::suite_available(id)) {
      return fail(Errc::unsupported, where + names[i] + " does not run on this CPU (no AES-NI)");
    }
    if (std::find(out.begin(), out.end(), id) != out.end()) {
      return fail(Errc::invalid_argument, where + names[i] + " listed twice");
    }
    out.push_back(id);
  }
  return {};
}

std::vector<std::uint8_t> prologue(const Header& h, const FirstHash* first, ByteView caller) {
  std::vector<std::uint8_t> p(kLabel.begin(), kLabel.end());
  p.insert(p.end(), h.begin(), h.end());
  if (first != nullptr) p.insert(p.end(), first->begin(), first->end());
  p.insert(p.end(), caller.begin(), caller.end());
  return p;
}

FirstHash first_hash(ByteView initiation, ByteView retry) noexcept {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, initiation.data(), initiation.size());
  crypto_hash_sha256_update(&st, retry.data(), retry.size());
  FirstHash h{};
  crypto_hash_sha256_final(&st, h.data());
  return h;
}

std::string suite_list(std::span<const std::uint8_t> ids) {
  std::string s = "[";
  for (const std::uint8_t id : ids) {
    if (s.size() > 1) s += ", ";
    const char* name = session::suite_name(id);
    s += name != nullptr ? name : "suite " + std::to_string(id);
  }
  return s + "]";
}

}  // namespace gw::lib::negotiation
