// DurableCursor: a subscription's durable named cursor (SubscribeOptions::durable_name;
// docs/design.md §7 "Durable subscriptions", docs/store.md "Durable named cursors").
// Commits are coalesced: request() records the latest requested position and writes it to the
// store (SessionLog::commit_cursor) only when commit_interval has passed since the last write;
// a position still pending is written by a later request() or poll past the interval, by
// flush(), or at unsubscribe. After a crash the consumer resumes after the last *written*
// position: everything after it may be delivered again (at-least-once), nothing before it is.
// Threads: every member from any thread; mutex_ serialises them (and the store writes).
#pragma once
#include <sessionring/session_log.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace sessionring::detail {

class DurableCursor {
 public:
  using Clock = std::chrono::steady_clock;

  DurableCursor(std::shared_ptr<SessionLog> log, std::string name, Sequence stored, std::chrono::milliseconds interval,
                bool auto_commit)
      : log_(std::move(log)),
        name_(std::move(name)),
        interval_(interval),
        auto_commit_(auto_commit),
        pending_(stored),
        committed_(stored) {}

  const std::string& name() const noexcept { return name_; }
  bool auto_commit() const noexcept { return auto_commit_; }

  /// Records `position` as the one to store; writes it when due (or at once with a zero
  /// interval). The store's error when that write failed (the position stays pending).
  Status request(Sequence position);
  /// Records `position` without writing (auto-commit after each handler return).
  void note(Sequence position) {
    std::lock_guard lock(mutex_);
    pending_ = position;
  }
  /// Writes the pending position if the interval has passed since the last write.
  Status flush_if_due();
  /// Writes the pending position now (if it differs from the stored one).
  Status flush();

  /// The last position written to the store. Any thread; may be stale.
  Sequence committed() const noexcept {
    return committed_.load(std::memory_order_relaxed);  // relaxed: an observer; orders nothing
  }
  /// Store writes made (coalescing: at most one per commit_interval). Any thread; may be stale.
  std::uint64_t writes() const noexcept {
    return writes_.load(std::memory_order_relaxed);  // relaxed: a statistic
  }

 private:
  Status write_locked();

  const std::shared_ptr<SessionLog> log_;  // the session's writer handle
  const std::string name_;
  const std::chrono::milliseconds interval_;
  const bool auto_commit_;
  std::mutex mutex_;  // guards pending_, last_write_; serialises store writes
  Sequence pending_;  // the latest requested position
  Clock::time_point last_write_{};
  // Writer: write_locked() (under mutex_, relaxed); readers: committed() observers. Publishes
  // nothing but its own value (the store holds the truth).
  std::atomic<Sequence> committed_;
  // Writer: write_locked() (under mutex_, relaxed); readers: writes() observers (a statistic).
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace sessionring::detail
