// SPDX-License-Identifier: MIT
// Who holds the responder's pending handshakes, and who gives one up when
// room is needed (docs/PROTOCOL.md 7.5): the bookkeeping and the eviction
// rule, apart from the handshakes themselves.
//
// A pending handshake waits for message 3 and holds memory until it is
// finished or expires. An attacker with many addresses (each with a valid
// cookie) could otherwise keep a fixed-size table full. So:
//  * a source (an IPv4 address, an IPv6 /64: SourceKey) holds at most
//    `per_source` entries; a newer one from it replaces its oldest. An
//    initiator keeps only its latest attempts alive, so its oldest entry is
//    the one least likely ever to be finished;
//  * when the shared table is full, the newcomer takes the oldest entry of
//    the source that holds the most (of several, the one whose oldest entry
//    is oldest). A flood spread over N sources is left about `shared` / N
//    entries each, and a legitimate initiator, with one or two, is never the
//    one to lose them while any source holds more; with every source at one,
//    the oldest entry of all goes, and a handshake needs only a round trip;
//  * an initiation from the endpoint of a peer we hold a session with (a
//    rekey) takes one of `per_peer` places kept for that peer, outside the
//    shared table, replacing the peer's own oldest: an established session
//    never needs room in the table, and a flood cannot take its places.
//
// Pure; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "gw/constants.hpp"
#include "gw/session/rate_limiter.hpp"

namespace gw::session {

class PendingBook {
 public:
  struct Limits {
    std::size_t shared = engine_impl::kMaxPendingHandshakes;
    std::size_t per_source = engine_impl::kMaxPendingPerSource;
    std::size_t per_peer = engine_impl::kReservedPendingPerPeer;
  };
  static constexpr std::uint32_t kShared = 0;  // `owner` of an entry in the shared table

  PendingBook() = default;
  explicit PendingBook(Limits limits) : limits_(limits) {}

  // Records a new entry under `index` (not recorded yet) from `source`, in
  // the places of `owner` (a peer's id) or in the shared table (kShared).
  // Returns the entry it displaces, if any: the caller ends that handshake.
  std::optional<std::uint32_t> add(std::uint32_t index, const SourceKey& source,
                                   std::uint32_t owner);
  // Forgets the entry under `index` (finished or expired); unknown: nothing.
  void remove(std::uint32_t index);

  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t shared_size() const noexcept { return shared_; }
  // Entries of `source` in the shared table.
  std::size_t held_by(const SourceKey& source) const;
  // Entries kept for `owner`.
  std::size_t kept_for(std::uint32_t owner) const;

 private:
  struct Entry {
    SourceKey source;
    std::uint32_t owner = kShared;
    std::uint64_t seq = 0;  // order of arrival
  };
  // A source's place in load_: how many it holds, then the younger its
  // oldest entry the lower (so the last of load_ is the one to give up).
  using Load = std::tuple<std::size_t, std::uint64_t, SourceKey>;
  Load load_of(const SourceKey& source, const std::deque<std::uint32_t>& queue) const;
  void unlink(std::uint32_t index, const Entry& e);

  Limits limits_;
  std::unordered_map<std::uint32_t, Entry> entries_;
  // Shared entries by source, oldest first, and the sources by how many they hold.
  std::map<SourceKey, std::deque<std::uint32_t>> by_source_;
  std::set<Load> load_;
  // Kept entries by peer, oldest first.
  std::map<std::uint32_t, std::deque<std::uint32_t>> by_owner_;
  std::size_t shared_ = 0;
  std::uint64_t next_seq_ = 0;
};

}  // namespace gw::session
