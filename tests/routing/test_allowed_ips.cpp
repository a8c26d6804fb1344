// SPDX-License-Identifier: MIT
// The allowed-IPs table: prefix text, masking, replace and remove, a numbered
// table of lookups, the packet helpers, and the trie checked against a
// deliberately naive twin (a list scanned for the longest match) on random
// prefixes and addresses of both families.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "gw/routing/allowed_ips.hpp"

using gw::routing::AllowedIps;
using gw::routing::Family;
using gw::routing::Prefix;
using Buf = std::vector<std::uint8_t>;
using Value = AllowedIps::Value;

namespace {

Prefix P(std::string_view text) {
  const auto p = Prefix::parse(text);
  REQUIRE_MESSAGE(p.has_value(), text);
  return *p;
}

// The bytes of an address written as text (4 or 16 of them).
Buf A(std::string_view text) {
  const Prefix p = P(text);
  const std::size_t n = p.family == Family::v4 ? 4 : 16;
  return Buf(p.address.begin(), p.address.begin() + static_cast<std::ptrdiff_t>(n));
}

std::vector<std::string> texts(const std::vector<Prefix>& prefixes) {
  std::vector<std::string> out;
  for (const Prefix& p : prefixes)
    out.push_back(p.to_string());
  return out;
}

// A minimal inner packet: version nibble, addresses at their offsets.
Buf packet(std::string_view src, std::string_view dst, std::size_t size = 0) {
  const Buf s = A(src);
  const Buf d = A(dst);
  const bool v4 = s.size() == 4;
  Buf b(size != 0 ? size : (v4 ? 20 : 40), 0);
  b[0] = v4 ? 0x45 : 0x60;
  const std::size_t src_at = v4 ? 12 : 8;
  const std::size_t dst_at = v4 ? 16 : 24;
  for (std::size_t i = 0; i < s.size() && src_at + i < b.size(); ++i)
    b[src_at + i] = s[i];
  for (std::size_t i = 0; i < d.size() && dst_at + i < b.size(); ++i)
    b[dst_at + i] = d[i];
  return b;
}

}  // namespace

TEST_CASE("Prefix::parse accepts IPv4 and IPv6 prefixes and prints them canonically") {
  struct Case {
    std::string_view text;
    Family family;
    unsigned length;
    std::string_view printed;
  };
  const Case cases[] = {
      {"10.0.0.0/24", Family::v4, 24, "10.0.0.0/24"},
      {"10.0.0.1", Family::v4, 32, "10.0.0.1/32"},
      {"0.0.0.0/0", Family::v4, 0, "0.0.0.0/0"},
      {"255.255.255.255/32", Family::v4, 32, "255.255.255.255/32"},
      {"192.168.1.77/16", Family::v4, 16, "192.168.1.77/16"},  // host bits kept
      {"1.2.3.4/9", Family::v4, 9, "1.2.3.4/9"},
      {"fd00::/64", Family::v6, 64, "fd00::/64"},
      {"::/0", Family::v6, 0, "::/0"},
      {"::", Family::v6, 128, "::/128"},
      {"::1", Family::v6, 128, "::1/128"},
      {"FD00:0:0:0:0:0:0:1/128", Family::v6, 128, "fd00::1/128"},
      {"2001:0db8::0001", Family::v6, 128, "2001:db8::1/128"},
      {"2001:db8:0:0:1:0:0:1", Family::v6, 128, "2001:db8::1:0:0:1/128"},     // first of two runs
      {"2001:db8:0:0:1:0:0:0/100", Family::v6, 100, "2001:db8:0:0:1::/100"},  // longest run
      {"1:0:3:4:5:6:7:8", Family::v6, 128, "1:0:3:4:5:6:7:8/128"},  // one zero group stays
      {"1:2:3:4:5:6:7:8/96", Family::v6, 96, "1:2:3:4:5:6:7:8/96"},
      {"1:2:3:4:5:6:7::", Family::v6, 128, "1:2:3:4:5:6:7:0/128"},
      {"::2:3:4:5:6:7:8", Family::v6, 128, "0:2:3:4:5:6:7:8/128"},
      {"::ffff:10.1.2.3/128", Family::v6, 128, "::ffff:a01:203/128"},
      {"1:2:3:4:5:6:1.2.3.4", Family::v6, 128, "1:2:3:4:5:6:102:304/128"},
      {"fe80::/10", Family::v6, 10, "fe80::/10"},
      {"abcd:ef01:2345:6789:ABCD:EF01:2345:6789/1", Family::v6, 1,
       "abcd:ef01:2345:6789:abcd:ef01:2345:6789/1"},
  };
  int n = 0;
  for (const Case& c : cases) {
    CAPTURE(n);
    CAPTURE(c.text);
    const auto p = Prefix::parse(c.text);
    REQUIRE(p.has_value());
    CHECK(p->family == c.family);
    CHECK(p->length == c.length);
    CHECK(p->to_string() == c.printed);
    CHECK(Prefix::parse(p->to_string()) == p);
    ++n;
  }
  const Prefix v4 = P("192.168.1.77/16");
  CHECK(v4.address == std::array<std::uint8_t, 16>{192, 168, 1, 77});
  const Prefix v6 = P("2001:db8::1");
  CHECK(v6.address ==
        std::array<std::uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
}

TEST_CASE("Prefix::parse refuses bad text") {
  const std::string_view bad[] = {
      "",
      "/",
      "/24",
      "10.0.0",
      "10.0.0.0.0",
      "10.0.0.256",
      "10.0.0.1000",
      "10.0.0.01",
      "010.0.0.0",
      "10..0.0",
      ".10.0.0.0",
      "10.0.0.0.",
      "a.b.c.d",
      "10.0.0.0/",
      "10.0.0.0/33",
      "10.0.0.0/024",
      "10.0.0.0/-1",
      "10.0.0.0/+1",
      "10.0.0.0/1000",
      "10.0.0.0/24/8",
      "10.0.0.0/ 24",
      " 10.0.0.0",
      "10.0.0.0 ",
      "10.0.0.0/24 ",
      "fd00::/129",
      "fd00::/",
      ":",
      ":::",
      "1:::2",
      "1::2::3",
      ":1",
      "1:",
      "1::2:",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1:2:3:4::5:6:7:8",
      "12345::",
      "g::",
      "fe80::1%eth0",
      "::ffff:1.2.3",
      "::ffff:1.2.3.4.5",
      "::ffff:1.2.3.04",
      "1:2:3:4:5:6:7:1.2.3.4",
      "1.2.3.4::",
      "::1.2.3.4:5",
      "[::1]",
      "0x0a.0.0.0",
  };
  for (std::string_view text : bad) {
    CAPTURE(text);
    CHECK_FALSE(Prefix::parse(text).has_value());
  }
  using namespace std::string_view_literals;
  CHECK_FALSE(Prefix::parse("10.0.0.0\0"sv).has_value());
  CHECK_FALSE(Prefix::parse("10.0.0.0/2\0"sv).has_value());
}

TEST_CASE("Prefix helpers: from_bytes, masked, contains") {
  const Buf v4 = {10, 1, 2, 3};
  const auto p = Prefix::from_bytes(v4, 8);
  REQUIRE(p.has_value());
  CHECK(p->to_string() == "10.1.2.3/8");
  CHECK(p->masked().to_string() == "10.0.0.0/8");
  CHECK(P("10.1.2.255/31").masked() == P("10.1.2.254/31"));
  CHECK(P("255.255.255.255/0").masked() == P("0.0.0.0/0"));
  CHECK(P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/65").masked() ==
        P("ffff:ffff:ffff:ffff:8000::/65"));
  CHECK(P("1:2:3:4:5:6:7:8/128").masked() == P("1:2:3:4:5:6:7:8"));
  CHECK_FALSE(Prefix::from_bytes(v4, 33).has_value());
  CHECK_FALSE(Prefix::from_bytes(Buf(5, 0), 0).has_value());
  CHECK_FALSE(Prefix::from_bytes(Buf{}, 0).has_value());
  CHECK(Prefix::from_bytes(Buf(16, 0), 128).has_value());
  CHECK_FALSE(Prefix::from_bytes(Buf(16, 0), 129).has_value());

  CHECK(P("10.0.0.0/8").contains(A("10.255.0.1")));
  CHECK_FALSE(P("10.0.0.0/8").contains(A("11.0.0.1")));
  CHECK(P("0.0.0.0/0").contains(A("1.2.3.4")));
  CHECK_FALSE(P("0.0.0.0/0").contains(A("::1")));  // other family
  CHECK(P("fd00::/8").contains(A("fdff::1")));
  CHECK_FALSE(P("fd00::/8").contains(A("fe00::1")));
  CHECK_FALSE(P("::/0").contains(A("1.2.3.4")));
}

TEST_CASE("insert masks host bits and re-inserting replaces the value") {
  AllowedIps t;
  CHECK(t.empty());
  t.insert(P("10.1.2.3/8"), 7);
  CHECK(t.size() == 1);
  CHECK(texts(t.entries(7)) == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(t.lookup(A("10.200.0.1")) == 7u);
  CHECK_FALSE(t.lookup(A("11.0.0.1")).has_value());

  t.insert(P("10.9.9.9/8"), 9);  // the same prefix once masked
  CHECK(t.size() == 1);
  CHECK(t.lookup(A("10.1.2.3")) == 9u);
  CHECK(t.entries(7).empty());
  CHECK(texts(t.entries(9)) == std::vector<std::string>{"10.0.0.0/8"});

  t.insert(P("fd00::1234/16"), 7);
  CHECK(texts(t.entries(7)) == std::vector<std::string>{"fd00::/16"});
  CHECK(t.size() == 2);
  CHECK(t.remove(P("10.255.255.255/8")));  // removal masks too
  CHECK(t.size() == 1);
  CHECK_FALSE(t.lookup(A("10.1.2.3")).has_value());
}

TEST_CASE("remove forgets one prefix and keeps the ones around it") {
  AllowedIps t;
  t.insert(P("10.0.0.0/8"), 1);
  t.insert(P("10.1.0.0/16"), 2);
  t.insert(P("10.1.1.0/24"), 3);
  t.insert(P("10.2.0.0/16"), 4);
  CHECK(t.size() == 4);

  CHECK_FALSE(t.remove(P("10.1.0.0/17")));  // not in the table
  CHECK_FALSE(t.remove(P("10.0.0.0/7")));
  CHECK_FALSE(t.remove(P("10.3.0.0/16")));
  CHECK_FALSE(t.remove(P("::/0")));
  CHECK(t.size() == 4);

  CHECK(t.remove(P("10.1.0.0/16")));  // a middle node with children on one side
  CHECK_FALSE(t.remove(P("10.1.0.0/16")));
  CHECK(t.size() == 3);
  CHECK(t.lookup(A("10.1.1.1")) == 3u);
  CHECK(t.lookup(A("10.1.2.1")) == 1u);
  CHECK(t.lookup(A("10.2.2.1")) == 4u);

  CHECK(t.remove(P("10.0.0.0/8")));  // the root
  CHECK(t.lookup(A("10.1.1.1")) == 3u);
  CHECK_FALSE(t.lookup(A("10.1.2.1")).has_value());
  CHECK(t.lookup(A("10.2.2.1")) == 4u);

  CHECK(t.remove(P("10.1.1.0/24")));
  CHECK(t.remove(P("10.2.0.0/16")));
  CHECK(t.empty());
  CHECK_FALSE(t.lookup(A("10.2.2.1")).has_value());
  t.insert(P("10.2.0.0/16"), 5);  // usable again after emptying
  CHECK(t.lookup(A("10.2.2.1")) == 5u);
}

TEST_CASE("remove_value forgets every prefix of a peer in both families") {
  AllowedIps t;
  t.insert(P("10.0.0.0/8"), 1);
  t.insert(P("10.1.0.0/16"), 2);
  t.insert(P("10.1.2.0/24"), 1);
  t.insert(P("192.168.0.0/16"), 1);
  t.insert(P("fd00::/8"), 1);
  t.insert(P("fd00:1::/32"), 2);
  t.insert(P("::/0"), 3);

  CHECK(texts(t.entries(1)) ==
        std::vector<std::string>{"10.0.0.0/8", "10.1.2.0/24", "192.168.0.0/16", "fd00::/8"});
  CHECK(t.remove_value(1) == 4);
  CHECK(t.size() == 3);
  CHECK(t.entries(1).empty());
  CHECK(t.remove_value(1) == 0);
  CHECK(t.remove_value(42) == 0);
  CHECK_FALSE(t.lookup(A("10.9.9.9")).has_value());
  CHECK(t.lookup(A("10.1.2.3")) == 2u);
  CHECK(t.lookup(A("fd00:1::5")) == 2u);
  CHECK(t.lookup(A("fd00:2::5")) == 3u);  // falls back to ::/0
  CHECK(t.remove_value(2) == 2);
  CHECK(t.remove_value(3) == 1);
  CHECK(t.empty());
  CHECK_FALSE(t.lookup(A("::1")).has_value());
}

TEST_CASE("entries lists a value's prefixes in address order, shorter first") {
  AllowedIps t;
  const char* inserted[] = {"fd00::/64", "10.0.0.0/8", "10.0.0.0/24",  "::/0",    "0.0.0.0/1",
                            "9.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "fd00::/8"};
  for (const char* text : inserted)
    t.insert(P(text), 5);
  t.insert(P("10.64.0.0/10"), 6);
  CHECK(texts(t.entries(5)) == std::vector<std::string>{"0.0.0.0/1", "9.0.0.0/8", "10.0.0.0/8",
                                                        "10.0.0.0/9", "10.0.0.0/24", "10.128.0.0/9",
                                                        "::/0", "fd00::/8", "fd00::/64"});
  CHECK(texts(t.entries(6)) == std::vector<std::string>{"10.64.0.0/10"});
  CHECK(t.entries(7).empty());
}

TEST_CASE("lookup: a numbered table of longest matches") {
  AllowedIps t;
  t.insert(P("192.168.4.0/24"), 1);
  t.insert(P("192.168.4.4/32"), 2);
  t.insert(P("192.168.0.0/16"), 3);
  t.insert(P("192.95.5.64/27"), 4);
  t.insert(P("192.95.5.65/32"), 5);
  t.insert(P("0.0.0.0/1"), 6);
  t.insert(P("128.0.0.0/1"), 7);
  t.insert(P("10.0.0.0/8"), 8);
  t.insert(P("10.128.0.0/9"), 9);
  t.insert(P("2607:5300:60:6b0::c05f:543/128"), 10);
  t.insert(P("2607:5300:60:6b0::/64"), 11);
  t.insert(P("2607:5300::/32"), 12);
  t.insert(P("2001:db8::/32"), 13);
  t.insert(P("2001:db8:8000::/33"), 14);
  t.insert(P("fe80::/10"), 15);
  t.insert(P("::1/128"), 16);

  struct Case {
    int n;
    std::string_view address;
    std::optional<Value> expected;
  };
  const Case cases[] = {
      {1, "192.168.4.20", 1},
      {2, "192.168.4.4", 2},
      {3, "192.168.4.5", 1},
      {4, "192.168.200.182", 3},
      {5, "192.95.5.68", 4},
      {6, "192.95.5.65", 5},
      {7, "192.95.5.96", 7},  // just past the /27
      {8, "192.95.5.63", 7},
      {9, "127.255.255.255", 6},
      {10, "128.0.0.0", 7},
      {11, "0.0.0.0", 6},
      {12, "255.255.255.255", 7},
      {13, "10.0.0.1", 8},
      {14, "10.127.255.255", 8},
      {15, "10.128.0.0", 9},
      {16, "10.255.255.255", 9},
      {17, "2607:5300:60:6b0::c05f:543", 10},
      {18, "2607:5300:60:6b0::c05f:542", 11},
      {19, "2607:5300:60:6b1::1", 12},
      {20, "2607:5301::1", std::nullopt},
      {21, "2001:db8::1", 13},
      {22, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", 13},
      {23, "2001:db8:8000::", 14},
      {24, "2001:db8:ffff::1", 14},
      {25, "2001:db9::", std::nullopt},
      {26, "fe80::1", 15},
      {27, "febf:ffff::1", 15},
      {28, "fec0::1", std::nullopt},
      {29, "::1", 16},
      {30, "::2", std::nullopt},
      {31, "::", std::nullopt},
      {32, "::ffff:192.168.4.4", std::nullopt},  // IPv4-mapped is IPv6
  };
  for (const Case& c : cases) {
    CAPTURE(c.n);
    CAPTURE(c.address);
    CHECK(t.lookup(A(c.address)) == c.expected);
  }
  CHECK_FALSE(t.lookup(Buf{}).has_value());  // neither 4 nor 16 bytes
  CHECK_FALSE(t.lookup(Buf(5, 10)).has_value());
  CHECK_FALSE(t.lookup(Buf(15, 0)).has_value());

  t.insert(P("::/0"), 17);
  CHECK(t.lookup(A("::2")) == 17u);
  CHECK(t.lookup(A("2607:5301::1")) == 17u);
  CHECK(t.lookup(A("::1")) == 16u);
}

TEST_CASE("lookup_destination and source_allowed read inner packets") {
  AllowedIps t;
  t.insert(P("10.0.0.0/24"), 1);
  t.insert(P("10.0.1.0/24"), 2);
  t.insert(P("fd00:1::/64"), 1);
  t.insert(P("fd00:2::/64"), 2);

  CHECK(t.lookup_destination(packet("10.0.1.5", "10.0.0.9")) == 1u);
  CHECK(t.lookup_destination(packet("10.0.0.9", "10.0.1.5")) == 2u);
  CHECK_FALSE(t.lookup_destination(packet("10.0.0.9", "10.0.2.5")).has_value());
  CHECK(t.lookup_destination(packet("fd00:1::1", "fd00:2::7")) == 2u);
  CHECK(t.lookup_destination(packet("fd00:1::1", "fd00:1::7", 1280)) == 1u);
  CHECK_FALSE(t.lookup_destination(packet("fd00:1::1", "fd00:3::7")).has_value());

  CHECK(t.source_allowed(packet("10.0.0.9", "8.8.8.8"), 1));
  CHECK_FALSE(t.source_allowed(packet("10.0.0.9", "8.8.8.8"), 2));
  CHECK_FALSE(t.source_allowed(packet("10.0.5.9", "10.0.0.1"), 1));  // no peer owns it
  CHECK(t.source_allowed(packet("fd00:2::9", "fd00:1::1"), 2));
  CHECK_FALSE(t.source_allowed(packet("fd00:2::9", "fd00:1::1"), 1));

  // Malformed: truncated headers, wrong versions, empty.
  Buf short4 = packet("10.0.0.9", "10.0.0.1");
  short4.resize(19);
  CHECK_FALSE(t.lookup_destination(short4).has_value());
  CHECK_FALSE(t.source_allowed(short4, 1));
  Buf short6 = packet("fd00:1::1", "fd00:2::7");
  short6.resize(39);
  CHECK_FALSE(t.lookup_destination(short6).has_value());
  CHECK_FALSE(t.source_allowed(short6, 1));
  CHECK_FALSE(t.lookup_destination(Buf{}).has_value());
  CHECK_FALSE(t.source_allowed(Buf{}, 1));
  Buf v5 = packet("10.0.0.9", "10.0.0.1");
  v5[0] = 0x55;
  CHECK_FALSE(t.lookup_destination(v5).has_value());
  CHECK_FALSE(t.source_allowed(v5, 1));
  // An IPv6 header whose version nibble says 4 is read as IPv4, and the reverse.
  Buf six_as_four = packet("fd00:1::1", "fd00:2::7");
  six_as_four[0] = 0x45;
  CHECK_FALSE(t.lookup_destination(six_as_four).has_value());  // reads 0.0.0.0
  Buf four_as_six = packet("10.0.0.9", "10.0.1.5", 40);
  four_as_six[0] = 0x60;
  CHECK_FALSE(t.lookup_destination(four_as_six).has_value());
}

TEST_CASE("overlaps and overlapping judge the whole prefix, not its first address") {
  CHECK(P("10.0.0.0/8").overlaps(P("10.1.2.0/24")));
  CHECK(P("10.1.2.0/24").overlaps(P("10.0.0.0/8")));
  CHECK(P("0.0.0.0/0").overlaps(P("192.0.2.7/32")));
  CHECK_FALSE(P("10.0.0.0/8").overlaps(P("11.0.0.0/8")));
  CHECK_FALSE(P("10.0.0.0/8").overlaps(P("::/0")));  // families never overlap
  CHECK(P("fd00::/8").overlaps(P("fd77::1/128")));
  AllowedIps t;
  t.insert(P("10.1.2.0/24"), 1);
  t.insert(P("10.9.0.0/16"), 2);
  t.insert(P("fd77::2/128"), 3);
  // A wider prefix holding a narrower one: its first address (10.0.0.0) is
  // nobody's, yet it contains peer 1's /24.
  CHECK_FALSE(t.lookup(Buf{10, 0, 0, 0}).has_value());
  CHECK(t.overlapping(P("10.0.0.0/8"), 99).has_value());
  CHECK(t.overlapping(P("10.1.2.128/25"), 99) == 1);  // inside peer 1's
  CHECK(t.overlapping(P("0.0.0.0/0"), 99).has_value());
  CHECK(t.overlapping(P("::/0"), 99) == 3);
  CHECK_FALSE(t.overlapping(P("10.2.0.0/16"), 99).has_value());
  // A peer's own prefixes are not a conflict with itself.
  CHECK_FALSE(t.overlapping(P("10.1.2.0/24"), 1).has_value());
  CHECK(t.overlapping(P("10.0.0.0/8"), 1) == 2);
}

TEST_CASE("AllowedIps moves and clears") {
  AllowedIps a;
  a.insert(P("10.0.0.0/8"), 1);
  a.insert(P("fd00::/8"), 2);
  AllowedIps b = std::move(a);
  CHECK(b.size() == 2);
  CHECK(b.lookup(A("10.1.1.1")) == 1u);
  AllowedIps c;
  c = std::move(b);
  CHECK(c.lookup(A("fd00::1")) == 2u);
  c.clear();
  CHECK(c.empty());
  CHECK_FALSE(c.lookup(A("10.1.1.1")).has_value());
  CHECK_FALSE(c.lookup(A("fd00::1")).has_value());
}

// ---- the naive twin ----

namespace {

// Every prefix in a list; a lookup scans all of them for the longest match.
class NaiveTable {
 public:
  void insert(const Prefix& prefix, Value value) {
    const Prefix p = prefix.masked();
    for (auto& row : rows_) {
      if (row.first == p) {
        row.second = value;
        return;
      }
    }
    rows_.emplace_back(p, value);
  }
  bool remove(const Prefix& prefix) {
    const Prefix p = prefix.masked();
    const auto it = std::find_if(rows_.begin(), rows_.end(), [&](auto& r) { return r.first == p; });
    if (it == rows_.end()) return false;
    rows_.erase(it);
    return true;
  }
  std::size_t remove_value(Value value) {
    return std::erase_if(rows_, [&](auto& r) { return r.second == value; });
  }
  // Whether some row other than `except` shares an address with `prefix`.
  bool overlapped(const Prefix& prefix, Value except) const {
    return std::any_of(rows_.begin(), rows_.end(), [&](const auto& r) {
      return r.second != except && r.first.overlaps(prefix);
    });
  }
  std::optional<Value> lookup(const Buf& address) const {
    std::optional<Value> best;
    int best_length = -1;
    for (const auto& [p, v] : rows_) {
      if (p.contains(address) && p.length > best_length) {
        best = v;
        best_length = p.length;
      }
    }
    return best;
  }
  std::vector<Prefix> entries(Value value) const {
    std::vector<Prefix> out;
    for (const auto& [p, v] : rows_) {
      if (v == value) out.push_back(p);
    }
    std::sort(out.begin(), out.end(), [](const Prefix& x, const Prefix& y) {
      return std::tie(x.family, x.address, x.length) < std::tie(y.family, y.address, y.length);
    });
    return out;
  }
  std::size_t size() const { return rows_.size(); }
  const std::vector<std::pair<Prefix, Value>>& rows() const { return rows_; }

 private:
  std::vector<std::pair<Prefix, Value>> rows_;
};

// Random addresses clustered around a few bases, so that prefixes nest and
// lookups find deep matches as well as none at all.
class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {
    for (auto& base : bases_) {
      for (auto& byte : base)
        byte = next_byte();
    }
  }

  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }

  Buf address(std::size_t size) {
    Buf a(size);
    if (below(8) == 0) {  // anywhere
      for (auto& byte : a)
        byte = next_byte();
      return a;
    }
    const auto& base = bases_[below(static_cast<std::uint32_t>(bases_.size()))];
    std::copy_n(base.begin(), size, a.begin());
    const std::uint32_t flips = below(4);
    for (std::uint32_t i = 0; i < flips; ++i) {
      const std::uint32_t bit = below(static_cast<std::uint32_t>(size * 8));
      a[bit / 8] = static_cast<std::uint8_t>(a[bit / 8] ^ (0x80u >> (bit % 8)));
    }
    return a;
  }

  // Mostly the upper three quarters of the lengths (a few short ones, so
  // that some addresses match nothing), extra weight on the full width,
  // /0 only on request.
  Prefix prefix(std::size_t size, bool allow_zero) {
    const auto width = static_cast<std::uint32_t>(size * 8);
    std::uint32_t length = width / 4 + below(width - width / 4 + 1);
    if (below(5) == 0) length = width;
    if (below(40) == 0) length = 1 + below(width);
    if (allow_zero && below(50) == 0) length = 0;
    const auto p = Prefix::from_bytes(address(size), length);
    REQUIRE(p.has_value());
    return *p;
  }

 private:
  std::uint8_t next_byte() { return static_cast<std::uint8_t>(rng_() & 0xff); }

  std::mt19937 rng_;
  std::array<std::array<std::uint8_t, 16>, 12> bases_{};
};

void compare_lookups(const AllowedIps& trie, const NaiveTable& naive, Generator& gen,
                     std::size_t count, std::size_t& hits, std::size_t& misses) {
  for (std::size_t i = 0; i < count; ++i) {
    const Buf a = gen.address(gen.below(2) == 0 ? 4 : 16);
    const auto expected = naive.lookup(a);
    const auto got = trie.lookup(a);
    if (got != expected) {
      const auto shown = Prefix::from_bytes(a, static_cast<unsigned>(a.size() * 8));
      FAIL_CHECK("lookup of " << shown->to_string() << " gave "
                              << (got ? static_cast<long>(*got) : -1L) << ", naive "
                              << (expected ? static_cast<long>(*expected) : -1L));
    }
    ++(expected ? hits : misses);
  }
  // Every stored prefix's own address, and the address just past it.
  for (const auto& [p, v] : naive.rows()) {
    const std::size_t size = p.family == Family::v4 ? 4 : 16;
    Buf a(p.address.begin(), p.address.begin() + static_cast<std::ptrdiff_t>(size));
    CHECK(trie.lookup(a) == naive.lookup(a));
    if (p.length > 0) {
      const unsigned bit = p.length - 1u;
      a[bit / 8] = static_cast<std::uint8_t>(a[bit / 8] ^ (0x80u >> (bit % 8)));
      CHECK(trie.lookup(a) == naive.lookup(a));
    }
  }
}

void compare_contents(const AllowedIps& trie, const NaiveTable& naive, Value values) {
  REQUIRE(trie.size() == naive.size());
  for (Value v = 0; v < values; ++v) {
    CAPTURE(v);
    CHECK(texts(trie.entries(v)) == texts(naive.entries(v)));
  }
}

}  // namespace

TEST_CASE("AllowedIps agrees with a naive twin on random prefixes and addresses") {
  constexpr Value kValues = 48;
  Generator gen(0x5eed1234u);
  AllowedIps trie;
  NaiveTable naive;
  std::size_t hits = 0;
  std::size_t misses = 0;

  // Phase 1: insert 4000 prefixes (both families, no /0), checking as we go.
  for (int i = 1; i <= 4000; ++i) {
    const Prefix p = gen.prefix(gen.below(2) == 0 ? 4 : 16, false);
    const Value v = gen.below(kValues);
    trie.insert(p, v);
    naive.insert(p, v);
    if (i % 500 == 0) compare_lookups(trie, naive, gen, 300, hits, misses);
  }
  compare_contents(trie, naive, kValues);
  compare_lookups(trie, naive, gen, 4000, hits, misses);
  // Overlaps judged over whole prefixes agree too, for prefixes of any length.
  std::size_t overlapped = 0;
  for (int i = 0; i < 3000; ++i) {
    const Prefix p = gen.prefix(gen.below(2) == 0 ? 4 : 16, true);
    const Value except = gen.below(kValues);
    const auto found = trie.overlapping(p, except);
    REQUIRE(found.has_value() == naive.overlapped(p, except));
    if (found) {
      CHECK(*found != except);
      ++overlapped;
    }
  }
  CHECK(overlapped > 300);
  CHECK(overlapped < 2700);

  // Phase 2: add /0 in both families, and some /32 and /128 hosts.
  trie.insert(P("0.0.0.0/0"), 100);
  naive.insert(P("0.0.0.0/0"), 100);
  trie.insert(P("::/0"), 101);
  naive.insert(P("::/0"), 101);
  for (int i = 0; i < 200; ++i) {
    const std::size_t size = gen.below(2) == 0 ? 4 : 16;
    const auto p = Prefix::from_bytes(gen.address(size), static_cast<unsigned>(size * 8));
    const Value v = gen.below(kValues);
    trie.insert(*p, v);
    naive.insert(*p, v);
  }
  compare_lookups(trie, naive, gen, 4000, hits, misses);

  // Phase 3: remove prefixes (present ones and random ones), then whole values.
  for (int i = 0; i < 1500; ++i) {
    Prefix p;
    if (gen.below(3) != 0 && naive.size() > 0) {
      p = naive.rows()[gen.below(static_cast<std::uint32_t>(naive.size()))].first;
    } else {
      p = gen.prefix(gen.below(2) == 0 ? 4 : 16, true);
    }
    CHECK(trie.remove(p) == naive.remove(p));
  }
  compare_contents(trie, naive, kValues);
  compare_lookups(trie, naive, gen, 3000, hits, misses);
  for (Value v = 0; v < kValues; v += 3)
    CHECK(trie.remove_value(v) == naive.remove_value(v));
  compare_contents(trie, naive, kValues);
  compare_lookups(trie, naive, gen, 3000, hits, misses);

  // Phase 4: drop the defaults, mix inserts and removals, compare again.
  CHECK(trie.remove(P("0.0.0.0/0")) == naive.remove(P("0.0.0.0/0")));
  CHECK(trie.remove(P("::/0")) == naive.remove(P("::/0")));
  for (int i = 0; i < 3000; ++i) {
    const Prefix p = gen.prefix(gen.below(2) == 0 ? 4 : 16, true);
    if (gen.below(3) == 0) {
      CHECK(trie.remove(p) == naive.remove(p));
    } else {
      const Value v = gen.below(kValues);
      trie.insert(p, v);
      naive.insert(p, v);
    }
  }
  compare_contents(trie, naive, kValues);
  compare_lookups(trie, naive, gen, 4000, hits, misses);

  // The generator must exercise both outcomes.
  MESSAGE("naive-twin random lookups: " << hits << " matched, " << misses << " did not");
  CHECK(hits > 1000);
  CHECK(misses > 1000);

  // Emptying by value leaves an empty trie.
  for (Value v = 0; v < kValues; ++v)
    trie.remove_value(v);
  CHECK(trie.empty());
  const Buf any = {10, 0, 0, 1};
  CHECK_FALSE(trie.lookup(any).has_value());
}
