// SPDX-License-Identifier: MIT
#include "gw/session/pending_book.hpp"

#include <algorithm>
#include <limits>

namespace gw::session {

PendingBook::Load PendingBook::load_of(const SourceKey& source,
                                       const std::deque<std::uint32_t>& queue) const {
  const std::uint64_t oldest = entries_.at(queue.front()).seq;
  return {queue.size(), std::numeric_limits<std::uint64_t>::max() - oldest, source};
}

std::optional<std::uint32_t> PendingBook::add(std::uint32_t index, const SourceKey& source,
                                              std::uint32_t owner) {
  std::optional<std::uint32_t> victim;
  if (owner != kShared) {
    const auto it = by_owner_.find(owner);
    if (it != by_owner_.end() && it->second.size() >= limits_.per_peer) victim = it->second.front();
  } else {
    const auto it = by_source_.find(source);
    if (it != by_source_.end() && it->second.size() >= limits_.per_source) {
      victim = it->second.front();
    } else if (shared_ >= limits_.shared && !load_.empty()) {
      victim = by_source_.at(std::get<2>(*load_.rbegin())).front();  // the heaviest's oldest
    }
  }
  if (victim) remove(*victim);

  entries_[index] = {source, owner, next_seq_++};
  if (owner != kShared) {
    by_owner_[owner].push_back(index);
    return victim;
  }
  auto& queue = by_source_[source];
  if (!queue.empty()) load_.erase(load_of(source, queue));
  queue.push_back(index);
  load_.insert(load_of(source, queue));
  ++shared_;
  return victim;
}

void PendingBook::remove(std::uint32_t index) {
  const auto it = entries_.find(index);
  if (it == entries_.end()) return;
  const Entry e = it->second;
  unlink(index, e);  // while the entry is still there to date its queue
  entries_.erase(index);
}

void PendingBook::unlink(std::uint32_t index, const Entry& e) {
  if (e.owner != kShared) {
    auto& queue = by_owner_.at(e.owner);
    queue.erase(std::find(queue.begin(), queue.end(), index));
    if (queue.empty()) by_owner_.erase(e.owner);
    return;
  }
  auto& queue = by_source_.at(e.source);
  load_.erase(load_of(e.source, queue));
  queue.erase(std::find(queue.begin(), queue.end(), index));
  --shared_;
  if (queue.empty()) {
    by_source_.erase(e.source);
  } else {
    load_.insert(load_of(e.source, queue));
  }
}

std::size_t PendingBook::held_by(const SourceKey& source) const {
  const auto it = by_source_.find(source);
  return it == by_source_.end() ? 0 : it->second.size();
}

std::size_t PendingBook::kept_for(std::uint32_t owner) const {
  const auto it = by_owner_.find(owner);
  return it == by_owner_.end() ? 0 : it->second.size();
}

}  // namespace gw::session
