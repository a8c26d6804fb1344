// SPDX-License-Identifier: MIT
// Netlink against the kernel: link state, addresses, routes and rules, each
// read back (by ioctl, or by the dumps under test) after it is set.
#include <doctest/doctest.h>

#include <cerrno>
#include <optional>
#include <string>

#include "gw/platform/netlink.hpp"
#include "gw/platform/tun.hpp"
#include "support.hpp"

using gw::platform::kMainTable;
using gw::platform::kProtocolGw;
using gw::platform::kProtocolKernel;
using gw::platform::kProtocolStatic;
using gw::platform::Netlink;
using gw::platform::NetlinkError;
using gw::platform::Rule;
using gw::platform::Tun;
using gw::platform::test::contains;
using gw::platform::test::interface_mtu;
using gw::platform::test::interface_up;
using gw::platform::test::prefix;
using gw::routing::Family;

namespace {

// The NetlinkError `call` throws; fails the test when it throws none.
template <class Call>
NetlinkError netlink_error(Call&& call) {
  try {
    call();
  } catch (const NetlinkError& e) {
    return e;
  }
  FAIL("no NetlinkError");
  return NetlinkError("", 0);
}

Rule make_rule(Family family, std::uint32_t priority, std::uint32_t table,
               std::optional<std::uint32_t> fwmark = std::nullopt, bool invert = false,
               std::optional<std::uint8_t> suppress_prefixlength = std::nullopt) {
  Rule rule;
  rule.family = family;
  rule.priority = priority;
  rule.table = table;
  rule.fwmark = fwmark;
  rule.invert = invert;
  rule.suppress_prefixlength = suppress_prefixlength;
  return rule;
}

}  // namespace

TEST_CASE("Netlink: ifindex by name") {
  const Tun tun = Tun::open({.name = "gwidx0", .offloads = false});
  Netlink netlink;
  CHECK(netlink.ifindex("gwidx0") == tun.ifindex());
  CHECK(netlink.ifindex("lo") == 1);
  const NetlinkError e = netlink_error([&] { (void)netlink.ifindex("gwnosuch0"); });
  CHECK(e.error() == ENODEV);
  CHECK(std::string(e.what()).find("gwnosuch0") != std::string::npos);
}

TEST_CASE("Netlink: set_mtu and set_up, read back by ioctl") {
  const Tun tun = Tun::open({.name = "gwlink0", .offloads = true});
  Netlink netlink;
  netlink.set_mtu(tun.ifindex(), 1420);
  CHECK(interface_mtu("gwlink0") == 1420);
  netlink.set_mtu(tun.ifindex(), 9000);
  CHECK(interface_mtu("gwlink0") == 9000);
  CHECK_FALSE(interface_up("gwlink0"));
  netlink.set_up(tun.ifindex(), true);
  CHECK(interface_up("gwlink0"));
  netlink.set_up(tun.ifindex(), false);
  CHECK_FALSE(interface_up("gwlink0"));

  // The kernel refuses an MTU below IPv4's minimum of 68: the error says so.
  const NetlinkError e = netlink_error([&] { netlink.set_mtu(tun.ifindex(), 10); });
  CHECK(e.error() == EINVAL);
  CHECK(std::string(e.what()) == "set mtu 10 dev gwlink0: Invalid argument");
  CHECK(interface_mtu("gwlink0") == 9000);
}

TEST_CASE("Netlink: add, list and remove IPv4 and IPv6 addresses") {
  const Tun tun = Tun::open({.name = "gwaddr0", .offloads = false});
  Netlink netlink;
  const unsigned index = tun.ifindex();
  const auto v4 = prefix("10.77.0.1/24");
  const auto v6 = prefix("fd00:77::1/64");
  CHECK(netlink.addresses(index).empty());

  netlink.add_address(index, v4);
  netlink.add_address(index, v6);
  netlink.set_up(index, true);
  auto listed = netlink.addresses(index);
  CHECK(contains(listed, v4));  // host bits kept
  CHECK(contains(listed, v6));
  CHECK_FALSE(contains(netlink.addresses(1), v4));  // not on lo

  const NetlinkError duplicate = netlink_error([&] { netlink.add_address(index, v4); });
  CHECK(duplicate.error() == EEXIST);
  CHECK(std::string(duplicate.what()) == "add address 10.77.0.1/24 dev gwaddr0: File exists");

  netlink.remove_address(index, v4);
  listed = netlink.addresses(index);
  CHECK_FALSE(contains(listed, v4));
  CHECK(contains(listed, v6));
  netlink.remove_address(index, v6);
  listed = netlink.addresses(index);
  CHECK_FALSE(contains(listed, v6));

  const NetlinkError gone = netlink_error([&] { netlink.remove_address(index, v6); });
  CHECK(gone.error() == EADDRNOTAVAIL);
  CHECK(std::string(gone.what()).find("remove address fd00:77::1/64 dev gwaddr0: ") == 0);
}

TEST_CASE("Netlink: routes in the main table, IPv4 and IPv6") {
  const Tun tun = Tun::open({.name = "gwroute0", .offloads = false});
  Netlink netlink;
  const unsigned index = tun.ifindex();
  netlink.set_up(index, true);
  const auto v4 = prefix("10.78.0.0/16");
  const auto v6 = prefix("fd00:78::/32");
  const auto host = prefix("192.0.2.7/32");
  netlink.add_route(index, v4);
  netlink.add_route(index, v6);
  netlink.add_route(index, host);
  auto listed = netlink.routes(index);
  CHECK(contains(listed, v4));
  CHECK(contains(listed, v6));
  CHECK(contains(listed, host));
  CHECK_FALSE(contains(netlink.routes(1), v4));  // not through lo

  const NetlinkError duplicate = netlink_error([&] { netlink.add_route(index, v4); });
  CHECK(duplicate.error() == EEXIST);
  CHECK(std::string(duplicate.what()) ==
        "add route 10.78.0.0/16 dev gwroute0 table main: File exists");
  const NetlinkError duplicate6 = netlink_error([&] { netlink.add_route(index, v6); });
  CHECK(duplicate6.error() == EEXIST);
  CHECK(std::string(duplicate6.what()) ==
        "add route fd00:78::/32 dev gwroute0 table main: File exists");

  netlink.remove_route(index, v4);
  netlink.remove_route(index, v6);
  listed = netlink.routes(index);
  CHECK_FALSE(contains(listed, v4));
  CHECK_FALSE(contains(listed, v6));
  CHECK(contains(listed, host));

  const NetlinkError gone = netlink_error([&] { netlink.remove_route(index, v4); });
  CHECK(gone.error() == ESRCH);
  CHECK(std::string(gone.what()).find("remove route 10.78.0.0/16 dev gwroute0 table main: ") == 0);
}

TEST_CASE("Netlink: a route's host bits are masked off") {
  const Tun tun = Tun::open({.name = "gwmask0", .offloads = false});
  Netlink netlink;
  netlink.set_up(tun.ifindex(), true);
  netlink.add_route(tun.ifindex(), prefix("10.79.1.2/16"));
  CHECK(contains(netlink.routes(tun.ifindex()), prefix("10.79.0.0/16")));
}

TEST_CASE("Netlink: routes in other tables, above and below 256") {
  const Tun tun = Tun::open({.name = "gwtable0", .offloads = false});
  Netlink netlink;
  const unsigned index = tun.ifindex();
  netlink.set_up(index, true);
  for (const std::uint32_t table : {100u, 51820u, 0x7fffffffu}) {
    CAPTURE(table);
    const auto v4 = prefix("0.0.0.0/0");
    const auto v6 = prefix("::/0");
    netlink.add_route(index, v4, table);
    netlink.add_route(index, v6, table);
    const auto listed = netlink.routes(index, table);
    CHECK(listed.size() == 2);
    CHECK(contains(listed, v4));
    CHECK(contains(listed, v6));
    CHECK_FALSE(contains(netlink.routes(index), v4));  // not in main
    CHECK_FALSE(contains(netlink.routes(index), v6));

    const NetlinkError duplicate = netlink_error([&] { netlink.add_route(index, v4, table); });
    CHECK(duplicate.error() == EEXIST);
    CHECK(std::string(duplicate.what()) ==
          "add route 0.0.0.0/0 dev gwtable0 table " + std::to_string(table) + ": File exists");

    netlink.remove_route(index, v4, table);
    netlink.remove_route(index, v6, table);
    CHECK(netlink.routes(index, table).empty());
  }
}

TEST_CASE("Netlink: policy rules with fwmark, invert and suppress_prefixlength") {
  Netlink netlink;
  for (const Family family : {Family::v4, Family::v6}) {
    CAPTURE(static_cast<int>(family));
    const Family other = family == Family::v4 ? Family::v6 : Family::v4;
    // The kernel's own rules read back too, with the kernel's protocol.
    Rule main_rule = make_rule(family, 32766, kMainTable);
    main_rule.protocol = kProtocolKernel;
    CHECK(contains(netlink.rules(family), main_rule));

    const Rule tunnel = make_rule(family, 1000, 51820, 0xca6c, true);
    const Rule main_first = make_rule(family, 1001, kMainTable, std::nullopt, false, 0);
    const Rule marked = make_rule(family, 1002, 200, 7);
    for (const Rule& rule : {tunnel, main_first, marked})
      netlink.add_rule(rule);
    auto listed = netlink.rules(family);
    CHECK(contains(listed, tunnel));
    CHECK(contains(listed, main_first));
    CHECK(contains(listed, marked));
    for (const Rule& r : netlink.rules(other))
      CHECK(r.priority != 1000);  // not the other family
    const NetlinkError duplicate = netlink_error([&] { netlink.add_rule(tunnel); });
    CHECK(duplicate.error() == EEXIST);
    CHECK(std::string(duplicate.what()) ==
          std::string("add rule ") + (family == Family::v4 ? "ipv4" : "ipv6") +
              " priority 1000 not fwmark 0xca6c lookup 51820: File exists");

    for (const Rule& rule : {tunnel, main_first, marked})
      netlink.remove_rule(rule);
    listed = netlink.rules(family);
    CHECK_FALSE(contains(listed, tunnel));
    CHECK_FALSE(contains(listed, main_first));
    CHECK_FALSE(contains(listed, marked));
    const NetlinkError gone = netlink_error([&] { netlink.remove_rule(main_first); });
    CHECK(gone.error() == ENOENT);
  }
}

TEST_CASE("Netlink: a rule without a priority gets one from the kernel") {
  Netlink netlink;
  const Rule rule = make_rule(Family::v4, 0, 4242, 0x99);
  netlink.add_rule(rule);
  const auto listed = netlink.rules(Family::v4);
  Rule found;
  bool seen = false;
  for (const Rule& r : listed) {
    if (r.table == 4242) {
      found = r;
      seen = true;
    }
  }
  REQUIRE(seen);
  CHECK(found.priority != 0);
  CHECK(found.fwmark == 0x99u);
  netlink.remove_rule(found);
  for (const Rule& r : netlink.rules(Family::v4))
    CHECK(r.table != 4242);
}

TEST_CASE("Netlink: a rule's protocol round-trips and tells twins apart") {
  Netlink netlink;
  for (const Family family : {Family::v4, Family::v6}) {
    CAPTURE(static_cast<int>(family));
    // wg-quick's rule (no protocol) and gw's own, otherwise identical: the
    // kernel keeps both, and each removal takes only its own.
    const Rule foreign = make_rule(family, 32764, kMainTable, std::nullopt, false, 0);
    Rule ours = foreign;
    ours.protocol = kProtocolGw;
    netlink.add_rule(foreign);
    netlink.add_rule(ours);
    auto listed = netlink.rules(family);
    CHECK(contains(listed, foreign));
    CHECK(contains(listed, ours));
    const NetlinkError duplicate = netlink_error([&] { netlink.add_rule(ours); });
    CHECK(duplicate.error() == EEXIST);
    CHECK(std::string(duplicate.what()) ==
          std::string("add rule ") + (family == Family::v4 ? "ipv4" : "ipv6") +
              " priority 32764 lookup main suppress_prefixlength 0 proto 103: File exists");

    netlink.remove_rule(ours);
    listed = netlink.rules(family);
    CHECK_FALSE(contains(listed, ours));
    CHECK(contains(listed, foreign));
    const NetlinkError gone = netlink_error([&] { netlink.remove_rule(ours); });
    CHECK(gone.error() == ENOENT);
    netlink.remove_rule(foreign);
    CHECK_FALSE(contains(netlink.rules(family), foreign));
  }
}

TEST_CASE("Netlink: a route's protocol round-trips; a removal by protocol takes only its own") {
  const Tun tun = Tun::open({.name = "gwproto0", .offloads = false});
  Netlink netlink;
  const unsigned index = tun.ifindex();
  netlink.set_up(index, true);
  const auto ours = prefix("10.81.0.0/16");
  const auto theirs = prefix("fd00:81::/32");
  netlink.add_route(index, ours, kMainTable, kProtocolGw);
  netlink.add_route(index, theirs);  // static, as an administrator's
  const auto protocol_of = [&](const gw::routing::Prefix& p) {
    for (const auto& r : netlink.table_routes(kMainTable)) {
      if (r.ifindex == index && r.destination == p) return static_cast<int>(r.protocol);
    }
    return -1;
  };
  CHECK(protocol_of(ours) == kProtocolGw);
  CHECK(protocol_of(theirs) == kProtocolStatic);

  const NetlinkError other =
      netlink_error([&] { netlink.remove_route(index, theirs, kMainTable, kProtocolGw); });
  CHECK(other.error() == ESRCH);
  CHECK(protocol_of(theirs) == kProtocolStatic);
  netlink.remove_route(index, ours, kMainTable, kProtocolGw);
  CHECK(protocol_of(ours) == -1);
  netlink.remove_route(index, theirs);  // any protocol
  CHECK(protocol_of(theirs) == -1);
}
