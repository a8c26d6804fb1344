// SPDX-License-Identifier: MIT
// Secret storage: key material that is wiped when it goes out of scope.
//
// Three kinds, for three lifetimes:
//  * Secret<N>: inline, fixed size, wiped with sodium_memzero on destruction,
//    on wipe() and on move. Used for session keys, handshake state and every
//    temporary. It is not mlock()ed one by one: mlock() does not nest, so
//    unlocking one small object would unlock the whole page under its
//    neighbours, and a syscall per temporary would cost more than the hash it
//    protects. Its memory can be swapped and lands in a core dump.
//  * LockedBuffer: heap memory from sodium_malloc(): mlock()ed where the
//    system allows it (libsodium ignores a failed mlock(): RLIMIT_MEMLOCK may
//    leave it unlocked), excluded from core dumps (MADV_DONTDUMP), fenced by
//    guard pages and wiped by sodium_free(). Each one costs three pages of
//    address space besides its own (four mappings): for a few long-lived
//    secrets, like the static key pair of LockedKeyPair (crypto/x25519.hpp).
//  * LockedKey: one 32-byte key (a PSK) in a slot of a process-wide pool of
//    LockedBuffer pages (127 slots in a 4 KiB page): locked, undumpable and wiped like a
//    LockedBuffer, at 32 bytes a key instead of four pages. Copies of a
//    LockedKey share its one slot, which is wiped and given back when the
//    last copy goes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <sodium.h>

#include "gw/bytes.hpp"

namespace gw::crypto {

template <std::size_t N>
class Secret {
 public:
  static constexpr std::size_t kSize = N;

  Secret() noexcept { data_.fill(0); }
  // Copies `src`, which must hold exactly N bytes (std::invalid_argument otherwise).
  explicit Secret(Bytes src) {
    if (src.size() != N) throw std::invalid_argument("secret: wrong length");
    std::copy(src.begin(), src.end(), data_.begin());
  }
  Secret(const Secret&) noexcept = default;
  Secret& operator=(const Secret&) noexcept = default;
  Secret(Secret&& other) noexcept : data_(other.data_) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      data_ = other.data_;
      other.wipe();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  void wipe() noexcept { sodium_memzero(data_.data(), N); }

  std::uint8_t* data() noexcept { return data_.data(); }
  const std::uint8_t* data() const noexcept { return data_.data(); }
  static constexpr std::size_t size() noexcept { return N; }
  MutBytes bytes() noexcept { return {data_.data(), N}; }
  Bytes bytes() const noexcept { return {data_.data(), N}; }

  bool is_zero() const noexcept { return sodium_is_zero(data_.data(), N) == 1; }
  // Constant-time comparison.
  friend bool operator==(const Secret& a, const Secret& b) noexcept {
    return sodium_memcmp(a.data_.data(), b.data_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> data_;
};

// Guarded, locked heap memory for long-lived secrets. Move-only.
class LockedBuffer {
 public:
  LockedBuffer() noexcept = default;
  // Allocates `size` zeroed bytes. Throws std::bad_alloc when sodium_malloc fails.
  explicit LockedBuffer(std::size_t size);
  explicit LockedBuffer(Bytes src);
  LockedBuffer(LockedBuffer&& other) noexcept;
  LockedBuffer& operator=(LockedBuffer&& other) noexcept;
  LockedBuffer(const LockedBuffer&) = delete;
  LockedBuffer& operator=(const LockedBuffer&) = delete;
  ~LockedBuffer();

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  MutBytes bytes() noexcept { return {data_, size_}; }
  Bytes bytes() const noexcept { return {data_, size_}; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// A 32-byte key in the locked key pool, or nothing. Immutable: copies share
// the slot (the key is in memory once however many holders it has); the slot
// is wiped and returned to the pool when the last copy goes. Thread-safe like
// a std::shared_ptr. Throws std::bad_alloc when the pool cannot grow.
class LockedKey {
 public:
  static constexpr std::size_t kSize = 32;

  LockedKey() noexcept = default;
  // Copies `key` (exactly kSize bytes; std::invalid_argument otherwise).
  explicit LockedKey(Bytes key);

  bool has_value() const noexcept { return key_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  // Only on a LockedKey that has a value.
  const Secret<kSize>& operator*() const noexcept { return *key_; }
  const Secret<kSize>* operator->() const noexcept { return key_.get(); }
  Bytes bytes() const noexcept { return key_ ? key_->bytes() : Bytes(); }
  // How many LockedKeys share this slot (0 when empty).
  long holders() const noexcept { return key_.use_count(); }
  // Drops this copy's share of the slot.
  void reset() noexcept { key_.reset(); }

 private:
  std::shared_ptr<const Secret<kSize>> key_;
};

// The locked key pool, process-wide: slots holding a key and pages (slabs).
struct KeyPoolStats {
  std::size_t keys = 0;
  std::size_t slabs = 0;
  std::size_t slots_per_slab = 0;
};
KeyPoolStats key_pool_stats();

}  // namespace gw::crypto
