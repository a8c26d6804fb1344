// SPDX-License-Identifier: MIT
// Cryptokey routing: the table of allowed IPs. Each IPv4 or IPv6 prefix maps
// to a value (a peer id). Outbound packets go to the peer whose prefix is the
// longest match on their destination; inbound packets are kept only when
// their source matches a prefix of the peer that sent them.
//
// Shape: one path-compressed binary trie per family. Every node holds a
// masked prefix; a child extends its parent's prefix by at least one bit, and
// the first bit after the parent's length picks the child. Nodes without a
// value exist only where two branches split, so the trie has fewer than twice
// as many nodes as prefixes and is at most 33 (IPv4) or 129 (IPv6) levels
// deep. A lookup walks one path, remembering the last node with a value; it
// allocates nothing. Insert and remove allocate or free at most two nodes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gw/bytes.hpp"

namespace gw::routing {

enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

// Address bits of a family: 32 or 128.
constexpr unsigned address_bits(Family f) noexcept {
  return f == Family::v4 ? 32u : 128u;
}

struct Prefix {
  Family family = Family::v4;
  // Network byte order. IPv4 uses the first 4 bytes; the other 12 stay zero.
  std::array<std::uint8_t, 16> address{};
  std::uint8_t length = 0;  // 0..32 or 0..128

  // "10.0.0.0/24", "fd00::/64", "::ffff:10.0.0.1/128"; a bare address is a
  // /32 or /128. Host bits are kept as written (insert masks them). No
  // whitespace, zone ids, leading zeros in IPv4 octets or lengths, or
  // lengths beyond the family's width: nullopt for anything else.
  static std::optional<Prefix> parse(std::string_view text) noexcept;

  // A prefix over 4 or 16 address bytes; nullopt for another size or a
  // length beyond the family's width.
  static std::optional<Prefix> from_bytes(Bytes address, unsigned length) noexcept;

  // "a.b.c.d/n", or RFC 5952 text for IPv6 (lowercase, longest zero run as
  // "::"), always with "/n". parse(to_string()) gives back *this.
  std::string to_string() const;

  // The same prefix with every bit beyond `length` cleared.
  Prefix masked() const noexcept;

  // True when `address` (4 or 16 bytes, same family) lies inside.
  bool contains(Bytes address) const noexcept;
  // True when the two share an address: one contains the other (same family).
  bool overlaps(const Prefix& other) const noexcept;

  bool operator==(const Prefix&) const = default;
};

class AllowedIps {
 public:
  using Value = std::uint32_t;  // a session::PeerId

  AllowedIps();
  ~AllowedIps();
  AllowedIps(AllowedIps&&) noexcept;
  AllowedIps& operator=(AllowedIps&&) noexcept;
  AllowedIps(const AllowedIps&) = delete;
  AllowedIps& operator=(const AllowedIps&) = delete;

  // Maps `prefix` (host bits masked off) to `value`, replacing the value a
  // previous insert of the same prefix gave it.
  void insert(const Prefix& prefix, Value value);

  // Forgets `prefix` (masked); false when it was not in the table.
  bool remove(const Prefix& prefix);

  // Forgets every prefix mapped to `value` (a removed peer); how many.
  std::size_t remove_value(Value value);

  // The value of the longest prefix containing `address` (4 bytes: IPv4,
  // 16: IPv6; any other size finds nothing). No allocation.
  std::optional<Value> lookup(Bytes address) const noexcept;

  // Routing of an inner IP packet by its destination address. The version
  // nibble picks the family; a packet shorter than the minimum header of
  // that family (20 or 40 bytes) or of another version finds nothing.
  std::optional<Value> lookup_destination(Bytes packet) const noexcept;

  // True when the packet's source address routes back to `value`, the peer
  // it came from. Malformed packets (as above) are never allowed.
  bool source_allowed(Bytes packet, Value value) const noexcept;

  // The value of an entry that shares an address with `prefix` (an entry
  // that contains it or lies inside it, judged over the whole prefix), other
  // than `except`; nullopt when there is none.
  std::optional<Value> overlapping(const Prefix& prefix, Value except) const noexcept;
  // The masked prefixes mapped to `value`, IPv4 first, each family in
  // address order (shorter first on a tie). For status output.
  std::vector<Prefix> entries(Value value) const;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept;

  struct Node;  // defined in allowed_ips.cpp

 private:
  std::unique_ptr<Node> v4_;
  std::unique_ptr<Node> v6_;
  std::size_t size_ = 0;
};

}  // namespace gw::routing
