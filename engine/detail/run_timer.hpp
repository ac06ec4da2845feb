// RunTimer: calls functions at deadlines on one thread of its own, started on first use
// (a server that never sets a deadline and has no telemetry sink never starts it). The server
// uses it to request a run's cancellation at its deadline and to sample subscribers for the
// subscriber.lapped telemetry event.
// Threads: at() and stop() from any thread; callbacks run on the timer thread, no lock held.
#pragma once
#include "detail/run_record.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace sessionring::detail {

class RunTimer {
 public:
  RunTimer() = default;
  RunTimer(const RunTimer&) = delete;
  RunTimer& operator=(const RunTimer&) = delete;
  ~RunTimer() { stop(); }

  /// Calls `fn` at `when` (at once if it has passed). Ignored after stop().
  void at(Deadline when, std::function<void()> fn);
  /// Drops pending callbacks, waits for one in progress and joins the thread. Idempotent.
  /// Not from a callback.
  void stop();

 private:
  struct Entry {
    Deadline when;
    std::uint64_t order;  // FIFO among equal deadlines
    std::function<void()> fn;
    bool operator>(const Entry& o) const noexcept { return when != o.when ? when > o.when : order > o.order; }
  };
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> entries_;  // guarded
  std::uint64_t next_order_ = 0;  // guarded
  bool stopping_ = false;         // guarded
  std::thread thread_;            // started under mutex_ by the first at()
};

}  // namespace sessionring::detail
