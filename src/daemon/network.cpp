// SPDX-License-Identifier: MIT
// Network setup as an RAII object (network.hpp).
#include "network.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>

#include "gw/platform/nft.hpp"
#include "gw/platform/system.hpp"

namespace gw::daemon {
namespace {

// Policy-routing rules of a full tunnel, just ahead of the main table (32766).
constexpr std::uint32_t kSuppressRulePriority = 32764;
constexpr std::uint32_t kTunnelRulePriority = 32765;

}  // namespace

std::uint32_t tunnel_table(const std::string& name) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (const char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return 0x67770000u | (h & 0xffffu);
}

DefaultRoutes default_routes(const std::vector<config::Peer>& peers) {
  DefaultRoutes d;
  for (const config::Peer& p : peers) {
    for (const std::string& text : p.allowed_ips) {
      const routing::Prefix prefix = *routing::Prefix::parse(text);
      if (prefix.length == 0) (prefix.family == routing::Family::v4 ? d.v4 : d.v6) = true;
    }
  }
  return d;
}

void Network::setup_link(const config::InterfaceConfig& cfg, DefaultRoutes defaults) {
  setup_filter(cfg, defaults);
  netlink_.set_mtu(ifindex_, cfg.mtu);
  for (const std::string& text : cfg.addresses) {
    netlink_.add_address(ifindex_, *routing::Prefix::parse(text));
  }
  netlink_.set_up(ifindex_, true);
  if (table_ != 0) remove_stale_rules();
}

void Network::add_rules(DefaultRoutes defaults) {
  // Everything not marked by our own socket goes to our table; the main
  // table still wins with anything more specific than a default route (the
  // underlay's own subnets).
  for (const auto& [family, on] :
       {std::pair{routing::Family::v4, defaults.v4}, std::pair{routing::Family::v6, defaults.v6}}) {
    if (!on) continue;
    platform::Rule suppress;
    suppress.family = family;
    suppress.priority = kSuppressRulePriority;
    suppress.table = platform::kMainTable;
    suppress.suppress_prefixlength = 0;
    suppress.protocol = platform::kProtocolGw;
    platform::Rule tunnel;
    tunnel.family = family;
    tunnel.priority = kTunnelRulePriority;
    tunnel.table = table_;
    tunnel.fwmark = table_;
    tunnel.invert = true;
    tunnel.protocol = platform::kProtocolGw;
    for (const platform::Rule& r : {suppress, tunnel}) {
      netlink_.add_rule(r);
      rules_added_.push_back(r);
    }
  }
}

void Network::add_routes(const std::vector<routing::Prefix>& prefixes) {
  for (const routing::Prefix& prefix : prefixes) {
    // A default route never goes into the main table: a full tunnel's goes
    // into its table (its rules send traffic there), an exit node's too.
    const std::uint32_t table = prefix.length == 0 ? own_table_ : platform::kMainTable;
    try {
      netlink_.add_route(ifindex_, prefix, table, platform::kProtocolGw);
      routes_added_.push_back({prefix, table});
    } catch (const platform::NetlinkError& e) {
      if (e.error() != EEXIST) throw;
      // The kernel's own route for an interface address, or one an operator made.
      log_.debug("route " + prefix.to_string() + " exists already; left as it is");
    }
  }
}

void Network::remove_routes(const std::vector<routing::Prefix>& prefixes) {
  for (const routing::Prefix& prefix : prefixes) {
    // Only routes we added: a network belongs to one peer, so the prefix names it.
    const auto it = std::find_if(routes_added_.begin(), routes_added_.end(),
                                 [&](const AddedRoute& r) { return r.prefix == prefix; });
    if (it == routes_added_.end()) continue;
    try {
      netlink_.remove_route(ifindex_, it->prefix, it->table, platform::kProtocolGw);
    } catch (const platform::NetlinkError& e) {
      if (e.error() != ESRCH) log_.warn("route " + prefix.to_string() + ": " + e.what());
    }
    routes_added_.erase(it);
  }
}

void Network::remove_stale_rules() {
  for (const routing::Family f : {routing::Family::v4, routing::Family::v6}) {
    for (const platform::Rule& r : netlink_.rules(f)) {
      // gwd's mark, and one of the two rules it adds: an identical rule
      // without the mark (wg-quick's) is someone else's.
      const bool ours =
          r.protocol == platform::kProtocolGw &&
          (r.table == table_ || (r.priority == kSuppressRulePriority &&
                                 r.suppress_prefixlength == 0 && r.table == platform::kMainTable));
      if (!ours) continue;
      try {
        netlink_.remove_rule(r);
        log_.info("removed a rule left by an earlier run (table " + std::to_string(r.table) + ")");
      } catch (const platform::NetlinkError& e) {
        log_.warn(e.what());
      }
    }
  }
}

// The full tunnel's nftables table (gw/platform/nft.hpp), before the
// interface has its addresses. A table of that name that an earlier run
// left goes, with or without a full tunnel now.
void Network::setup_filter(const config::InterfaceConfig& cfg, DefaultRoutes defaults) {
  const std::string table = platform::nft_table_name(cfg.name);
  const std::string stale = "removed nftables table inet " + table + " left by an earlier run";
  if (table_ == 0) {
    try {
      platform::Nft nft;
      if (!nft.has_table(table)) return;
      nft.remove_table(table);
      log_.info(stale);
    } catch (const platform::NftError& e) {
      log_.debug(e.what());  // no nftables here: nothing to remove either
    }
    return;
  }
  platform::FullTunnelFilter filter;
  filter.interface = cfg.name;
  filter.fwmark = table_;
  for (const std::string& text : cfg.addresses) {
    const routing::Prefix a = *routing::Prefix::parse(text);
    if (a.family == routing::Family::v4 ? defaults.v4 : defaults.v6) filter.addresses.push_back(a);
  }
  platform::Nft nft;
  const bool left = nft.has_table(table);
  nft.install(filter);
  filter_added_ = true;
  if (left) log_.info(stale);
  if (!defaults.v4) return;  // IPv6 has no rp_filter
  try {
    if (platform::enable_src_valid_mark()) log_.info("set net.ipv4.conf.all.src_valid_mark=1");
  } catch (const std::exception& e) {
    // Under the systemd unit /proc/sys is hidden and read-only.
    log_.warn("cannot set net.ipv4.conf.all.src_valid_mark=1 (" + std::string(e.what()) +
              "): if reverse-path filtering is strict (rp_filter=1), the peer's replies are "
              "dropped until it is set (sysctl.d)");
  }
}

Network::~Network() {
  for (auto it = rules_added_.rbegin(); it != rules_added_.rend(); ++it) {
    try {
      netlink_.remove_rule(*it);
    } catch (const std::exception& e) {
      log_.warn(std::string("teardown: ") + e.what());
    }
  }
  for (auto it = routes_added_.rbegin(); it != routes_added_.rend(); ++it) {
    try {
      netlink_.remove_route(ifindex_, it->prefix, it->table, platform::kProtocolGw);
    } catch (const platform::NetlinkError& e) {
      // Routes die with the device; one already gone is no failure.
      if (e.error() != ESRCH && e.error() != ENODEV)
        log_.warn(std::string("teardown: ") + e.what());
    } catch (const std::exception& e) {
      log_.warn(std::string("teardown: ") + e.what());
    }
  }
  if (!filter_added_) return;
  try {
    platform::Nft().remove_table(platform::nft_table_name(name_));
  } catch (const std::exception& e) {
    log_.warn(std::string("teardown: ") + e.what());
  }
}

}  // namespace gw::daemon
