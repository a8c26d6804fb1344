// SPDX-License-Identifier: MIT
// Secret<N>, LockedBuffer and LockedKey (include/gw/crypto/secret.hpp), and
// LockedKeyPair (include/gw/crypto/x25519.hpp).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"
#include "support/fake_rng.hpp"
#include "support/memory_flags.hpp"
#include "support/unit_helpers.hpp"

using gw::crypto::LockedBuffer;
using gw::crypto::Secret;
using gw::test::counting_bytes;

namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// A Secret<32> filled with 1, 2, ..., 32 (no zero byte).
Secret<32> filled_secret(std::uint8_t start = 1) {
  const auto bytes = counting_bytes(32, start);
  return Secret<32>(gw::Bytes(bytes));
}

}  // namespace

TEST_CASE("Secret: default construction is all zeros") {
  Secret<32> s;
  CHECK(s.is_zero());
  CHECK(all_zero(s.data(), s.size()));
  CHECK(Secret<32>::size() == 32);
  CHECK(Secret<64>::kSize == 64);
  CHECK(s.bytes().size() == 32);
}

TEST_CASE("Secret: construction from bytes copies exactly N bytes") {
  const auto src = counting_bytes(32, 1);
  Secret<32> s{gw::Bytes(src)};
  CHECK_FALSE(s.is_zero());
  CHECK(std::memcmp(s.data(), src.data(), 32) == 0);

  const auto short_src = counting_bytes(31, 1);
  const auto long_src = counting_bytes(33, 1);
  CHECK_THROWS_AS(Secret<32>{gw::Bytes(short_src)}, std::invalid_argument);
  CHECK_THROWS_AS(Secret<32>{gw::Bytes(long_src)}, std::invalid_argument);
  CHECK_THROWS_AS(Secret<32>{gw::Bytes()}, std::invalid_argument);
}

TEST_CASE("Secret: is_zero looks at every byte") {
  for (std::size_t i = 0; i < 32; ++i) {
    CAPTURE(i);
    Secret<32> s;
    s.data()[i] = 0x80;
    CHECK_FALSE(s.is_zero());
    s.data()[i] = 0;
    CHECK(s.is_zero());
  }
}

TEST_CASE("Secret: wipe() zeroes the contents") {
  Secret<32> s = filled_secret();
  REQUIRE_FALSE(s.is_zero());
  s.wipe();
  CHECK(s.is_zero());
  CHECK(all_zero(s.data(), 32));
}

TEST_CASE("Secret: move construction wipes the source") {
  Secret<32> a = filled_secret();
  const Secret<32> expected = filled_secret();
  Secret<32> b(std::move(a));
  CHECK(b == expected);
  // The moved-from object must not keep a second copy of the key.
  CHECK(a.is_zero());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("Secret: move assignment wipes the source and overwrites the target") {
  Secret<32> a = filled_secret(1);
  Secret<32> b = filled_secret(100);
  const Secret<32> expected = filled_secret(1);
  b = std::move(a);
  CHECK(b == expected);
  CHECK(a.is_zero());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("Secret: self move assignment keeps the value") {
  Secret<32> a = filled_secret();
  const Secret<32> expected = filled_secret();
  Secret<32>& alias = a;
  a = std::move(alias);
  CHECK(a == expected);
}

TEST_CASE("Secret: copy keeps both values") {
  Secret<32> a = filled_secret();
  Secret<32> b(a);
  CHECK(a == b);
  CHECK_FALSE(a.is_zero());
  Secret<32> c;
  c = a;
  CHECK(c == a);
  CHECK_FALSE(a.is_zero());
}

TEST_CASE("Secret: the destructor wipes the storage") {
  static_assert(sizeof(Secret<32>) == 32, "Secret<N> holds only its bytes");
  alignas(Secret<32>) std::uint8_t storage[sizeof(Secret<32>)];
  std::memset(storage, 0xa5, sizeof storage);
  auto* s = new (storage) Secret<32>(filled_secret());
  REQUIRE_FALSE(s->is_zero());
  REQUIRE_FALSE(all_zero(storage, sizeof storage));
  std::destroy_at(s);
  // The object is gone; its storage (an array we own) must hold only zeros.
  CHECK(all_zero(storage, sizeof storage));
}

TEST_CASE("Secret: operator== compares every byte") {
  const Secret<32> a = filled_secret();
  CHECK(a == filled_secret());
  for (std::size_t i = 0; i < 32; ++i) {
    CAPTURE(i);
    Secret<32> b = filled_secret();
    b.data()[i] ^= 0x01;
    CHECK_FALSE(a == b);
    CHECK_FALSE(b == a);
  }
  CHECK(Secret<16>() == Secret<16>());
}

TEST_CASE("LockedBuffer: default is empty") {
  LockedBuffer b;
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.data() == nullptr);
  CHECK(b.bytes().empty());
}

TEST_CASE("LockedBuffer: allocation gives zeroed, writable memory of the asked size") {
  for (const std::size_t size : {std::size_t{1}, std::size_t{32}, std::size_t{4095},
                                 std::size_t{4096}, std::size_t{10000}}) {
    CAPTURE(size);
    LockedBuffer b(size);
    REQUIRE(b.data() != nullptr);
    CHECK_FALSE(b.empty());
    CHECK(b.size() == size);
    CHECK(b.bytes().size() == size);
    CHECK(all_zero(b.data(), size));
    for (std::size_t i = 0; i < size; ++i)
      b.data()[i] = static_cast<std::uint8_t>(i * 7 + 1);
    bool same = true;
    for (std::size_t i = 0; i < size; ++i) {
      same = same && b.data()[i] == static_cast<std::uint8_t>(i * 7 + 1);
    }
    CHECK(same);
  }
}

TEST_CASE("LockedBuffer: zero size is empty and allocates nothing") {
  LockedBuffer b(std::size_t{0});
  CHECK(b.empty());
  CHECK(b.data() == nullptr);
}

TEST_CASE("LockedBuffer: construction from bytes copies them") {
  const auto src = counting_bytes(48, 3);
  LockedBuffer b{gw::Bytes(src)};
  REQUIRE(b.size() == 48);
  CHECK(std::memcmp(b.data(), src.data(), 48) == 0);
  const LockedBuffer& cb = b;
  CHECK(cb.bytes().data() == b.data());
}

TEST_CASE("LockedBuffer: a failed allocation throws std::bad_alloc") {
  const std::size_t huge = std::numeric_limits<std::size_t>::max() - 4096;
  CHECK_THROWS_AS(LockedBuffer{huge}, std::bad_alloc);
}

TEST_CASE("LockedBuffer: move construction transfers ownership") {
  const auto src = counting_bytes(40, 9);
  LockedBuffer a{gw::Bytes(src)};
  const std::uint8_t* p = a.data();
  LockedBuffer b(std::move(a));
  CHECK(b.data() == p);
  CHECK(b.size() == 40);
  CHECK(std::memcmp(b.data(), src.data(), 40) == 0);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(a.data() == nullptr);
  CHECK(a.size() == 0);
}

TEST_CASE("LockedBuffer: move assignment frees the old buffer and transfers ownership") {
  const auto src = counting_bytes(24, 5);
  LockedBuffer a{gw::Bytes(src)};
  LockedBuffer b(std::size_t{100});
  const std::uint8_t* p = a.data();
  b = std::move(a);
  CHECK(b.data() == p);
  CHECK(b.size() == 24);
  CHECK(std::memcmp(b.data(), src.data(), 24) == 0);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(a.data() == nullptr);

  // Moving into an empty buffer and self-assignment.
  LockedBuffer c;
  c = std::move(b);
  CHECK(c.size() == 24);
  LockedBuffer& alias = c;
  c = std::move(alias);
  CHECK(c.size() == 24);
  CHECK(c.data() == p);
  CHECK(std::memcmp(c.data(), src.data(), 24) == 0);
}

// --- LockedKey: the locked key pool ---

namespace {
// Whether mlock() can be expected to work: as root (whatever RLIMIT_MEMLOCK
// says), and not under AddressSanitizer, which makes mlock() a no-op.
bool locks_memory() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#else
  return ::geteuid() == 0;
#endif
}
}  // namespace

TEST_CASE("LockedKey: holds a copy of 32 bytes, in memory excluded from core dumps") {
  const auto src = counting_bytes(32, 1);
  const gw::crypto::LockedKey key{gw::Bytes(src)};
  REQUIRE(key.has_value());
  CHECK(std::memcmp(key.bytes().data(), src.data(), 32) == 0);
  CHECK(*key == Secret<32>(gw::Bytes(src)));
  const auto flags = gw::test::vm_flags_of(key->data());
  INFO("VmFlags:" << flags.value_or("(no mapping)"));
  CHECK(gw::test::has_flag(flags, "dd"));
  if (locks_memory()) CHECK(gw::test::has_flag(flags, "lo"));

  CHECK_THROWS_AS(gw::crypto::LockedKey{gw::Bytes(counting_bytes(31, 1))}, std::invalid_argument);
  const gw::crypto::LockedKey none;
  CHECK_FALSE(none);
  CHECK(none.bytes().empty());
  CHECK(none.holders() == 0);
}

TEST_CASE("LockedKey: copies share one slot; the last one wipes it and gives it back") {
  const auto before = gw::crypto::key_pool_stats();
  const gw::crypto::LockedKey keeper{gw::Bytes(counting_bytes(32, 100))};  // keeps the slab
  std::optional<gw::crypto::LockedKey> a(std::in_place, gw::Bytes(counting_bytes(32, 1)));
  const std::uint8_t* slot = (*a)->data();
  {
    const gw::crypto::LockedKey copy = *a;  // NOLINT(performance-unnecessary-copy-initialization)
    CHECK(copy->data() == slot);
    CHECK(a->holders() == 2);
    CHECK(gw::crypto::key_pool_stats().keys == before.keys + 2);
  }
  CHECK(a->holders() == 1);
  a.reset();
  CHECK(gw::crypto::key_pool_stats().keys == before.keys + 1);
  CHECK(all_zero(slot, 32));  // wiped; the slab lives on for `keeper`
  const gw::crypto::LockedKey b{gw::Bytes(counting_bytes(32, 7))};
  CHECK(b->data() == slot);  // the freed slot is the next one taken
}

TEST_CASE("LockedKey: thousands of keys take one locked page per slab, freed with them") {
  const auto before = gw::crypto::key_pool_stats();
  REQUIRE(before.slots_per_slab >= 100);  // 127 with 4 KiB pages
  constexpr std::size_t kKeys = 10000;
  std::vector<gw::crypto::LockedKey> keys;
  keys.reserve(kKeys);
  for (std::size_t i = 0; i < kKeys; ++i) {
    auto bytes = counting_bytes(32, static_cast<std::uint8_t>(i));
    bytes[0] = static_cast<std::uint8_t>(i >> 8);
    keys.emplace_back(gw::Bytes(bytes));
  }
  const auto full = gw::crypto::key_pool_stats();
  CHECK(full.keys == before.keys + kKeys);
  const std::size_t needed = (kKeys + full.slots_per_slab - 1) / full.slots_per_slab;
  CHECK(full.slabs <= before.slabs + needed);
  CHECK(full.slabs >= needed);
  CHECK(keys[kKeys - 1].bytes()[0] == static_cast<std::uint8_t>((kKeys - 1) >> 8));
  CHECK(gw::test::has_flag(gw::test::vm_flags_of(keys[kKeys / 2]->data()), "dd"));
  keys.clear();
  const auto after = gw::crypto::key_pool_stats();
  CHECK(after.keys == before.keys);
  CHECK(after.slabs <= before.slabs);
}

// --- LockedKeyPair ---

TEST_CASE("LockedKeyPair: one key pair in locked memory, shared by its copies") {
  gw::test::FakeRng rng(5);
  const gw::crypto::KeyPair kp = gw::crypto::KeyPair::generate(rng);
  const gw::crypto::LockedKeyPair locked(kp);
  REQUIRE(locked);
  CHECK(locked->private_key == kp.private_key);
  CHECK(locked->public_key == kp.public_key);
  const auto flags = gw::test::vm_flags_of(locked.get());
  INFO("VmFlags:" << flags.value_or("(no mapping)"));
  CHECK(gw::test::has_flag(flags, "dd"));
  if (locks_memory()) CHECK(gw::test::has_flag(flags, "lo"));

  gw::crypto::LockedKeyPair copy = locked;
  CHECK(copy.get() == locked.get());
  CHECK(locked.holders() == 2);
  copy.reset();
  CHECK(locked.holders() == 1);
  CHECK_FALSE(gw::crypto::LockedKeyPair());
}
