// SPDX-License-Identifier: MIT
// The netfilter half of a full tunnel, as wg-quick builds it: one nftables
// table of gwd's own per interface ("inet gw-IFACE"), spoken through
// libnftables (no `nft` process, no shell), and the one sysctl it relies on.
//  * preraw (prerouting, priority raw): drops packets for the interface's
//    own tunnel addresses that arrive on any other interface and do not
//    come from this host, so that a LAN neighbour gets no answer from them;
//  * premangle and postmangle (priority mangle): gwd's UDP packets, which
//    carry the socket's firewall mark, give their conntrack entry that mark,
//    and the replies take it back on the way in; with
//    net.ipv4.conf.all.src_valid_mark=1 strict reverse-path filtering
//    (rp_filter=1) then checks them against the main table, where the
//    underlay is, instead of the tunnel's table, and lets them pass.
// Failures throw NftError naming the step and nft's own message.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gw/routing/allowed_ips.hpp"

struct nft_ctx;

namespace gw::platform {

class NftError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FullTunnelFilter {
  std::string interface;                   // the TUN device, e.g. "gw0"
  std::uint32_t fwmark = 0;                // the mark on gwd's UDP socket
  std::vector<routing::Prefix> addresses;  // the interface's own (host bits are the address)
};

// The table's name for an interface: "gw-" + interface ("gw-gw0").
std::string nft_table_name(const std::string& interface);

// The table as nft's text, "table inet gw-IFACE { ... }": pure, for tests.
std::string full_tunnel_ruleset(const FullTunnelFilter& filter);

class Nft {
 public:
  // A libnftables context whose output and errors are buffered, never
  // printed. Throws NftError.
  Nft();
  ~Nft();
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;

  // Whether table inet NAME exists.
  bool has_table(const std::string& name);
  // Creates the filter's table in one transaction that first removes a table
  // of that name, if there is one.
  void install(const FullTunnelFilter& filter);
  // Deletes table inet NAME; throws if there is none.
  void remove_table(const std::string& name);

  // Runs nft commands; throws NftError("nftables: WHAT: nft's message").
  void run(const std::string& commands, const std::string& what);

 private:
  nft_ctx* ctx_ = nullptr;
};

// Sets net.ipv4.conf.all.src_valid_mark to 1 unless it is 1 already; true
// if it changed it. Throws std::runtime_error naming the file and the reason
// ("/proc/sys/net/ipv4/conf/all/src_valid_mark: Read-only file system").
bool enable_src_valid_mark();

}  // namespace gw::platform
