// SPDX-License-Identifier: MIT
// libFuzzer target: allowed-IPs prefix text. Any input is refused or parses
// into a prefix whose printed form parses back to the same prefix (and prints
// the same); a table holding the prefix routes its own address to it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gw/routing/allowed_ips.hpp"

using gw::routing::AllowedIps;
using gw::routing::Family;
using gw::routing::Prefix;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto p = Prefix::parse(text);
  if (!p) return 0;
  const unsigned width = gw::routing::address_bits(p->family);
  if (p->length > width) std::abort();
  if (p->family == Family::v4) {
    for (std::size_t i = 4; i < p->address.size(); ++i) {
      if (p->address[i] != 0) std::abort();
    }
  }
  const std::string printed = p->to_string();
  const auto again = Prefix::parse(printed);
  if (!again || *again != *p || again->to_string() != printed) std::abort();

  AllowedIps table;
  table.insert(*p, 7);
  const gw::Bytes address(p->address.data(), width / 8);
  if (table.lookup(address) != 7u || table.entries(7).size() != 1 ||
      table.entries(7)[0] != p->masked()) {
    std::abort();
  }
  if (!table.remove(*p) || !table.empty()) std::abort();
  return 0;
}
