// SPDX-License-Identifier: MIT
#include "gw/crypto/secret.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

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

namespace {

// libsodium puts a 16-byte canary before each sodium_malloc() block, in the
// same page: a slab of one page less the canary takes one data page.
constexpr std::size_t kSodiumCanary = 16;

std::size_t slots_per_slab() noexcept {
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t bytes = page > 0 ? static_cast<std::size_t>(page) : 4096;
  return (bytes - kSodiumCanary) / LockedKey::kSize;
}

// LockedKey's slots: slabs of one locked page each, taken as keys come and
// freed when their last key goes. Never destroyed, so that a LockedKey in a
// static object may outlive everything else.
class KeyPool {
 public:
  static KeyPool& instance() {
    static KeyPool* const pool = new KeyPool();
    return *pool;
  }

  Secret<LockedKey::kSize>* take() {
    const std::lock_guard lock(mutex_);
    auto slab = std::find_if(slabs_.begin(), slabs_.end(),
                             [](const std::unique_ptr<Slab>& s) { return !s->free.empty(); });
    if (slab == slabs_.end()) {
      auto fresh = std::make_unique<Slab>(slots_);
      slabs_.push_back(std::move(fresh));
      slab = slabs_.end() - 1;
    }
    const std::size_t index = (*slab)->free.back();
    (*slab)->free.pop_back();
    ++keys_;
    return new ((*slab)->memory.data() + index * LockedKey::kSize) Secret<LockedKey::kSize>();
  }

  void give_back(const Secret<LockedKey::kSize>* key) noexcept {
    const std::lock_guard lock(mutex_);
    const auto* p = reinterpret_cast<const std::uint8_t*>(key);
    const auto slab = std::find_if(slabs_.begin(), slabs_.end(), [p](const auto& s) {
      return p >= s->memory.data() && p < s->memory.data() + s->memory.size();
    });
    if (slab == slabs_.end()) return;  // not ours: cannot happen
    key->~Secret();                    // wipes
    const auto index = static_cast<std::size_t>(p - (*slab)->memory.data()) / LockedKey::kSize;
    (*slab)->free.push_back(static_cast<std::uint16_t>(index));
    --keys_;
    if ((*slab)->free.size() == slots_) slabs_.erase(slab);  // sodium_free wipes it all
  }

  KeyPoolStats stats() {
    const std::lock_guard lock(mutex_);
    return {keys_, slabs_.size(), slots_};
  }

 private:
  struct Slab {
    explicit Slab(std::size_t slots) : memory(slots * LockedKey::kSize) {
      free.reserve(slots);
      for (std::size_t i = slots; i-- > 0;)
        free.push_back(static_cast<std::uint16_t>(i));  // slot 0 first
    }
    LockedBuffer memory;
    std::vector<std::uint16_t> free;  // indices of the free slots
  };

  const std::size_t slots_ = slots_per_slab();
  std::mutex mutex_;
  std::vector<std::unique_ptr<Slab>> slabs_;
  std::size_t keys_ = 0;
};

}  // namespace

LockedKey::LockedKey(Bytes key) {
  if (key.size() != kSize) throw std::invalid_argument("locked key: wrong length");
  KeyPool& pool = KeyPool::instance();
  Secret<kSize>* slot = pool.take();
  std::copy(key.begin(), key.end(), slot->data());
  // Should the control block's allocation fail, shared_ptr gives the slot back.
  key_ = std::shared_ptr<const Secret<kSize>>(
      slot, [](const Secret<kSize>* k) { KeyPool::instance().give_back(k); });
}

KeyPoolStats key_pool_stats() {
  return KeyPool::instance().stats();
}

}  // namespace gw::crypto
