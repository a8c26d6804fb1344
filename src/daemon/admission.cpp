// SPDX-License-Identifier: MIT
#include "admission.hpp"

#include "gw/constants.hpp"

namespace gw::daemon {

std::vector<routing::Prefix> grant_prefixes(const identity::Certificate& cert) {
  std::vector<routing::Prefix> out;
  for (const routing::Prefix& a : cert.addresses) {
    const auto host = static_cast<std::uint8_t>(routing::address_bits(a.family));
    out.push_back(routing::Prefix{a.family, a.address, host});
  }
  for (const routing::Prefix& n : cert.subnets)
    out.push_back(n.masked());
  return out;
}

namespace {

Verdict refused(std::string reason) {
  Verdict v;
  v.reason = std::move(reason);
  return v;
}

// Why the grant may not be made, judged prefix by prefix over the whole
// prefix: a default route needs exit nodes allowed; every other prefix must
// be free of the gateway's own addresses, its underlay and other peers.
std::optional<std::string> grant_conflict(const Trust& trust,
                                          const std::vector<routing::Prefix>& grant,
                                          const ConflictCheck& conflict) {
  for (const routing::Prefix& p : grant) {
    if (p.length == 0 && !trust.exit_nodes) {
      return "default_route (" + p.to_string() + "; the config does not allow exit nodes)";
    }
    if (auto why = conflict(p)) return "address_taken (" + p.to_string() + ": " + *why + ")";
  }
  return std::nullopt;
}

}  // namespace

Verdict decide(const Trust& trust, std::int64_t now, const crypto::PublicKey& key,
               const wire::ExtensionList& extensions, const ConflictCheck& conflict) {
  const wire::Extension* ext = extensions.find(wire_spec::kExtCertificate);
  if (ext == nullptr) return refused("no_certificate");
  std::string error;
  auto cert = identity::decode(ext->value, &error);
  if (!cert) return refused("malformed (" + error + ")");
  const identity::CertError check = identity::verify(*cert, trust.cas, trust.revoked, now, key);
  Verdict v;
  v.name = cert->name;
  if (check != identity::CertError::ok) {
    v.reason = identity::reason(check);
    return v;
  }
  std::vector<routing::Prefix> prefixes = grant_prefixes(*cert);
  if (auto why = grant_conflict(trust, prefixes, conflict)) {
    v.reason = std::move(*why);
    return v;
  }
  v.admit = true;
  v.grant = Grant{std::move(*cert), std::move(prefixes)};
  return v;
}

Gate gate(bool known, bool certified, bool have_cas, bool shows_certificate) noexcept {
  if (known && !certified) return Gate::existing;
  if (!have_cas) return Gate::refuse;
  if (!known && !shows_certificate) return Gate::refuse;
  return Gate::verify;
}

}  // namespace gw::daemon
