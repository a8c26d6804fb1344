// SPDX-License-Identifier: MIT
// gwd's certificate admission as a pure decision: what a certificate in a
// handshake is refused for, and the grant it makes when admitted.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "admission.hpp"
#include "gw/constants.hpp"

using namespace gw;
using namespace gw::daemon;
using identity::Certificate;

namespace {

constexpr std::int64_t kNow = 1800000000;

routing::Prefix P(const char* text) {
  return *routing::Prefix::parse(text);
}

crypto::PublicKey key_of(std::uint8_t b) {
  crypto::PublicKey k{};
  k.fill(b);
  return k;
}

struct Fixture {
  identity::CaKey ca = identity::CaKey::generate();
  std::vector<identity::CaPublicKey> cas{ca.public_key};
  identity::RevocationList revoked;
  bool exit_nodes = false;
  std::vector<std::uint8_t> payload = std::vector<std::uint8_t>(2048);
  wire::ExtensionList list;

  Certificate cert(const std::vector<const char*>& subnets = {}) const {
    Certificate c;
    c.name = "laptop";
    c.public_key = key_of(7);
    c.addresses = {P("10.88.0.7/24"), P("fd88::7/64")};
    for (const char* s : subnets)
      c.subnets.push_back(P(s));
    c.not_before = kNow - 60;
    c.not_after = kNow + 3600;
    return *identity::sign(c, ca);
  }
  // The extension list a handshake would carry with `c` (or none).
  const wire::ExtensionList& carrying(const std::optional<Certificate>& c) {
    wire::ExtensionWriter w(payload);
    if (c) {
      const auto bytes = identity::encode(*c);
      REQUIRE(w.add(wire_spec::kExtCertificate, 0, bytes));
    }
    REQUIRE(wire::parse_extensions({payload.data(), w.size()}, list) == wire::ParseStatus::ok);
    return list;
  }
  Verdict decide_with(const std::optional<Certificate>& c, const ConflictCheck& conflict = {}) {
    const ConflictCheck none = [](const routing::Prefix&) { return std::optional<std::string>(); };
    return decide({cas, revoked, exit_nodes}, kNow, key_of(7), carrying(c),
                  conflict ? conflict : none);
  }
};

}  // namespace

TEST_CASE("admission: a valid certificate grants its addresses as host routes and its subnets") {
  Fixture f;
  const Verdict v = f.decide_with(f.cert({"10.2.0.0/24"}));
  REQUIRE(v.admit);
  REQUIRE(v.grant.has_value());
  CHECK(v.grant->certificate.name == "laptop");
  CHECK(v.grant->prefixes ==
        std::vector<routing::Prefix>{P("10.88.0.7/32"), P("fd88::7/128"), P("10.2.0.0/24")});
}

TEST_CASE("admission: refusals name their reason") {
  Fixture f;
  CHECK(f.decide_with(std::nullopt).reason == "no_certificate");
  Certificate other_key = f.cert();
  other_key.public_key = key_of(8);
  other_key = *identity::sign(other_key, f.ca);
  CHECK(f.decide_with(other_key).reason == "key_mismatch");
  Certificate late = f.cert();
  late.not_after = kNow;  // exclusive: over at this second
  late = *identity::sign(late, f.ca);
  CHECK(f.decide_with(late).reason == "expired");
  f.revoked.add(identity::fingerprint(f.cert()));
  const Verdict r = f.decide_with(f.cert());
  CHECK_FALSE(r.admit);
  CHECK(r.reason == "revoked");
  CHECK(r.name == "laptop");  // named in the log although refused
}

TEST_CASE("admission: a default route needs exit nodes allowed") {
  Fixture f;
  for (const char* route : {"0.0.0.0/0", "::/0"}) {
    CAPTURE(route);
    f.exit_nodes = false;
    const Verdict v = f.decide_with(f.cert({route}));
    CHECK_FALSE(v.admit);
    CHECK(v.code() == "default_route");
    f.exit_nodes = true;
    CHECK(f.decide_with(f.cert({route})).admit);
  }
}

TEST_CASE("admission: every prefix of the grant is put to the gateway's conflict check") {
  Fixture f;
  std::vector<routing::Prefix> asked;
  const ConflictCheck taken = [&](const routing::Prefix& p) -> std::optional<std::string> {
    asked.push_back(p);
    if (p == P("10.0.0.0/8")) return std::string("overlaps a network of peer site-b");
    return std::nullopt;
  };
  const Verdict v = f.decide_with(f.cert({"10.0.0.0/8"}), taken);
  CHECK_FALSE(v.admit);
  CHECK(v.code() == "address_taken");
  CHECK(v.reason == "address_taken (10.0.0.0/8: overlaps a network of peer site-b)");
  CHECK(asked.size() == 3);
  asked.clear();
  CHECK(f.decide_with(f.cert({"10.2.0.0/24"}), taken).admit);
  CHECK(asked.size() == 3);
}

TEST_CASE("admission: the gate before any certificate is read") {
  // known, certified, have_cas, shows_certificate
  CHECK(gate(true, false, false, false) == Gate::existing);  // a configured peer: its key
  CHECK(gate(true, false, true, true) == Gate::existing);
  CHECK(gate(false, false, false, true) == Gate::refuse);  // no CA: certificates mean nothing
  CHECK(gate(true, true, false, true) == Gate::refuse);    // the CAs went at reload
  CHECK(gate(false, false, true, false) == Gate::refuse);  // a stranger without a certificate
  CHECK(gate(false, false, true, true) == Gate::verify);
  CHECK(gate(true, true, true, true) == Gate::verify);
  CHECK(gate(true, true, true, false) == Gate::verify);  // refused by name, in decide()
}
