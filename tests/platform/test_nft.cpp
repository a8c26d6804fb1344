// SPDX-License-Identifier: MIT
// A full tunnel's nftables table: the ruleset text (pure), and the table
// installed, replaced and removed through libnftables in the tests' private
// network namespace, read back by the same library; the src_valid_mark
// sysctl, which is the namespace's own.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "gw/platform/nft.hpp"
#include "support.hpp"

using gw::platform::enable_src_valid_mark;
using gw::platform::full_tunnel_ruleset;
using gw::platform::FullTunnelFilter;
using gw::platform::Nft;
using gw::platform::nft_table_name;
using gw::platform::NftError;
using gw::platform::test::prefix;

namespace {

FullTunnelFilter laptop() {
  FullTunnelFilter f;
  f.interface = "gw-laptop";
  f.fwmark = 0x6777abcd;
  f.addresses = {prefix("10.88.0.2/32"), prefix("fd88::2/128"), prefix("10.77.0.1/24")};
  return f;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

bool contains_text(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("nft: the table is named after the interface") {
  CHECK(nft_table_name("gw0") == "gw-gw0");
  CHECK(nft_table_name("gw-laptop") == "gw-gw-laptop");
}

TEST_CASE("nft: the full tunnel's ruleset, line by line") {
  const std::string expected =
      "table inet gw-gw-laptop {\n"
      "  chain preraw {\n"
      "    type filter hook prerouting priority raw; policy accept;\n"
      "    iifname != \"gw-laptop\" ip daddr 10.88.0.2 fib saddr type != local drop\n"
      "    iifname != \"gw-laptop\" ip6 daddr fd88::2 fib saddr type != local drop\n"
      "    iifname != \"gw-laptop\" ip daddr 10.77.0.1 fib saddr type != local drop\n"
      "  }\n"
      "  chain premangle {\n"
      "    type filter hook prerouting priority mangle; policy accept;\n"
      "    meta l4proto udp ct mark 0x6777abcd meta mark set ct mark\n"
      "  }\n"
      "  chain postmangle {\n"
      "    type filter hook postrouting priority mangle; policy accept;\n"
      "    meta l4proto udp meta mark 0x6777abcd ct mark set meta mark\n"
      "  }\n"
      "}\n";
  CHECK(full_tunnel_ruleset(laptop()) == expected);
}

TEST_CASE("nft: no addresses, no drop rules; the mark rules stay") {
  FullTunnelFilter f = laptop();
  f.addresses.clear();
  const std::string text = full_tunnel_ruleset(f);
  CHECK_FALSE(contains_text(text, "drop"));
  CHECK(contains_text(text, "ct mark set meta mark"));
}

TEST_CASE("nft: install, replace and remove the table") {
  Nft nft;
  const std::string name = nft_table_name("gw-laptop");
  REQUIRE_FALSE(nft.has_table(name));
  nft.install(laptop());
  CHECK(nft.has_table(name));
  CHECK_FALSE(nft.has_table("gw-laptop"));  // the exact name only

  // A second install replaces the table in one transaction: one table, the
  // new rules only.
  FullTunnelFilter changed = laptop();
  changed.addresses = {prefix("10.88.0.3/32")};
  nft.install(changed);
  CHECK(nft.has_table(name));
  nft.run("list table inet " + name, "list");  // still there, listable

  // Another table with a name like it is left alone.
  nft.run("add table inet gw-gw-laptop2", "add a neighbour's table");
  nft.remove_table(name);
  CHECK_FALSE(nft.has_table(name));
  CHECK(nft.has_table("gw-gw-laptop2"));
  nft.remove_table("gw-gw-laptop2");
}

TEST_CASE("nft: every character an interface name may hold") {
  Nft nft;
  FullTunnelFilter f = laptop();
  f.interface = "0_a.B-9";  // letters, digits, _ . - (config.cpp's valid_interface_name)
  nft.install(f);
  CHECK(nft.has_table("gw-0_a.B-9"));
  nft.remove_table("gw-0_a.B-9");
}

TEST_CASE("nft: a failure names the step and nft's reason") {
  Nft nft;
  try {
    nft.remove_table("gw-nonexistent");
    FAIL("removing a missing table succeeded");
  } catch (const NftError& e) {
    const std::string what = e.what();
    CHECK(contains_text(what, "nftables: delete table inet gw-nonexistent: "));
    CHECK(contains_text(what, "No such file or directory"));
    CHECK_FALSE(contains_text(what, "\n"));
  }
  CHECK_THROWS_AS(nft.run("this is not nft", "bad input"), NftError);
  CHECK_NOTHROW(nft.run("list tables", "list"));  // the context still works
}

TEST_CASE("nft: src_valid_mark is set once (this namespace's)") {
  const char* path = "/proc/sys/net/ipv4/conf/all/src_valid_mark";
  {
    std::ofstream out(path);
    out << "0\n";
  }
  REQUIRE(read_file(path) == "0");
  CHECK(enable_src_valid_mark());
  CHECK(read_file(path) == "1");
  CHECK_FALSE(enable_src_valid_mark());
  CHECK(read_file(path) == "1");
}
