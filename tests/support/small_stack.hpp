// SPDX-License-Identifier: MIT
// Runs a function on a thread with a small stack, so that a test sees
// unbounded recursion as a crash instead of waiting for the 8 MiB default.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <stdexcept>

namespace gw::test {

// Calls `fn` on a fresh thread whose stack is `bytes` long, and waits for it.
inline void run_on_small_stack(const std::function<void()>& fn, std::size_t bytes = 512 * 1024) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) throw std::runtime_error("pthread_attr_init failed");
  if (pthread_attr_setstacksize(&attr, bytes) != 0) {
    pthread_attr_destroy(&attr);
    throw std::runtime_error("pthread_attr_setstacksize failed");
  }
  pthread_t thread;
  auto* arg = const_cast<std::function<void()>*>(&fn);
  const int rc = pthread_create(
      &thread, &attr,
      [](void* p) -> void* {
        (*static_cast<std::function<void()>*>(p))();
        return nullptr;
      },
      arg);
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("pthread_create failed");
  pthread_join(thread, nullptr);
}

}  // namespace gw::test
