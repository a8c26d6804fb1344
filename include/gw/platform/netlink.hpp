// SPDX-License-Identifier: MIT
// rtnetlink, spoken directly (no `ip`, no shell): link state and MTU,
// addresses, routes and policy-routing rules. Every request waits for the
// kernel's acknowledgement; a refusal throws NetlinkError naming the request
// and the kernel's reason, e.g.
//   "add route 10.78.0.0/16 dev gw0 table main: File exists".
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gw/routing/allowed_ips.hpp"

namespace gw::platform {

class NetlinkError : public std::runtime_error {
 public:
  NetlinkError(const std::string& what, int error) : std::runtime_error(what), error_(error) {}
  int error() const noexcept { return error_; }  // errno value, e.g. EEXIST
 private:
  int error_;
};

inline constexpr std::uint32_t kMainTable = 254;  // RT_TABLE_MAIN

// Who made a route or rule (rtm_protocol, FRA_PROTOCOL), as `ip` shows it
// ("proto kernel", "proto static"). gw marks what it adds with its own,
// kProtocolGw (103, free in iproute2's rt_protos; `ip` prints "proto 103"),
// so that it can tell its routes and rules from identical ones of anyone
// else's (wg-quick's suppress rule, say) and remove only its own.
inline constexpr std::uint8_t kProtocolUnspec = 0;  // RTPROT_UNSPEC: no one said
inline constexpr std::uint8_t kProtocolKernel = 2;  // RTPROT_KERNEL
inline constexpr std::uint8_t kProtocolStatic = 4;  // RTPROT_STATIC: an administrator
inline constexpr std::uint8_t kProtocolGw = 103;

struct Rule {
  routing::Family family = routing::Family::v4;
  std::uint32_t priority = 0;                         // 0: let the kernel choose
  std::uint32_t table = kMainTable;                   // lookup this table
  std::optional<std::uint32_t> fwmark;                // match packets with this mark
  bool invert = false;                                // "not fwmark": match packets without it
  std::optional<std::uint8_t> suppress_prefixlength;  // ignore routes this short or shorter
  // Who made it. Twins that differ only here are two rules, and a removal
  // with a protocol takes only the rule of that protocol (unspec: any).
  std::uint8_t protocol = kProtocolUnspec;
  friend bool operator==(const Rule&, const Rule&) = default;
};

class Netlink {
 public:
  // Opens a NETLINK_ROUTE socket. Throws std::system_error.
  Netlink();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // The interface's index; throws NetlinkError(ENODEV) when there is none.
  unsigned ifindex(const std::string& name) const;

  void set_mtu(unsigned ifindex, unsigned mtu);
  void set_up(unsigned ifindex, bool up);

  // Interface addresses (IPv6 without duplicate address detection, so they
  // are usable at once). The prefix keeps its host bits: 10.77.0.1/24.
  void add_address(unsigned ifindex, const routing::Prefix& address);
  void remove_address(unsigned ifindex, const routing::Prefix& address);
  std::vector<routing::Prefix> addresses(unsigned ifindex);
  // Every interface's addresses.
  std::vector<routing::Prefix> all_addresses();

  // Routes through the interface (scope link), exclusive: adding a route
  // that exists throws NetlinkError(EEXIST). A removal with a protocol
  // takes only a route of that protocol (ESRCH otherwise); unspec: any.
  void add_route(unsigned ifindex, const routing::Prefix& destination,
                 std::uint32_t table = kMainTable, std::uint8_t protocol = kProtocolStatic);
  void remove_route(unsigned ifindex, const routing::Prefix& destination,
                    std::uint32_t table = kMainTable, std::uint8_t protocol = kProtocolUnspec);
  // The destinations of the routes through `ifindex` in `table`.
  std::vector<routing::Prefix> routes(unsigned ifindex, std::uint32_t table = kMainTable);
  // The unicast routes of `table` through any device (0 for a route without
  // one device, such as a multipath route).
  struct DeviceRoute {
    routing::Prefix destination;
    unsigned ifindex = 0;
    std::uint8_t protocol = kProtocolUnspec;
  };
  std::vector<DeviceRoute> table_routes(std::uint32_t table = kMainTable);

  // Policy-routing rules (exclusive, like routes).
  void add_rule(const Rule& rule);
  void remove_rule(const Rule& rule);
  std::vector<Rule> rules(routing::Family family);

  // The interface's name, for messages ("ifindex 7" when it has none).
  static std::string device_name(unsigned ifindex);

 private:
  int fd_ = -1;
  std::uint32_t seq_ = 0;
};

}  // namespace gw::platform
