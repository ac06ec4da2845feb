// `sessionring bench --rt-priority P`: what a host that may use real-time priorities does for a
// latency-critical path (docs/tuning.md "A sub-millisecond tail on a shared machine"): an own
// sequencer pool whose threads a SequencerPool::Options::on_thread_start hook puts in
// SCHED_FIFO at P, and the subscribers' threads in SCHED_FIFO above it.
#pragma once
#include <sessionring/sequencer_pool.hpp>

#include <pthread.h>
#include <sched.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace sessionring::tools {

/// The calling thread to SCHED_FIFO at `priority`; empty, or why it failed.
inline std::string run_fifo(int priority) {
  sched_param sp{};
  sp.sched_priority = priority;
  const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp);
  if (rc == 0) return {};
  return "--rt-priority: SCHED_FIFO priority " + std::to_string(priority) + ": " + std::strerror(rc) +
         " (needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least " + std::to_string(priority) + ")";
}

/// A pool of `threads` (0: one per core) whose threads run SCHED_FIFO at `priority`; throws
/// std::runtime_error naming the reason when a thread may not.
inline std::shared_ptr<SequencerPool> make_rt_pool(int priority, std::uint32_t threads) {
  SequencerPool::Options po;
  po.threads = threads;
  std::mutex failed_mutex;
  std::string failed;  // guarded by failed_mutex; read after create() (every hook has run)
  po.on_thread_start = [&](std::uint32_t) {
    std::string why = run_fifo(priority);
    std::lock_guard lock(failed_mutex);
    if (failed.empty()) failed = std::move(why);
  };
  auto pool = SequencerPool::create(std::move(po));
  if (!pool) throw std::runtime_error("SequencerPool::create: " + pool.error().describe());
  std::lock_guard lock(failed_mutex);
  if (!failed.empty()) throw std::runtime_error(failed + " (a sequencer pool thread)");
  return *pool;
}

}  // namespace sessionring::tools
