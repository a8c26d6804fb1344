// SPDX-License-Identifier: MIT
// Who holds the responder's pending handshakes (include/gw/session/pending_book.hpp):
// per-source caps, eviction from the heaviest source, places kept for peers.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <optional>

#include "gw/session/pending_book.hpp"

using gw::session::PendingBook;
using gw::session::SourceKey;

namespace {

SourceKey v4(std::uint8_t host) {
  const std::array<std::uint8_t, 4> a{10, 0, 0, host};
  return SourceKey::ipv4(a);
}

SourceKey v6(std::uint8_t subnet, std::uint8_t host) {
  std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0, subnet};
  a[15] = host;
  return SourceKey::ipv6(a);
}

}  // namespace

TEST_CASE("pending book: a source at its cap replaces its own oldest entry") {
  PendingBook book({.shared = 100, .per_source = 3, .per_peer = 2});
  for (std::uint32_t i = 1; i <= 3; ++i)
    CHECK_FALSE(book.add(i, v4(1), PendingBook::kShared).has_value());
  CHECK(book.held_by(v4(1)) == 3);
  CHECK(book.add(4, v4(1), PendingBook::kShared) == std::optional<std::uint32_t>(1));
  CHECK(book.add(5, v4(1), PendingBook::kShared) == std::optional<std::uint32_t>(2));
  CHECK(book.held_by(v4(1)) == 3);
  // Another source is not affected.
  CHECK_FALSE(book.add(6, v4(2), PendingBook::kShared).has_value());
  CHECK(book.size() == 4);
}

TEST_CASE("pending book: IPv6 sources count by /64") {
  PendingBook book({.shared = 100, .per_source = 2, .per_peer = 2});
  CHECK_FALSE(book.add(1, v6(1, 1), PendingBook::kShared).has_value());
  CHECK_FALSE(book.add(2, v6(1, 2), PendingBook::kShared).has_value());
  // Another address of the same /64 is the same source.
  CHECK(book.add(3, v6(1, 3), PendingBook::kShared) == std::optional<std::uint32_t>(1));
  CHECK_FALSE(book.add(4, v6(2, 1), PendingBook::kShared).has_value());
  CHECK(book.held_by(v6(1, 9)) == 2);
}

TEST_CASE("pending book: a full table takes the oldest entry of the heaviest source") {
  PendingBook book({.shared = 6, .per_source = 10, .per_peer = 2});
  // Source 1 holds four entries, source 2 two: the table is full.
  for (std::uint32_t i = 1; i <= 4; ++i)
    CHECK_FALSE(book.add(i, v4(1), PendingBook::kShared).has_value());
  CHECK_FALSE(book.add(5, v4(2), PendingBook::kShared).has_value());
  CHECK_FALSE(book.add(6, v4(2), PendingBook::kShared).has_value());
  // A newcomer: source 1 gives up its oldest, and again, until it is level.
  CHECK(book.add(7, v4(3), PendingBook::kShared) == std::optional<std::uint32_t>(1));
  CHECK(book.add(8, v4(4), PendingBook::kShared) == std::optional<std::uint32_t>(2));
  CHECK(book.held_by(v4(1)) == 2);
  CHECK(book.held_by(v4(3)) == 1);
  CHECK(book.shared_size() == 6);
  // The newcomers' single entries are never the ones to go while anyone holds two.
  for (std::uint32_t i = 9; i <= 10; ++i) {
    const auto victim = book.add(i, v4(static_cast<std::uint8_t>(i)), PendingBook::kShared);
    REQUIRE(victim.has_value());
    CHECK(*victim != 7);
    CHECK(*victim != 8);
  }
  CHECK(book.held_by(v4(3)) == 1);
  CHECK(book.held_by(v4(4)) == 1);
  // Now every source holds one: the oldest entry of all goes, whatever its source.
  CHECK(book.add(11, v4(200), PendingBook::kShared) == std::optional<std::uint32_t>(4));
  CHECK(book.add(12, v4(201), PendingBook::kShared) == std::optional<std::uint32_t>(6));
  CHECK(book.add(13, v4(202), PendingBook::kShared) == std::optional<std::uint32_t>(7));
}

TEST_CASE("pending book: a peer's kept places are outside the shared table") {
  PendingBook book({.shared = 2, .per_source = 2, .per_peer = 2});
  CHECK_FALSE(book.add(1, v4(1), PendingBook::kShared).has_value());
  CHECK_FALSE(book.add(2, v4(1), PendingBook::kShared).has_value());
  // The table is full, but a rekey of peer 7 takes none of it, and gives up only its own.
  CHECK_FALSE(book.add(3, v4(9), 7).has_value());
  CHECK_FALSE(book.add(4, v4(9), 7).has_value());
  CHECK(book.add(5, v4(9), 7) == std::optional<std::uint32_t>(3));
  CHECK(book.kept_for(7) == 2);
  CHECK(book.shared_size() == 2);
  CHECK(book.held_by(v4(9)) == 0);
  // And the shared table never takes a kept place.
  CHECK(book.add(6, v4(2), PendingBook::kShared) == std::optional<std::uint32_t>(1));
  CHECK(book.kept_for(7) == 2);
}

TEST_CASE("pending book: removed entries free their places; unknown ones change nothing") {
  PendingBook book({.shared = 2, .per_source = 2, .per_peer = 1});
  CHECK_FALSE(book.add(1, v4(1), PendingBook::kShared).has_value());
  CHECK_FALSE(book.add(2, v4(2), 5).has_value());
  book.remove(1);
  book.remove(2);
  book.remove(99);
  CHECK(book.size() == 0);
  CHECK(book.shared_size() == 0);
  CHECK(book.held_by(v4(1)) == 0);
  CHECK(book.kept_for(5) == 0);
  CHECK_FALSE(book.add(3, v4(1), PendingBook::kShared).has_value());
  CHECK_FALSE(book.add(4, v4(1), PendingBook::kShared).has_value());
  CHECK(book.size() == 2);
}
