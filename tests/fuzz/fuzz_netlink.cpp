// SPDX-License-Identifier: MIT
// libFuzzer target: rtnetlink replies (platform::nl, the pure half of
// platform::Netlink). Input: one byte choosing the parser (ack, addresses,
// routes, rules), four bytes of sequence number (little-endian), then the
// datagram. Any input ends in a status, never a read out of bounds; errors
// carry an errno; every entry found is a well-formed prefix or rule.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../../src/platform/netlink_parse.hpp"

namespace nl = gw::platform::nl;
using gw::routing::Family;
using gw::routing::Prefix;

namespace {

void check_prefix(const Prefix& p) {
  if (p.length > gw::routing::address_bits(p.family)) std::abort();
  if (p.family == Family::v4) {
    for (std::size_t i = 4; i < p.address.size(); ++i) {
      if (p.address[i] != 0) std::abort();
    }
  }
}

void check_result(const nl::Result& r) {
  if (r.status == nl::Status::error && (r.error <= 0 || r.error >= 4096)) std::abort();
  if (r.status != nl::Status::error && r.error != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const std::uint32_t seq =
      static_cast<std::uint32_t>(data[1]) | static_cast<std::uint32_t>(data[2]) << 8 |
      static_cast<std::uint32_t>(data[3]) << 16 | static_cast<std::uint32_t>(data[4]) << 24;
  // A copy of exactly the datagram, so that reading past it trips ASan.
  const std::vector<std::uint8_t> datagram(data + 5, data + size);
  switch (data[0] % 4) {
    case 0:
      check_result(nl::parse_ack(datagram, seq));
      break;
    case 1: {
      std::vector<nl::AddressEntry> out;
      check_result(nl::parse_addresses(datagram, seq, out));
      for (const auto& e : out)
        check_prefix(e.prefix);
      break;
    }
    case 2: {
      std::vector<nl::RouteEntry> out;
      check_result(nl::parse_routes(datagram, seq, out));
      for (const auto& e : out)
        check_prefix(e.destination);
      break;
    }
    default: {
      std::vector<gw::platform::Rule> out;
      const nl::Result r = nl::parse_rules(datagram, seq, out);
      check_result(r);
      for (const auto& rule : out) {
        if (rule.suppress_prefixlength && *rule.suppress_prefixlength > 128) std::abort();
      }
      // The ack parser agrees on how the exchange ends.
      const nl::Result ack = nl::parse_ack(datagram, seq);
      if (r.status == nl::Status::done && ack.status != nl::Status::done) std::abort();
      break;
    }
  }
  return 0;
}
