// SPDX-License-Identifier: MIT
#include "gw/session/index_table.hpp"

#include "gw/constants.hpp"

namespace gw::session {

std::uint32_t IndexTable::insert(crypto::Rng& rng, IndexEntry entry) {
  // Bounded so that a broken Rng fails the handshake instead of hanging it.
  for (unsigned draw = 0; draw < session_impl::kMaxIndexDraws; ++draw) {
    const std::uint32_t index = rng.next_u32();
    if (index == kNoIndex) continue;
    if (entries_.try_emplace(index, entry).second) return index;
  }
  return kNoIndex;
}

std::optional<IndexEntry> IndexTable::find(std::uint32_t index) const {
  const auto it = entries_.find(index);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

bool IndexTable::replace(std::uint32_t index, IndexEntry entry) {
  const auto it = entries_.find(index);
  if (it == entries_.end()) return false;
  it->second = entry;
  return true;
}

bool IndexTable::erase(std::uint32_t index) {
  return entries_.erase(index) != 0;
}

}  // namespace gw::session
