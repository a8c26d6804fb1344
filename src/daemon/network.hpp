// SPDX-License-Identifier: MIT
// Network setup as an object: the TUN's link (MTU, addresses, up), the routes
// to the peers, a full tunnel's policy rules and nftables filter. Whatever it
// added, its destructor removes, in reverse order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gw/config/config.hpp"
#include "gw/platform/netlink.hpp"
#include "gw/routing/allowed_ips.hpp"
#include "log.hpp"

namespace gw::daemon {

// The routing table and firewall mark of an interface's full tunnel: fixed
// per interface name, so a restart finds what a killed run left behind.
std::uint32_t tunnel_table(const std::string& name);

// Which families a set of allowed IPs routes whole (a default route).
struct DefaultRoutes {
  bool v4 = false;
  bool v6 = false;
  bool any() const noexcept { return v4 || v6; }
};
DefaultRoutes default_routes(const std::vector<config::Peer>& peers);

class Network {
 public:
  // `table`: a full tunnel's table and mark (0: none); `own_table`: gwd's own
  // table, where default routes go.
  Network(platform::Netlink& netlink, const Log& log, std::string name, unsigned ifindex,
          std::uint32_t table, std::uint32_t own_table)
      : netlink_(netlink),
        log_(log),
        name_(std::move(name)),
        ifindex_(ifindex),
        table_(table),
        own_table_(own_table) {}
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // The full tunnel's filter (or a stale one removed), then MTU, addresses
  // and the link up. Throws on a kernel refusal.
  void setup_link(const config::InterfaceConfig& cfg, DefaultRoutes defaults);
  // A full tunnel's rules, as wg-quick builds them, once the routes are there.
  void add_rules(DefaultRoutes defaults);
  // Routes through the TUN: a default route into gwd's own table, any other
  // into the main table. A route that exists already is left as it is.
  void add_routes(const std::vector<routing::Prefix>& prefixes);
  // Only routes add_routes added.
  void remove_routes(const std::vector<routing::Prefix>& prefixes);

 private:
  struct AddedRoute {
    routing::Prefix prefix;
    std::uint32_t table;
  };
  void remove_stale_rules();
  void setup_filter(const config::InterfaceConfig& cfg, DefaultRoutes defaults);

  platform::Netlink& netlink_;
  const Log& log_;
  std::string name_;
  unsigned ifindex_;
  std::uint32_t table_;
  std::uint32_t own_table_;
  std::vector<AddedRoute> routes_added_;
  std::vector<platform::Rule> rules_added_;
  bool filter_added_ = false;
};

}  // namespace gw::daemon
