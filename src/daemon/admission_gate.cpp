// SPDX-License-Identifier: MIT
// The engine's authorizer: admission's pure decisions (admission.hpp) on the
// gateway's trust and peers. It changes nothing during the engine's call: an
// admitted certificate's grant waits in candidate_ until the engine reports
// the handshake done (events.cpp commits it); a refused peer the engine
// forgets itself. retrust() applies new CAs and revocations at reload.
#include "gateway.hpp"

namespace gw::daemon {

void Gateway::count_refusal(const crypto::PublicKey& key, const std::string& name,
                            const std::string& why) {
  ++counters_.cert_refusals[why];
  std::uint64_t held = 0;
  if (cert_limits_[why.substr(0, why.find(' '))].allow(Clock::now(), held)) {
    log_.warn("refused the certificate" + (name.empty() ? "" : " of " + name) + " with key " +
              key_text(key) + ": " + why +
              (held != 0 ? " (" + std::to_string(held) + " more not logged)" : ""));
  }
}

session::Admission Gateway::authorize(Instant now, session::Role our_role,
                                      const crypto::PublicKey& key, std::optional<PeerId> known,
                                      const wire::ExtensionList& extensions) {
  (void)our_role;  // the same rules in both roles
  const auto info = known ? peers_.find(*known) : peers_.end();
  const bool certified = info != peers_.end() && info->second.certificate.has_value();
  switch (gate(known.has_value(), certified, !cas_.empty(),
               extensions.find(wire_spec::kExtCertificate) != nullptr)) {
    case Gate::existing:
      return session::Admission::existing(*known);
    case Gate::refuse:
      return session::Admission::refuse();
    case Gate::verify:
      break;
  }
  const std::string name = info != peers_.end() ? info->second.name : "";
  const PeerId self = known.value_or(session::kNoPeer);
  const Verdict v =
      decide({cas_, revoked_, config_.certificate_exit_nodes}, unix_now(), key, extensions,
             [&](const routing::Prefix& p) { return prefix_conflict(p, self); });
  if (!v.admit) {
    count_refusal(key, v.name.empty() ? name : v.name, v.reason);
    return session::Admission::refuse();  // a known one is forgotten by the engine
  }
  const identity::Certificate& cert = v.grant->certificate;
  // The sessions end when the certificate does, whoever starts the next handshake.
  const Instant until = now + std::chrono::seconds(cert.not_after - unix_now());
  candidate_.emplace(key, *v.grant);
  if (known) return session::Admission::existing(*known, until);
  session::PeerConfig pc;
  pc.name = cert.name;
  return session::Admission::add(std::move(pc), until);
}

std::vector<std::string> Gateway::retrust(std::vector<identity::CaPublicKey> cas,
                                          identity::RevocationList revoked) {
  cas_ = std::move(cas);
  revoked_ = std::move(revoked);
  std::vector<std::string> removed;
  std::vector<PeerId> refused;
  for (const auto& [id, info] : peers_) {
    if (!info.certificate) continue;
    const identity::CertError verdict = identity::verify(*info.certificate, cas_, revoked_,
                                                         unix_now(), info.certificate->public_key);
    if (verdict == identity::CertError::ok) continue;
    log_.info("peer " + info.name + " removed: " + identity::to_string(verdict));
    ++counters_.cert_refusals[identity::reason(verdict)];
    removed.push_back(info.name);
    refused.push_back(id);
  }
  for (const PeerId id : refused)
    remove_running_peer(id);
  return removed;
}

}  // namespace gw::daemon
