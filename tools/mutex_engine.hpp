// MutexEngine: the plain design a user writes without lock-free code, with the same contract as
// Session (contiguous sequence numbers from 1, idempotent append by caller id, each subscriber
// receives every stored event from its cursor, in order, exactly once). It is the baseline of
// `sessionring bench --engine mutex` and of the BM_MutexEngine_* microbenchmarks.
//
// One std::mutex guards everything: a std::vector<StoredEvent> as the log (owning strings) and
// an unordered_map for caller-supplied ids. append() locks, stamps seq = last + 1, push_back,
// unlocks and notify_all()s one condition variable. poll_wait() locks, waits on the condition
// variable until the log holds its cursor, then calls the handler for every new event while it
// holds the lock (the vector may reallocate on push_back, so reading outside the lock would
// race). Nothing is bounded, nothing is lock-free.
// Threads: every member function from any thread; one Subscriber from one thread at a time.
#pragma once
#include <sessionring/event_input.hpp>
#include <sessionring/event_view.hpp>
#include <sessionring/result.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sessionring::tools {

class MutexEngine {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  struct StoredEvent {
    Sequence sequence_number = 0;
    EventType type = EventType::message_streamed;
    std::int64_t timestamp_ns = 0;
    std::string id;
    std::string run_id;
    std::string data;
  };

  class Subscriber {
   public:
    /// Delivers every stored event from the cursor on; when there is none, waits until there is
    /// one, the engine stops, or the deadline passes. Returns how many it delivered.
    template <class Handler>
    std::size_t poll_wait(Handler&& handler, Deadline deadline,
                          std::size_t max = std::numeric_limits<std::size_t>::max()) {
      std::unique_lock lock(engine_->mutex_);
      engine_->cv_.wait_until(lock, deadline,
                              [&] { return engine_->log_.size() >= next_ || engine_->stopped_; });
      std::size_t n = 0;
      const std::size_t end = engine_->log_.size();
      for (; next_ <= end && n < max; ++next_, ++n) {
        const StoredEvent& e = engine_->log_[next_ - 1];
        EventView v;
        v.sequence_number = e.sequence_number;
        v.type = e.type;
        v.id = e.id;
        v.session_id = engine_->session_id_;
        v.run_id = e.run_id;
        v.timestamp_ns = e.timestamp_ns;
        v.data = e.data;
        handler(v);
      }
      return n;
    }
    Sequence cursor() const noexcept { return next_; }  // poll thread only

   private:
    friend class MutexEngine;
    Subscriber(MutexEngine* e, Sequence from) : engine_(e), next_(from < 1 ? 1 : from) {}
    MutexEngine* engine_;
    Sequence next_;
  };

  explicit MutexEngine(std::string session_id) : session_id_(std::move(session_id)) {}

  /// Stores the event and wakes the subscribers. A caller-supplied id already stored returns
  /// its first sequence and stores nothing (as Session, INV-6). Errc::stopped after stop().
  Result<Sequence> append(const EventInput& in);
  Subscriber subscribe(Sequence from_sequence) { return Subscriber(this, from_sequence); }
  Sequence latest_sequence() const;
  void stop();

 private:
  const std::string session_id_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<StoredEvent> log_;                          // guarded by mutex_; log_[s - 1] is sequence s
  std::unordered_map<std::string, Sequence> caller_ids_;  // guarded by mutex_
  bool stopped_ = false;                                  // guarded by mutex_
};

}  // namespace sessionring::tools
