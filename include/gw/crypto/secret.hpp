// SPDX-License-Identifier: MIT
// Secret storage: key material that is wiped when it goes out of scope.
//
// Two kinds, for two lifetimes:
//  * Secret<N>: inline, fixed size, wiped with sodium_memzero on destruction,
//    on wipe() and on move. Used for every session key and every temporary.
//    It is not mlock()ed one by one: mlock() does not nest, so unlocking one
//    small object would unlock the whole page under its neighbours, and a
//    syscall per temporary would cost more than the hash it protects.
//  * LockedBuffer: heap memory from sodium_malloc(): mlock()ed where the
//    system allows it, excluded from core dumps, fenced by guard pages and
//    wiped by sodium_free(). For long-lived secrets: static private keys, PSKs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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

}  // namespace gw::crypto
