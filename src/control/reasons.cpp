// SPDX-License-Identifier: MIT
#include "gw/control/reasons.hpp"

namespace gw::control {

using session::Drop;

const char* drop_reason(Drop d) noexcept {
  // No default: -Wswitch names an enumerator added without a name here.
  switch (d) {
    case Drop::malformed:
      return "malformed";
    case Drop::bad_mac1:
      return "bad_mac1";
    case Drop::under_load:
      return "under_load";
    case Drop::rate_limited:
      return "rate_limited";
    case Drop::replayed_initiation:
      return "replayed_initiation";
    case Drop::unknown_index:
      return "unknown_index";
    case Drop::decrypt_failed:
      return "decrypt_failed";
    case Drop::replay:
      return "replay";
    case Drop::outside_window:
      return "outside_window";
    case Drop::expired_keypair:
      return "expired_keypair";
    case Drop::bad_inner_packet:
      return "bad_inner_packet";
    case Drop::unsupported_version:
      return "unsupported_version";
    case Drop::no_common_suite:
      return "no_common_suite";
    case Drop::negotiation_failed:
      return "negotiation_failed";
    case Drop::bad_retry:
      return "bad_retry";
    case Drop::identity_mismatch:
      return "identity_mismatch";
    case Drop::unknown_peer:
      return "unknown_peer";
    case Drop::psk_mismatch:
      return "psk_mismatch";
    case Drop::psk_required:
      return "psk_required";
    case Drop::psk_not_configured:
      return "psk_not_configured";
    case Drop::bad_payload:
      return "bad_payload";
    case Drop::critical_extension:
      return "critical_extension";
    case Drop::too_many_handshakes:
      return "too_many_handshakes";
    case Drop::no_session:
      return "no_session";
    case Drop::not_admitted:
      return "not_admitted";
    case Drop::unproven_source:
      return "unproven_source";
    case Drop::count_:
      break;
  }
  return "unknown";
}

bool is_handshake_failure(Drop d) noexcept {
  switch (d) {
    case Drop::unsupported_version:
    case Drop::no_common_suite:
    case Drop::negotiation_failed:
    case Drop::bad_retry:
    case Drop::identity_mismatch:
    case Drop::unknown_peer:
    case Drop::psk_mismatch:
    case Drop::psk_required:
    case Drop::psk_not_configured:
    case Drop::bad_payload:
    case Drop::critical_extension:
    case Drop::not_admitted:
      return true;
    default:
      return false;
  }
}

}  // namespace gw::control
