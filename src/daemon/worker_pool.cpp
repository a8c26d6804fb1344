// SPDX-License-Identifier: MIT
#include "worker_pool.hpp"

#include <algorithm>
#include <utility>

namespace gw::daemon {
namespace {

// The `index`th of `parts` contiguous chunks of [0, n): sizes differ by one at most.
std::pair<std::size_t, std::size_t> chunk_of(std::size_t n, std::size_t index,
                                             std::size_t parts) noexcept {
  const std::size_t base = n / parts, extra = n % parts;
  const std::size_t begin = index * base + std::min(index, extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

}  // namespace

WorkerPool::WorkerPool(unsigned threads) {
  if (threads > 1) workers_.reserve(threads - 1);
  for (unsigned i = 1; i < threads; ++i)
    workers_.emplace_back([this, i] { work(i); });
}

WorkerPool::~WorkerPool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  workers_.clear();  // joins
}

void WorkerPool::run(std::size_t n, Chunk chunk, void* context, std::size_t min_parallel) {
  if (n == 0) return;
  if (workers_.empty() || n < min_parallel || n < 2) {
    chunk(context, 0, n);
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    chunk_ = chunk;
    context_ = context;
    n_ = n;
    remaining_ = static_cast<unsigned>(workers_.size());
    ++generation_;
  }
  start_.notify_all();
  const auto [begin, end] = chunk_of(n, 0, threads());
  chunk(context, begin, end);
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return remaining_ == 0; });
}

void WorkerPool::work(unsigned index) {
  std::uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const Chunk chunk = chunk_;
    void* const context = context_;
    const auto [begin, end] = chunk_of(n_, index, threads());
    lock.unlock();
    if (begin < end) chunk(context, begin, end);
    lock.lock();
    if (--remaining_ == 0) done_.notify_one();
  }
}

void seal_all(WorkerPool& pool, std::span<session::SealJob> jobs) {
  pool.run(
      jobs.size(),
      [](void* context, std::size_t begin, std::size_t end) noexcept {
        session::SealJob* const j = static_cast<session::SealJob*>(context);
        for (std::size_t i = begin; i < end; ++i)
          session::Engine::seal(j[i]);
      },
      jobs.data(), kMinParallelJobs);
}

void open_all(WorkerPool& pool, std::span<session::OpenJob> jobs) {
  pool.run(
      jobs.size(),
      [](void* context, std::size_t begin, std::size_t end) noexcept {
        session::OpenJob* const j = static_cast<session::OpenJob*>(context);
        for (std::size_t i = begin; i < end; ++i)
          session::Engine::open(j[i]);
      },
      jobs.data(), kMinParallelJobs);
}

}  // namespace gw::daemon
