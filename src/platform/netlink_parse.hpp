// SPDX-License-Identifier: MIT
// rtnetlink replies as plain bytes: the pure half of platform::Netlink, kept
// apart so that a fuzz target can feed it anything. Nothing here touches a
// socket; every read is bounds-checked and copied out (no alignment needed).
#pragma once

#include <cstdint>
#include <vector>

#include "gw/bytes.hpp"
#include "gw/platform/netlink.hpp"
#include "gw/routing/allowed_ips.hpp"

namespace gw::platform::nl {

// How one datagram of replies to request `seq` ends.
enum class Status : std::uint8_t {
  more,   // no end seen: read another datagram
  done,   // the ACK (error 0) or NLMSG_DONE of `seq`
  error,  // the kernel refused (error holds the errno), or the bytes are malformed (EBADMSG)
};

struct Result {
  Status status = Status::more;
  int error = 0;             // positive errno when status == error
  bool interrupted = false;  // a dump message carried NLM_F_DUMP_INTR: the dump may be torn
};

struct AddressEntry {
  unsigned ifindex = 0;
  routing::Prefix prefix;  // host bits kept: 10.0.0.1/24
  friend bool operator==(const AddressEntry&, const AddressEntry&) = default;
};

struct RouteEntry {
  unsigned oif = 0;  // 0 when the route has no RTA_OIF (multipath, blackhole)
  std::uint32_t table = 0;
  std::uint8_t type = 0;  // RTN_UNICAST, RTN_LOCAL, ...
  routing::Prefix destination;
  std::uint8_t protocol = 0;  // rtm_protocol: RTPROT_KERNEL, RTPROT_STATIC, ...
  friend bool operator==(const RouteEntry&, const RouteEntry&) = default;
};

// Each walks the netlink messages of one datagram, skipping those of other
// sequence numbers (stale replies), and stops at the first end or error of
// `seq`. The dump parsers append what they find to `out`: IPv4 and IPv6
// entries only. parse_rules keeps only "lookup table" rules that a Rule can
// express (no source/destination/interface/port selectors, full fwmark mask).
Result parse_ack(Bytes datagram, std::uint32_t seq) noexcept;
Result parse_addresses(Bytes datagram, std::uint32_t seq, std::vector<AddressEntry>& out);
Result parse_routes(Bytes datagram, std::uint32_t seq, std::vector<RouteEntry>& out);
Result parse_rules(Bytes datagram, std::uint32_t seq, std::vector<Rule>& out);

}  // namespace gw::platform::nl
