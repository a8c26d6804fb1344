// SPDX-License-Identifier: MIT
#include "gw/crypto/secret.hpp"

#include <algorithm>
#include <new>
#include <utility>

#include "gw/crypto/sodium.hpp"

namespace gw::crypto {

LockedBuffer::LockedBuffer(std::size_t size) {
  if (size == 0) return;
  ensure_sodium();
  data_ = static_cast<std::uint8_t*>(sodium_malloc(size));
  if (data_ == nullptr) throw std::bad_alloc();
  sodium_memzero(data_, size);
  size_ = size;
}

LockedBuffer::LockedBuffer(Bytes src) : LockedBuffer(src.size()) {
  std::copy(src.begin(), src.end(), data_);
}

LockedBuffer::LockedBuffer(LockedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

LockedBuffer& LockedBuffer::operator=(LockedBuffer&& other) noexcept {
  if (this != &other) {
    sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

LockedBuffer::~LockedBuffer() {
  sodium_free(data_);
}  // wipes, unlocks, frees

}  // namespace gw::crypto
