// SequencerPool: a bounded set of threads that run the sequencers of any number of sessions
// (docs/design.md §13 "The sequencer pool"). Each session keeps its own ingest queue, sequence,
// ring and store log (INV-1..INV-9); a pool thread takes a session its producers made ready
// (the doorbell of design §8), runs one bounded batch of it (pop, dedupe, stamp, append, write
// the ring, publish, answer), and moves on to the next ready session when another one waits
// (fairness). A session whose store is failing and backing off is rescheduled with a timer,
// never slept on (isolation).
//
// Sessions use SequencerPool::default_pool() unless SessionOptions::pool names another, or
// SessionOptions::dedicated_sequencer asks for a thread of their own (the behaviour before the
// pool: lowest latency for one latency-critical session). A session holds its pool alive.
// Threads: every member function from any thread.
#pragma once
#include <sessionring/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace sessionring {

namespace detail {
class SessionCore;
}

class SequencerPool {
 public:
  struct Options {
    /// Pool threads; 0: std::thread::hardware_concurrency() (at least 1). At most 1024.
    std::uint32_t threads = 0;
    /// Runs first on each pool thread, with its index (0 .. threads - 1), before the thread
    /// serves any session; create() returns once every thread has run it. Where a host names
    /// its threads, pins them to cores or gives them a real-time priority (the Disruptor's
    /// ThreadFactory; docs/tuning.md "A sub-millisecond tail on a shared machine"). Must not
    /// throw: like any thread function's, an exception ends the process. Empty: nothing runs.
    std::function<void(std::uint32_t index)> on_thread_start;
  };
  /// Counters since the pool started (relaxed snapshots, for benchmarks and tuning).
  struct Stats {
    std::uint32_t threads = 0;
    std::uint64_t turns = 0;     ///< sessions taken off the ready queue
    std::uint64_t requeues = 0;  ///< sessions put back after one batch because others waited
    std::uint64_t timers = 0;    ///< sessions rescheduled with a timer (store back-off, group commit)
    std::uint64_t parks = 0;     ///< sessions parked on their doorbell with nothing to do
    std::uint64_t idle_releases = 0;  ///< idle sessions that gave their ring pages and pop buffer back
    std::uint64_t helps = 0;     ///< steps an idle thread spent preparing the store of a session another thread served
  };

  /// A new pool; Errc::validation_error for threads > 1024.
  static Result<std::shared_ptr<SequencerPool>> create(Options options);
  static Result<std::shared_ptr<SequencerPool>> create() { return create(Options()); }
  /// The process-wide pool (hardware_concurrency threads), started on first use and kept until
  /// the process exits.
  static std::shared_ptr<SequencerPool> default_pool();

  SequencerPool(const SequencerPool&) = delete;
  SequencerPool& operator=(const SequencerPool&) = delete;
  /// Stops and joins the threads. Runs when the last session using the pool is gone.
  ~SequencerPool();

  std::uint32_t threads() const noexcept;
  Stats stats() const noexcept;

  struct Impl;

 private:
  friend class detail::SessionCore;
  explicit SequencerPool(std::shared_ptr<Impl> impl);
  /// A parked session became ready (its doorbell rang): queue it for a pool thread.
  void schedule(std::shared_ptr<detail::SessionCore> session);
  std::shared_ptr<Impl> impl_;
};

}  // namespace sessionring
