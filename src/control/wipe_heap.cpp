// SPDX-License-Identifier: MIT
// WipeFreedMemory (include/gw/control/wipe_heap.hpp) and the replaced global
// operator new and delete it needs. new is replaced too, so that every block
// delete frees came from malloc (sanitizers check that the two match).
#include "gw/control/wipe_heap.hpp"

#include <malloc.h>
#include <sodium.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace gw::control {
namespace {

// Open scopes on this thread. Constant-initialized and trivially destroyed:
// operator delete may read it at any time, during thread exit too.
thread_local unsigned open_scopes = 0;
thread_local unsigned long long wiped = 0;

void* allocate(std::size_t size) {
  if (size == 0) size = 1;
  for (;;) {
    if (void* p = std::malloc(size)) return p;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void release(void* p) noexcept {
  if (p == nullptr) return;
  if (open_scopes != 0) {
    const std::size_t size = ::malloc_usable_size(p);
    sodium_memzero(p, size);
    wiped += size;
  }
  std::free(p);
}

}  // namespace

WipeFreedMemory::WipeFreedMemory() noexcept {
  ++open_scopes;
}

WipeFreedMemory::~WipeFreedMemory() {
  --open_scopes;
}

bool WipeFreedMemory::active() noexcept {
  return open_scopes != 0;
}

unsigned long long WipeFreedMemory::wiped_on_this_thread() noexcept {
  return wiped;
}

}  // namespace gw::control

void* operator new(std::size_t size) {
  return gw::control::allocate(size);
}
void* operator new[](std::size_t size) {
  return gw::control::allocate(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return gw::control::allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return gw::control::allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  gw::control::release(p);
}
void operator delete[](void* p) noexcept {
  gw::control::release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  gw::control::release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  gw::control::release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  gw::control::release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  gw::control::release(p);
}
