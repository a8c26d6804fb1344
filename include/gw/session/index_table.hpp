// SPDX-License-Identifier: MIT
// The receiver indices this side hands out. Every handshake and every keypair
// gets a random 32-bit local index; the peer puts it in front of each packet
// it sends us, and the index table maps it back to what it names. Random
// indices, unlike a counter, say nothing about how many sessions exist.
//
// Index 0 is reserved as "no index" (kNoIndex): insert() never returns it for
// an entry and find(0) finds nothing, so other code can use 0 as a sentinel.
//
// Allocation happens in insert() (handshake time); find() does not allocate,
// so it is safe on the per-packet path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "gw/crypto/random.hpp"

namespace gw::session {

inline constexpr std::uint32_t kNoIndex = 0;

// What an index names: the peer, and which of its objects carries the index.
// A completed handshake hands its index over to the keypair it derived (as
// WireGuard does), so the peer can tell the two apart through `kind`.
enum class IndexKind : std::uint8_t { handshake, keypair };

struct IndexEntry {
  std::uint32_t peer = 0;
  IndexKind kind = IndexKind::handshake;

  bool operator==(const IndexEntry&) const = default;
};

class IndexTable {
 public:
  // Stores `entry` under a fresh random index, never 0 nor one in use, and
  // returns it. Returns kNoIndex, storing nothing, if the Rng produced only
  // used indices session_impl::kMaxIndexDraws times in a row (a broken Rng).
  std::uint32_t insert(crypto::Rng& rng, IndexEntry entry);

  // The entry under `index`, if any. Never allocates.
  std::optional<IndexEntry> find(std::uint32_t index) const;

  // Points an existing index at a new entry (a handshake's index passing to
  // its keypair). Returns false if `index` is not in use.
  bool replace(std::uint32_t index, IndexEntry entry);

  // Frees `index` for reuse. Returns false if it was not in use.
  bool erase(std::uint32_t index);

  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::uint32_t, IndexEntry> entries_;
};

}  // namespace gw::session
