// SPDX-License-Identifier: MIT
// gwd's worker threads (--threads): a fixed pool for the AEAD of a batch,
// fork-join. run() splits [0, n) into contiguous chunks, one per thread, the
// calling thread taking the first, and returns when every chunk is done. The
// engine itself stays single-threaded: only Engine::seal() and Engine::open()
// run on the workers (seal_all/open_all below), between the batch's prepare
// and finish calls, which the event loop makes. Nothing is allocated per run.
// (The unit tests build this file too, to run it under ThreadSanitizer.)
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "gw/session/engine.hpp"

namespace gw::daemon {

class WorkerPool {
 public:
  // Work for [begin, end) of a run; it must not throw.
  using Chunk = void (*)(void* context, std::size_t begin, std::size_t end) noexcept;

  // `threads` in all, the caller's included: threads - 1 workers (none for 0 or 1).
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }
  // Runs `chunk` over [0, n) on every thread; returns when all are done. Runs
  // of fewer than `min_parallel` items stay on the calling thread. Only one
  // thread may call run() at a time.
  void run(std::size_t n, Chunk chunk, void* context, std::size_t min_parallel = 1);

 private:
  void work(unsigned index);

  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;
  unsigned remaining_ = 0;  // workers still busy with this generation
  bool stopping_ = false;
  Chunk chunk_ = nullptr;
  void* context_ = nullptr;
  std::size_t n_ = 0;
  std::vector<std::jthread> workers_;  // last: joined first
};

// Batches of fewer jobs than this are sealed or opened on the calling thread:
// waking the workers costs more than it saves.
inline constexpr std::size_t kMinParallelJobs = 8;

// Engine::seal / Engine::open over every job, spread over the pool.
void seal_all(WorkerPool& pool, std::span<session::SealJob> jobs);
void open_all(WorkerPool& pool, std::span<session::OpenJob> jobs);

}  // namespace gw::daemon
