// SPDX-License-Identifier: MIT
// Drop reasons (include/gw/control/reasons.hpp): every enumerator's name, in
// order, each distinct and usable as a JSON key and a Prometheus label value;
// which of them are handshake failures.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <regex>
#include <set>
#include <string>

#include "gw/control/reasons.hpp"

using gw::control::drop_reason;
using gw::control::is_handshake_failure;
using gw::session::Drop;

namespace {

constexpr std::size_t kCount = static_cast<std::size_t>(Drop::count_);

Drop nth(std::size_t i) {
  return static_cast<Drop>(i);
}

// The enumerators of gw::session::Drop as engine.hpp spells them, in order.
constexpr std::array<const char*, kCount> kNames = {
    "malformed",           "bad_mac1",           "under_load",          "rate_limited",
    "replayed_initiation", "unknown_index",      "decrypt_failed",      "replay",
    "outside_window",      "expired_keypair",    "bad_inner_packet",    "unsupported_version",
    "no_common_suite",     "negotiation_failed", "bad_retry",           "identity_mismatch",
    "unknown_peer",        "psk_mismatch",       "psk_required",        "psk_not_configured",
    "bad_payload",         "critical_extension", "too_many_handshakes", "no_session",
    "not_admitted",        "unproven_source",
};

}  // namespace

TEST_CASE("reasons: drop_reason names every enumerator as engine.hpp spells it") {
  for (std::size_t i = 0; i < kCount; ++i) {
    CAPTURE(i);
    CHECK(std::string(drop_reason(nth(i))) == kNames[i]);
  }
  CHECK(std::string(drop_reason(Drop::count_)) == "unknown");
}

TEST_CASE("reasons: names are distinct, snake case, valid label values") {
  // Stricter than a label value needs (any UTF-8): a plain identifier is also
  // a JSON key a script can write without quoting and a metric name suffix.
  const std::regex snake("[a-z][a-z0-9]*(_[a-z0-9]+)*");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::string name = drop_reason(nth(i));
    CAPTURE(name);
    CHECK(std::regex_match(name, snake));
    CHECK(seen.insert(name).second);
    CHECK(name != "unknown");
  }
  CHECK(seen.size() == kCount);
}

TEST_CASE("reasons: is_handshake_failure is true for the refusals only") {
  const std::set<std::string> refusals = {
      "unsupported_version", "no_common_suite", "negotiation_failed", "bad_retry",
      "identity_mismatch",   "unknown_peer",    "psk_mismatch",       "psk_required",
      "psk_not_configured",  "bad_payload",     "critical_extension", "not_admitted",
  };
  std::size_t failures = 0;
  for (std::size_t i = 0; i < kCount; ++i) {
    const Drop d = nth(i);
    CAPTURE(drop_reason(d));
    CHECK(is_handshake_failure(d) == (refusals.count(drop_reason(d)) == 1));
    if (is_handshake_failure(d)) ++failures;
  }
  CHECK(failures == refusals.size());
  CHECK_FALSE(is_handshake_failure(Drop::count_));
}
