// DurableCursor: coalesced commits of a durable subscription (engine/detail/durable_cursor.hpp).
#include "detail/durable_cursor.hpp"

namespace sessionring::detail {

Status DurableCursor::write_locked() {
  if (pending_ == committed_.load(std::memory_order_relaxed)) return {};  // relaxed: written under mutex_ only
  Status st = log_->commit_cursor(name_, pending_);
  last_write_ = Clock::now();
  if (!st) return st;
  committed_.store(pending_, std::memory_order_relaxed);  // relaxed: see the declaration
  writes_.fetch_add(1, std::memory_order_relaxed);        // relaxed: a statistic
  return {};
}

Status DurableCursor::request(Sequence position) {
  std::lock_guard lock(mutex_);
  pending_ = position;
  if (interval_.count() != 0 && Clock::now() - last_write_ < interval_) return {};
  return write_locked();
}

Status DurableCursor::flush_if_due() {
  std::lock_guard lock(mutex_);
  if (interval_.count() != 0 && Clock::now() - last_write_ < interval_) return {};
  return write_locked();
}

Status DurableCursor::flush() {
  std::lock_guard lock(mutex_);
  return write_locked();
}

}  // namespace sessionring::detail
