// SPDX-License-Identifier: MIT
// gwctl's certificate commands, their pure half (src/gwctl/cert_commands.hpp):
// durations, times, lists, and the `gwctl cert show` text and JSON of a fixed
// certificate; and the kinds of key file each command takes, called directly
// with their output captured. The commands end to end run in test_cert_cli.sh.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <ctime>

#include <array>
#include <cstdint>
#include <iostream>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../src/gwctl/cert_commands.hpp"
#include "config/temp_dir.hpp"
#include "gw/config/key_file.hpp"
#include "gw/identity/certificate.hpp"

using gw::gwctl::cert_show_json;
using gw::gwctl::cert_show_text;
using gw::gwctl::iso8601_utc;
using gw::gwctl::parse_duration;
using gw::gwctl::parse_group_list;
using gw::gwctl::parse_prefix_list;
using gw::gwctl::parse_unix_time;
using gw::gwctl::valid_cert_name;
using gw::gwctl::validity_text;

namespace {

constexpr std::int64_t kNotBefore = 1735689600;  // 2025-01-01T00:00:00Z
constexpr std::int64_t kNotAfter = 1767225600;   // 2026-01-01T00:00:00Z
const std::string kHolderKey = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

gw::identity::CaKey fixed_ca() {
  gw::crypto::Secret<gw::identity::kCaSeedLen> seed;
  for (std::size_t i = 0; i < seed.size(); ++i)
    seed.data()[i] = static_cast<std::uint8_t>(i + 1);
  return gw::identity::CaKey::from_seed(seed);
}

gw::identity::Certificate fixed_certificate() {
  gw::identity::Certificate c;
  c.name = "laptop";
  c.public_key = *gw::config::parse_public_key(kHolderKey);
  c.addresses = {*gw::routing::Prefix::parse("10.88.0.2/24"),
                 *gw::routing::Prefix::parse("fd88::2/64")};
  c.subnets = {*gw::routing::Prefix::parse("10.2.0.0/24")};
  c.groups = {"dev", "ops"};
  c.not_before = kNotBefore;
  c.not_after = kNotAfter;
  auto signed_cert = gw::identity::sign(c, fixed_ca());
  REQUIRE(signed_cert);
  return *signed_cert;
}

// What the C library says, for comparison.
std::string gmtime_text(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  REQUIRE(::gmtime_r(&tt, &tm) != nullptr);
  std::array<char, 64> buf{};
  REQUIRE(std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
  return buf.data();
}

}  // namespace

TEST_CASE("gwctl cert: durations take one positive number and one unit") {
  CHECK(parse_duration("1s") == 1);
  CHECK(parse_duration("3600s") == 3600);
  CHECK(parse_duration("30m") == 1800);
  CHECK(parse_duration("8760h") == 8760 * 3600);
  CHECK(parse_duration("90d") == 90 * 86400);
  CHECK(parse_duration("365d") == 365 * 86400);
  CHECK(parse_duration("007d") == 7 * 86400);
  // The largest that fits an int64, and one more.
  CHECK(parse_duration("106751991167300d") == std::int64_t{106751991167300} * 86400);
  CHECK_FALSE(parse_duration("106751991167301d"));
  CHECK(parse_duration("9223372036854775807s") == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(parse_duration("9223372036854775808s"));
  CHECK_FALSE(parse_duration("99999999999999999999999s"));

  for (const char* bad :
       {"",   "s",   "d",   "10",  "0s",   "0d",    "-1d", "+1d", "1w",    "1y",  "1D",
        "1H", "1 d", " 1d", "1d ", "1.5h", "1h30m", "1dd", "d1",  "0x10s", "1e3s"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad));
  }
}

TEST_CASE("gwctl cert: Unix times are decimal int64s") {
  CHECK(parse_unix_time("0") == 0);
  CHECK(parse_unix_time("1735689600") == kNotBefore);
  CHECK(parse_unix_time("-1") == -1);
  CHECK(parse_unix_time("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"", "-", "+1", "1.0", " 1", "1 ", "1s", "0x10", "9223372036854775808"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_unix_time(bad));
  }
}

TEST_CASE("gwctl cert: names, prefix lists and group lists") {
  CHECK(valid_cert_name("laptop"));
  CHECK(valid_cert_name("a.b_c@d+e-f"));
  CHECK(valid_cert_name(std::string(64, 'x')));
  CHECK_FALSE(valid_cert_name(std::string(65, 'x')));
  CHECK_FALSE(valid_cert_name(""));
  CHECK_FALSE(valid_cert_name("a b"));
  CHECK_FALSE(valid_cert_name("a/b"));

  std::string error;
  auto addresses = parse_prefix_list("10.88.0.2/24, fd88::2/64", false, error);
  REQUIRE(addresses);
  REQUIRE(addresses->size() == 2);
  CHECK((*addresses)[0].to_string() == "10.88.0.2/24");  // host bits kept for an address
  CHECK((*addresses)[1].to_string() == "fd88::2/64");
  CHECK(parse_prefix_list("", false, error)->empty());
  CHECK(parse_prefix_list(" , ", true, error)->empty());

  CHECK_FALSE(parse_prefix_list("10.88.0.2", false, error));  // the length is required
  CHECK(error == "expected ADDRESS/LENGTH, got \"10.88.0.2\"");
  CHECK_FALSE(parse_prefix_list("10.88.0.0/33", false, error));
  CHECK_FALSE(parse_prefix_list("bogus/8", true, error));
  CHECK(error == "expected ADDRESS/LENGTH, got \"bogus/8\"");
  CHECK_FALSE(parse_prefix_list("10.2.0.1/24", true, error));
  CHECK(error == "\"10.2.0.1/24\" has host bits set (the network is 10.2.0.0/24)");
  CHECK(parse_prefix_list("10.2.0.0/24,fd02::/64", true, error));
  CHECK_FALSE(parse_prefix_list("10.2.0.0/24,10.2.0.0/24", true, error));
  CHECK(error == "\"10.2.0.0/24\" is given twice");

  auto groups = parse_group_list("ops, dev", error);
  REQUIRE(groups);
  CHECK(*groups == std::vector<std::string>{"ops", "dev"});
  CHECK(parse_group_list("", error)->empty());
  CHECK_FALSE(parse_group_list("ops,o/ps", error));
  CHECK(error.find("\"o/ps\" is not a group name") == 0);
  CHECK_FALSE(parse_group_list("ops,ops", error));
  CHECK(error == "\"ops\" is given twice");
}

TEST_CASE("gwctl cert: times print as UTC ISO 8601") {
  CHECK(iso8601_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(iso8601_utc(kNotBefore) == "2025-01-01T00:00:00Z");
  CHECK(iso8601_utc(951782400) == "2000-02-29T00:00:00Z");
  CHECK(iso8601_utc(4107542399) == "2100-02-28T23:59:59Z");
  CHECK(iso8601_utc(4107542400) == "2100-03-01T00:00:00Z");  // 2100 is no leap year
  CHECK(iso8601_utc(-1) == "1969-12-31T23:59:59Z");
  CHECK(iso8601_utc(253402300799) == "9999-12-31T23:59:59Z");
  CHECK(iso8601_utc(253402300800) == "10000-01-01T00:00:00Z");
  // The extremes print something, without overflow (UBSan would say).
  CHECK(iso8601_utc(std::numeric_limits<std::int64_t>::max()).back() == 'Z');
  CHECK(iso8601_utc(std::numeric_limits<std::int64_t>::min()).back() == 'Z');
  // Against the C library over a wide span, a day and an odd second apart.
  for (std::int64_t t = -2208988800; t < 7258118400; t += 86400 * 97 + 7919) {
    CAPTURE(t);
    CHECK(iso8601_utc(t) == gmtime_text(t));
  }
}

TEST_CASE("gwctl cert: validity by the clock, not_before inclusive, not_after exclusive") {
  const gw::identity::Certificate cert = fixed_certificate();
  CHECK(validity_text(cert, kNotBefore - 1) == "not yet valid");
  CHECK(validity_text(cert, kNotBefore) == "valid");
  CHECK(validity_text(cert, kNotAfter - 1) == "valid");
  CHECK(validity_text(cert, kNotAfter) == "expired");
}

TEST_CASE("gwctl cert show: the text of a fixed certificate") {
  const gw::identity::Certificate cert = fixed_certificate();
  const std::string issuer =
      gw::identity::to_hex(gw::identity::ca_fingerprint(fixed_ca().public_key));
  const std::string fp = gw::identity::to_hex(gw::identity::fingerprint(cert));
  REQUIRE(issuer.size() == 64);
  REQUIRE(fp.size() == 64);
  CHECK(cert_show_text(cert, kNotBefore + 10) ==
        "certificate: laptop\n"
        "  public key: " +
            kHolderKey +
            "\n"
            "  addresses: 10.88.0.2/24, fd88::2/64\n"
            "  subnets: 10.2.0.0/24\n"
            "  groups: dev, ops\n"
            "  not before: 2025-01-01T00:00:00Z (1735689600)\n"
            "  not after: 2026-01-01T00:00:00Z (1767225600)\n"
            "  issuer: " +
            issuer +
            "\n"
            "  fingerprint: " +
            fp +
            "\n"
            "  validity: valid\n");
  CHECK(cert_show_text(cert, kNotAfter).find("\n  validity: expired\n") != std::string::npos);
  CHECK(cert_show_text(cert, 0).find("\n  validity: not yet valid\n") != std::string::npos);

  gw::identity::Certificate bare = cert;
  bare.addresses.clear();
  bare.subnets.clear();
  bare.groups.clear();
  const std::string text = cert_show_text(bare, kNotBefore);
  CHECK(text.find("  addresses: (none)\n  subnets: (none)\n  groups: (none)\n") !=
        std::string::npos);
  // Nothing of the CA's seed, in any encoding gwctl uses.
  const gw::identity::CaKey ca = fixed_ca();
  CHECK(cert_show_text(cert, kNotBefore).find(gw::config::to_base64(ca.seed.bytes())) ==
        std::string::npos);
}

TEST_CASE("gwctl cert show --json: an object with the same members") {
  const gw::identity::Certificate cert = fixed_certificate();
  const nlohmann::json j = cert_show_json(cert, kNotBefore);
  const nlohmann::json expected = {
      {"version", 1},
      {"name", "laptop"},
      {"public_key", kHolderKey},
      {"addresses", {"10.88.0.2/24", "fd88::2/64"}},
      {"subnets", {"10.2.0.0/24"}},
      {"groups", {"dev", "ops"}},
      {"not_before", kNotBefore},
      {"not_before_utc", "2025-01-01T00:00:00Z"},
      {"not_after", kNotAfter},
      {"not_after_utc", "2026-01-01T00:00:00Z"},
      {"issuer", gw::identity::to_hex(gw::identity::ca_fingerprint(fixed_ca().public_key))},
      {"fingerprint", gw::identity::to_hex(gw::identity::fingerprint(cert))},
      {"validity", "valid"},
  };
  CHECK(j == expected);
  CHECK(cert_show_json(cert, kNotAfter)["validity"] == "expired");
  CHECK(cert_show_json(cert, kNotBefore - 1)["validity"] == "not_yet_valid");

  gw::identity::Certificate bare = cert;
  bare.addresses.clear();
  bare.subnets.clear();
  bare.groups.clear();
  const nlohmann::json b = cert_show_json(bare, kNotBefore);
  CHECK(b["addresses"] == nlohmann::json::array());
  CHECK(b["subnets"] == nlohmann::json::array());
  CHECK(b["groups"] == nlohmann::json::array());
}

// --- Key kinds: what each command refuses, and the files ca init writes.

namespace {

struct Run {
  int rc = -1;
  std::string out, err;
};

// Runs `command` with std::cout and std::cerr captured.
template <class F>
Run run(F&& command) {
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  Run r;
  r.rc = command();
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A CA made by ca init, a holder's plain key pair and a certificate, in one folder.
struct Pki {
  gw::test::TempDir dir;
  std::string ca = dir.file("ca");
  std::string holder_key = dir.write("holder.key", kHolderKey + "\n", 0600);
  std::string holder_pub = dir.write("holder.pub", kHolderKey + "\n", 0644);
  std::string cert = dir.write("laptop.crt", gw::identity::armor(fixed_certificate()), 0644);
  Pki() {
    REQUIRE(run([&] { return gw::gwctl::ca_init({ca, false}); }).rc == 0);
  }
};

gw::gwctl::CertSignArgs sign_args(const std::string& ca_key, const std::string& public_key_file,
                                  const std::string& out) {
  gw::gwctl::CertSignArgs a;
  a.ca_key = ca_key;
  a.name = "laptop";
  a.public_key_file = public_key_file;
  a.out = out;
  return a;
}

}  // namespace

TEST_CASE("gwctl ca init: the CA's files carry their kind in an armour") {
  gw::test::TempDir dir;
  const std::string prefix = dir.file("ca");
  const Run r = run([&] { return gw::gwctl::ca_init({prefix, false}); });
  REQUIRE(r.rc == 0);
  const std::string key = gw::test::read_file(prefix + ".key");
  const std::string pub = gw::test::read_file(prefix + ".pub");
  const std::string b64 = "[A-Za-z0-9+/]{43}=";
  CHECK(std::regex_match(key, std::regex("-----BEGIN GW CA PRIVATE KEY-----\n" + b64 +
                                         "\n-----END GW CA PRIVATE KEY-----\n")));
  CHECK(std::regex_match(pub, std::regex("-----BEGIN GW CA PUBLIC KEY-----\n" + b64 +
                                         "\n-----END GW CA PUBLIC KEY-----\n")));
  CHECK(gw::test::file_mode(prefix + ".key") == 0600);
  CHECK(gw::test::file_mode(prefix + ".pub") == 0644);
  // The public key is the seed's Ed25519 key; the fingerprint printed is its SHA-256.
  REQUIRE(key.size() == 111);
  REQUIRE(pub.size() == 109);
  const auto seed = gw::config::parse_secret_key(key.substr(34, 44));
  const auto public_key = gw::config::parse_public_key(pub.substr(33, 44));
  REQUIRE(seed);
  REQUIRE(public_key);
  const auto ca = gw::identity::CaKey::from_seed(*seed);
  CHECK(ca.public_key == *public_key);
  CHECK(r.out == gw::identity::to_hex(gw::identity::ca_fingerprint(ca.public_key)) + "\n");
}

TEST_CASE("gwctl cert sign: --ca-key takes a CA private key file and nothing else") {
  const Pki p;
  const std::string out = p.dir.file("out.crt");
  const std::string plain =
      "this is a gw/WireGuard key line (an X25519 key or a PSK), not a CA "
      "private key; if it is a CA key an older gwctl ca init wrote, convert "
      "it: gwctl ca upgrade ";
  // A 0600 copy of the CA's public key file is still a public key.
  const std::string pub_copy = p.dir.write("pub-copy.key", gw::test::read_file(p.ca + ".pub"));
  struct Case {
    std::string ca_key, expected;
  };
  const Case cases[] = {
      {p.holder_key, p.holder_key + ": " + plain + p.dir.file("holder")},
      {p.ca + ".pub", p.ca + ".pub: this is a CA public key file, not a CA private key (--ca-key "
                             "wants PREFIX.key)"},
      {pub_copy, pub_copy + ": this is a CA public key file, not a CA private key (--ca-key "
                            "wants PREFIX.key)"},
      {p.cert, p.cert + ": this is a gw certificate, not a CA private key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.ca_key);
    const Run r =
        run([&] { return gw::gwctl::cert_sign(sign_args(c.ca_key, p.holder_pub, out), 0); });
    CHECK(r.rc == 1);
    CHECK(r.err == "gwctl: cert sign: " + c.expected + "\n");
    CHECK(r.out.empty());
    CHECK_FALSE(exists(out));
  }
  const Run ok =
      run([&] { return gw::gwctl::cert_sign(sign_args(p.ca + ".key", p.holder_pub, out), 0); });
  CHECK(ok.rc == 0);
  CHECK(ok.err.empty());
  CHECK(exists(out));
}

TEST_CASE("gwctl cert sign and verify: a CA key file is no holder's public key") {
  const Pki p;
  const std::string out = p.dir.file("out.crt");
  for (const char* ext : {".pub", ".key"}) {
    const std::string file = p.ca + ext;
    const std::string kind = ext == std::string(".pub") ? "public" : "private";
    const std::string expected =
        file + ": this is a CA " + kind + " key file, not a gw/WireGuard public key (X25519)";
    const Run s = run([&] { return gw::gwctl::cert_sign(sign_args(p.ca + ".key", file, out), 0); });
    CHECK(s.rc == 1);
    CHECK(s.err == "gwctl: cert sign: " + expected + "\n");
    CHECK_FALSE(exists(out));
    gw::gwctl::CertVerifyArgs v;
    v.file = p.cert;
    v.ca_files = {p.ca + ".pub"};
    v.public_key_file = file;
    const Run r = run([&] { return gw::gwctl::cert_verify(v, kNotBefore); });
    CHECK(r.rc == 1);
    CHECK(r.err == "gwctl: cert verify: " + expected + "\n");
    CHECK(r.out.empty());
  }
}

TEST_CASE("gwctl cert verify: --ca takes a CA public key file and nothing else") {
  const Pki p;
  const std::string old_pub = p.dir.write("old.pub", kHolderKey + "\n", 0644);
  struct Case {
    std::string ca, expected;
  };
  const Case cases[] = {
      {p.holder_pub, p.holder_pub +
                         ": this is a gw/WireGuard key line (an X25519 key or a PSK), "
                         "not a CA public key; if it is a CA key an older gwctl ca "
                         "init wrote, convert it: gwctl ca upgrade " +
                         p.dir.file("holder")},
      {p.ca + ".key", p.ca + ".key: this is a CA private key file, not a CA public key (--ca "
                             "wants PREFIX.pub)"},
      {p.cert, p.cert + ": this is a gw certificate, not a CA public key"},
      {old_pub, old_pub + ": this is a gw/WireGuard key line"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.ca);
    gw::gwctl::CertVerifyArgs v;
    v.file = p.cert;
    v.ca_files = {c.ca};
    const Run r = run([&] { return gw::gwctl::cert_verify(v, kNotBefore); });
    CHECK(r.rc == 1);
    CHECK(r.err.rfind("gwctl: cert verify: --ca " + c.expected, 0) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("gwctl ca revoke and cert show: a CA key file is neither a certificate nor a list") {
  const Pki p;
  const std::string list = p.dir.file("revoked.txt");
  gw::gwctl::CaRevokeArgs a;
  a.list = list;
  a.cert_file = p.ca + ".pub";
  Run r = run([&] { return gw::gwctl::ca_revoke(a); });
  CHECK(r.rc == 1);
  CHECK(r.err == "gwctl: " + p.ca + ".pub: this is a CA public key file, not a gw certificate\n");
  CHECK_FALSE(exists(list));

  const std::string pub_before = gw::test::read_file(p.ca + ".pub");
  a.list = p.ca + ".pub";
  a.cert_file = p.cert;
  r = run([&] { return gw::gwctl::ca_revoke(a); });
  CHECK(r.rc == 1);
  CHECK(r.err == "gwctl: ca revoke: " + p.ca +
                     ".pub: this is a CA public key file, not a revocation list\n");
  CHECK(gw::test::read_file(p.ca + ".pub") == pub_before);

  r = run([&] { return gw::gwctl::cert_show({p.ca + ".key", false}, 0); });
  CHECK(r.rc == 1);
  CHECK(r.err == "gwctl: " + p.ca + ".key: this is a CA private key file, not a gw certificate\n");
  CHECK(r.out.empty());
}

TEST_CASE("gwctl ca upgrade: an old pair is checked to be one CA, then converted in place") {
  const Pki p;
  const std::string key_text = gw::test::read_file(p.ca + ".key");
  const std::string pub_text = gw::test::read_file(p.ca + ".pub");
  const std::string old = p.dir.file("old");
  p.dir.write("old.key", key_text.substr(34, 44) + "\n", 0400);
  p.dir.write("old.pub", pub_text.substr(33, 44) + "\n", 0640);
  Run r = run([&] { return gw::gwctl::ca_upgrade({old}); });
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  const Run init_fp = run([&] { return gw::gwctl::ca_upgrade({p.ca}); });  // already armoured
  CHECK(init_fp.rc == 0);
  CHECK(r.out == init_fp.out);
  CHECK(gw::test::read_file(old + ".key") == key_text);
  CHECK(gw::test::read_file(old + ".pub") == pub_text);
  CHECK(gw::test::file_mode(old + ".key") == 0400);
  CHECK(gw::test::file_mode(old + ".pub") == 0640);
  CHECK(gw::test::read_file(p.ca + ".key") == key_text);

  // A peer's X25519 pair: its public key is not the Ed25519 key of its private key.
  const std::string x25519 = p.dir.file("holder");
  const std::string before = gw::test::read_file(x25519 + ".key");
  r = run([&] { return gw::gwctl::ca_upgrade({x25519}); });
  CHECK(r.rc == 1);
  CHECK(r.err == "gwctl: ca upgrade: " + x25519 + ".key and " + x25519 +
                     ".pub are not one CA's keys (" + x25519 +
                     ".pub is not the Ed25519 public key of " + x25519 +
                     ".key); nothing changed\n");
  CHECK(gw::test::read_file(x25519 + ".key") == before);
  CHECK(gw::test::read_file(x25519 + ".pub") == kHolderKey + "\n");
  CHECK(run([&] { return gw::gwctl::ca_upgrade({""}); }).rc == 2);
}
