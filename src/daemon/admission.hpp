// SPDX-License-Identifier: MIT
// Certificate admission as a pure decision (docs/CERTIFICATES.md, section 11):
// given the certificate a handshake carried, the gateway's trust (CAs and
// revocations), the time and a way to ask who routes a prefix, it says
// refuse (and why) or admit, with the grant the certificate makes. It changes
// nothing: gwd's authorizer hands the verdict to the engine, and commits the
// grant (allowed IPs, routes, name) when the handshake is done.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gw/crypto/x25519.hpp"
#include "gw/identity/certificate.hpp"
#include "gw/routing/allowed_ips.hpp"
#include "gw/wire/payloads.hpp"

namespace gw::daemon {

// What a certificate grants its holder: the addresses it may send from and
// that are routed to it. Each address is a host prefix (/32, /128), then
// each subnet as it is.
struct Grant {
  identity::Certificate certificate;
  std::vector<routing::Prefix> prefixes;
};

// Each address as a host prefix, then each subnet; all masked.
std::vector<routing::Prefix> grant_prefixes(const identity::Certificate& cert);

struct Verdict {
  bool admit = false;
  // Refused: a reason code (identity::reason()'s, or no_certificate,
  // malformed, default_route, address_taken), then maybe " (detail)".
  std::string reason;
  std::optional<Grant> grant;  // admitted
  std::string name;            // the certificate's holder, when it decoded

  // The reason's code alone: "address_taken" of "address_taken (10.0.0.0/8)".
  std::string code() const { return reason.substr(0, reason.find(' ')); }
};

struct Trust {
  const std::vector<identity::CaPublicKey>& cas;
  const identity::RevocationList& revoked;
  // Certificates may carry default routes (0.0.0.0/0, ::/0): exit nodes.
  bool exit_nodes = false;
};

// Why `prefix` may not be granted (the gateway's own address, an underlay
// route, another peer's prefix: a detail for the log), or nullopt.
using ConflictCheck = std::function<std::optional<std::string>(const routing::Prefix& prefix)>;

// The first question about a handshake's peer, before any certificate is
// read: a configured peer (known, not by certificate) is itself; with no
// trusted CA, or from a stranger that shows no certificate, the answer is no
// (one admitted by a certificate that shows none now is refused by name);
// anything else has its certificate verified (decide).
enum class Gate : std::uint8_t { existing, refuse, verify };
Gate gate(bool known, bool certified, bool have_cas, bool shows_certificate) noexcept;

// The decision for a peer whose handshake proved `key` and carried
// `extensions` (type 1: its certificate), at Unix time `now`.
Verdict decide(const Trust& trust, std::int64_t now, const crypto::PublicKey& key,
               const wire::ExtensionList& extensions, const ConflictCheck& conflict);

}  // namespace gw::daemon
