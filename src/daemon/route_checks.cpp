// SPDX-License-Identifier: MIT
// Route checks: what the host routes itself (the underlay, read over
// rtnetlink and kept for a few seconds), and why a peer's allowed IPs or a
// certificate's prefix cannot be routed to it.
#include <algorithm>

#include "gateway.hpp"

namespace gw::daemon {
namespace {

// How long the host's addresses and routes, read for the certificate
// checks, are trusted before they are read again.
constexpr auto kUnderlayMaxAge = std::chrono::seconds(5);

// The allowed IP at `k` that holds `endpoint`'s address: its handshakes would
// go into the tunnel they carry. A default route does not count: it goes to
// gwd's own table, which gwd's marked socket never uses.
std::optional<std::size_t> holding_endpoint(const std::vector<std::string>& allowed,
                                            const session::Endpoint& endpoint) {
  for (std::size_t k = 0; k < allowed.size(); ++k) {
    const routing::Prefix prefix = routing::Prefix::parse(allowed[k])->masked();
    if (prefix.length != 0 && prefix.contains(endpoint.address_bytes())) return k;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Gateway::prefix_conflict(const routing::Prefix& prefix, PeerId self) {
  if (prefix.length == 0) {  // an exit node's default route: one peer holds it
    for (const auto& [id, info] : peers_) {
      if (id != self && std::find(info.allowed_ips.begin(), info.allowed_ips.end(), prefix) !=
                            info.allowed_ips.end()) {
        return "routed to peer " + info.name;
      }
    }
    return std::nullopt;
  }
  if (const auto other = allowed_.overlapping(prefix, self)) {
    return "overlaps a network of peer " + peer_name(*other);
  }
  const Underlay& u = underlay();
  for (const routing::Prefix& a : u.addresses) {
    const std::size_t len = a.family == routing::Family::v4 ? 4 : 16;
    if (prefix.contains(Bytes(a.address.data(), len))) {
      return "holds " +
             routing::Prefix{a.family, a.address, static_cast<std::uint8_t>(len * 8)}.to_string() +
             ", an address of this gateway";
    }
  }
  if (const auto* r = underlay_route(prefix, false)) {
    return "overlaps the route " + r->destination.masked().to_string() + " of this gateway";
  }
  return std::nullopt;
}

const platform::Netlink::DeviceRoute* Gateway::underlay_route(const routing::Prefix& prefix,
                                                              bool exact) {
  for (const auto& r : underlay().routes) {
    if (r.destination.length == 0) continue;
    if (exact ? r.destination.masked() == prefix.masked() : r.destination.overlaps(prefix)) {
      return &r;
    }
  }
  return nullptr;
}

std::optional<std::string> Gateway::route_refusal(const std::vector<std::string>& allowed,
                                                  const std::optional<config::HostPort>& endpoint,
                                                  const std::string& path, bool routes) {
  const auto at = [&](std::size_t k) { return path + "[" + std::to_string(k) + "]: "; };
  if (endpoint && endpoint->address) {
    if (const auto k = holding_endpoint(allowed, *endpoint->address)) {
      return at(*k) + allowed[*k] + " holds the peer's own endpoint " + endpoint->to_string() +
             ", so its handshakes would go into its own tunnel";
    }
  }
  for (std::size_t k = 0; routes && k < allowed.size(); ++k) {
    const auto* r = underlay_route(*routing::Prefix::parse(allowed[k]), true);
    if (r == nullptr) continue;
    return at(k) + allowed[k] + " is routed through " +
           (r->ifindex != 0 ? platform::Netlink::device_name(r->ifindex) : "several devices") +
           " already, so gwd could not route it to the peer (remove that route, or this prefix)";
  }
  return std::nullopt;
}

std::vector<std::string> Gateway::route_refusals(const config::InterfaceConfig& cfg,
                                                 const std::string& prefix) {
  underlay_.valid = false;  // what the host routes now, not 5 s ago
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cfg.peers.size(); ++i) {
    const config::Peer& p = cfg.peers[i];
    const std::string path = "$.peers[" + std::to_string(i) + "].allowed_ips";
    if (auto why = route_refusal(p.allowed_ips, p.endpoint, path, true)) {
      out.push_back(prefix + *why);
    }
  }
  return out;
}

const Gateway::Underlay& Gateway::underlay() {
  const Instant now = Clock::now();
  if (underlay_.valid && now - underlay_.read < kUnderlayMaxAge) return underlay_;
  underlay_.addresses = netlink_->all_addresses();
  underlay_.routes.clear();
  for (auto& r : netlink_->table_routes(platform::kMainTable)) {
    // Before the TUN exists (at start) every route is another device's.
    if (tun_.fd() < 0 || r.ifindex != tun_.ifindex()) underlay_.routes.push_back(r);
  }
  underlay_.read = now;
  underlay_.valid = true;
  return underlay_;
}

}  // namespace gw::daemon
