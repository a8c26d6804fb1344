// SPDX-License-Identifier: MIT
// gwctl's certificate commands, their pure half (src/gwctl/cert_commands.hpp):
// durations, times, lists, and the `gwctl cert show` text and JSON of a fixed
// certificate. The commands themselves run in test_cert_cli.sh.
#include <doctest/doctest.h>

#include <ctime>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../src/gwctl/cert_commands.hpp"
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
