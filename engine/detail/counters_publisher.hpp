// CountersPublisher: the one thread per process that writes the counters files of every
// SessionServer started with publish_counters (docs/design.md §14). Started by the first
// registration, it ends when the last one is removed, so a process that never enables the
// feature never starts it, and it never adds a thread per session. Each registration is
// sampled every `interval` (its sampler reads the engine's relaxed statistics and the run
// scheduler's counts) and mirrored into its CountersFile; the hot path (producers, sequencer,
// subscribers) is never touched or waited for.
//
// Threads: add() and remove() from any thread except the publisher's own (not from a sampler).
// Samplers run on the publisher thread with its mutex held: they must not call add() or remove().
#pragma once
#include "detail/counters_file.hpp"

#include <sessionring/counters_snapshot.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace sessionring::detail {

class CountersPublisher {
 public:
  using Sampler = std::function<CountersSnapshot()>;

  /// The process-wide publisher (never destroyed: it may outlive static servers).
  static CountersPublisher& instance();

  /// Publishes a first round at once, then one every `interval`. Returns the registration id.
  std::uint64_t add(CountersFile file, Sampler sampler, std::chrono::nanoseconds interval);
  /// Waits for a round in progress, publishes the final round (state closed) and removes the
  /// file. Unknown ids are ignored.
  void remove(std::uint64_t id);

  /// Registrations (for tests).
  std::size_t size_approx() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    CountersFile file;
    Sampler sampler;
    std::chrono::nanoseconds interval;
    Clock::time_point due;
  };
  void run();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Entry> entries_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;               // guarded by mutex_
  bool running_ = false;                    // guarded by mutex_: the thread is in run()
  std::thread thread_;                      // joined by add() before starting a new one
};

}  // namespace sessionring::detail
