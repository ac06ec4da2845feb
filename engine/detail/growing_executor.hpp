// GrowingExecutor: the default run executor (SessionServerOptions::executor empty): a thread
// per executing run, reused. submit() wakes an idle thread, or starts one while fewer than
// max_threads exist, or queues the job (FIFO) for the next thread that frees up. A thread
// without work for idle_exit ends. Runs mostly wait on I/O, so the bound is a safety limit,
// not the number of cores (docs/runtime.md "Run threads").
// Threads: submit() from any thread; jobs run on the executor's threads, no lock held.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace sessionring::detail {

class GrowingExecutor {
 public:
  GrowingExecutor(std::uint32_t max_threads, std::chrono::milliseconds idle_exit)
      : max_threads_(max_threads), idle_exit_(idle_exit) {}
  GrowingExecutor(const GrowingExecutor&) = delete;
  GrowingExecutor& operator=(const GrowingExecutor&) = delete;

  /// Runs `job` exactly once on an executor thread. Throws std::system_error if no thread can
  /// be started and none exists (the run then fails with Errc::run_failed).
  void submit(std::function<void()> job);
  /// Threads alive (running a job or idle), for tests and benchmarks.
  std::uint32_t threads() const;

 private:
  void worker();

  const std::uint32_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<std::function<void()>> jobs_;  // guarded
  std::uint32_t threads_ = 0;               // guarded
  std::uint32_t idle_ = 0;                  // guarded: threads waiting for a job
};

}  // namespace sessionring::detail
