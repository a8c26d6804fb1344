// SPDX-License-Identifier: MIT
// The index table (include/gw/session/index_table.hpp): collisions forced with
// a scripted Rng, the reserved index 0, the draw limit, find/replace/erase.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/session/index_table.hpp"
#include "support/fake_rng.hpp"

using gw::session::IndexEntry;
using gw::session::IndexKind;
using gw::session::IndexTable;
using gw::session::kNoIndex;

namespace {

// Produces the 32-bit values it is given, in order, then repeats the last one
// forever, so a test chooses exactly which indices the table draws.
class ScriptedRng final : public gw::crypto::Rng {
 public:
  explicit ScriptedRng(std::vector<std::uint32_t> values) : values_(std::move(values)) {}

  void fill(gw::MutBytes out) override {
    for (std::uint8_t& byte : out) {
      const std::size_t value = std::min(bytes_ / 4, values_.size() - 1);
      std::uint8_t raw[4];
      std::memcpy(raw, &values_[value], sizeof raw);  // host order, as next_u32 reads it
      byte = raw[bytes_ % 4];
      ++bytes_;
    }
  }

  std::size_t draws() const { return bytes_ / 4; }

 private:
  std::vector<std::uint32_t> values_;
  std::size_t bytes_ = 0;
};

constexpr IndexEntry handshake_of(std::uint32_t peer) {
  return {peer, IndexKind::handshake};
}
constexpr IndexEntry keypair_of(std::uint32_t peer) {
  return {peer, IndexKind::keypair};
}

}  // namespace

TEST_CASE("IndexTable: the scripted Rng yields its values through next_u32") {
  ScriptedRng rng({0xdeadbeef, 1, 2});
  CHECK(rng.next_u32() == 0xdeadbeef);
  CHECK(rng.next_u32() == 1);
  CHECK(rng.next_u32() == 2);
  CHECK(rng.next_u32() == 2);
  CHECK(rng.draws() == 4);
}

TEST_CASE("IndexTable: insert returns the drawn index, and find returns what was stored") {
  ScriptedRng rng({0x01020304});
  IndexTable table;
  CHECK(table.size() == 0);
  const std::uint32_t index = table.insert(rng, handshake_of(17));
  CHECK(index == 0x01020304);
  CHECK(table.size() == 1);
  REQUIRE(table.find(index).has_value());
  CHECK(*table.find(index) == handshake_of(17));
  CHECK_FALSE(table.find(0x01020305).has_value());
}

TEST_CASE("IndexTable: an index already in use is never handed out again") {
  ScriptedRng rng({7, 7, 7, 9});
  IndexTable table;
  CHECK(table.insert(rng, handshake_of(1)) == 7);
  CHECK(table.insert(rng, handshake_of(2)) == 9);  // 7 twice, then 9
  CHECK(rng.draws() == 4);
  CHECK(table.size() == 2);
  CHECK(*table.find(7) == handshake_of(1));  // the first owner keeps it
  CHECK(*table.find(9) == handshake_of(2));
}

TEST_CASE("IndexTable: 0 is reserved: never handed out, never found") {
  ScriptedRng rng({0, 0, 5});
  IndexTable table;
  CHECK(table.insert(rng, keypair_of(3)) == 5);
  CHECK(rng.draws() == 3);
  CHECK_FALSE(table.find(kNoIndex).has_value());
  CHECK_FALSE(table.erase(kNoIndex));
  CHECK_FALSE(table.replace(kNoIndex, keypair_of(4)));
  CHECK(table.size() == 1);
}

TEST_CASE("IndexTable: insert gives up after kMaxIndexDraws used indices in a row") {
  SUBCASE("a Rng stuck on an index in use") {
    ScriptedRng rng({7});
    IndexTable table;
    REQUIRE(table.insert(rng, handshake_of(1)) == 7);
    CHECK(table.insert(rng, handshake_of(2)) == kNoIndex);
    CHECK(rng.draws() == 1 + gw::session_impl::kMaxIndexDraws);
    CHECK(table.size() == 1);
    CHECK(*table.find(7) == handshake_of(1));
  }
  SUBCASE("a Rng stuck on 0") {
    ScriptedRng rng({0});
    IndexTable table;
    CHECK(table.insert(rng, handshake_of(1)) == kNoIndex);
    CHECK(rng.draws() == gw::session_impl::kMaxIndexDraws);
    CHECK(table.size() == 0);
  }
  SUBCASE("success on the last allowed draw") {
    std::vector<std::uint32_t> script(gw::session_impl::kMaxIndexDraws, 7);
    script.front() = 7;  // the first insert takes 7
    script.push_back(8);
    ScriptedRng rng(script);
    IndexTable table;
    REQUIRE(table.insert(rng, handshake_of(1)) == 7);
    CHECK(table.insert(rng, handshake_of(2)) == 8);  // 63 collisions, then 8
    CHECK(rng.draws() == 1 + gw::session_impl::kMaxIndexDraws);
  }
}

TEST_CASE("IndexTable: erase frees an index for reuse") {
  ScriptedRng rng({7, 7});
  IndexTable table;
  REQUIRE(table.insert(rng, handshake_of(1)) == 7);
  CHECK(table.erase(7));
  CHECK_FALSE(table.erase(7));
  CHECK_FALSE(table.find(7).has_value());
  CHECK(table.size() == 0);
  CHECK(table.insert(rng, keypair_of(2)) == 7);
  CHECK(*table.find(7) == keypair_of(2));
}

TEST_CASE("IndexTable: replace hands a handshake's index over to its keypair") {
  ScriptedRng rng({42});
  IndexTable table;
  const std::uint32_t index = table.insert(rng, handshake_of(5));
  CHECK(table.replace(index, keypair_of(5)));
  CHECK(*table.find(index) == keypair_of(5));
  CHECK_FALSE(table.replace(43, keypair_of(6)));  // replace never inserts
  CHECK_FALSE(table.find(43).has_value());
  CHECK(table.size() == 1);
}

TEST_CASE("IndexTable: many random indices are distinct, non-zero and all found") {
  gw::test::FakeRng rng(42);
  IndexTable table;
  std::vector<std::uint32_t> indices;
  std::set<std::uint32_t> distinct;
  constexpr std::uint32_t kCount = 20'000;
  for (std::uint32_t peer = 0; peer < kCount; ++peer) {
    const std::uint32_t index = table.insert(rng, handshake_of(peer));
    REQUIRE(index != kNoIndex);
    indices.push_back(index);
    distinct.insert(index);
  }
  CHECK(distinct.size() == kCount);
  CHECK(table.size() == kCount);
  for (std::uint32_t peer = 0; peer < kCount; peer += 2)
    REQUIRE(table.erase(indices[peer]));
  CHECK(table.size() == kCount / 2);
  for (std::uint32_t peer = 0; peer < kCount; ++peer) {
    const auto found = table.find(indices[peer]);
    REQUIRE(found.has_value() == (peer % 2 == 1));
    if (found) REQUIRE(*found == handshake_of(peer));
  }
}
