// RunResults: finished runs kept for await_run and cancel_run, bounded by count and by age
// (SessionServerOptions::result_retention_*); the oldest are forgotten first. An awaiter that
// was already waiting holds the run itself and gets its result even if it is forgotten here.
// Not thread-safe: guarded by the scheduler's mutex.
#pragma once
#include "detail/run_record.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace sessionring::detail {

class RunResults {
 public:
  RunResults(std::size_t max_count, std::chrono::nanoseconds max_age) : max_count_(max_count), max_age_(max_age) {}

  void add(std::shared_ptr<RunRecord> run, Clock::time_point now) {
    order_.push_back(run->id);
    by_id_.insert_or_assign(run->id, std::move(run));
    prune(now);
  }
  /// The retained run with this id (after forgetting what is past its bounds), or null.
  std::shared_ptr<RunRecord> find(std::string_view id, Clock::time_point now) {
    prune(now);
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
  }
  bool contains(std::string_view id, Clock::time_point now) { return find(id, now) != nullptr; }
  std::size_t size() const noexcept { return by_id_.size(); }

  void prune(Clock::time_point now) {
    while (!order_.empty()) {
      auto it = by_id_.find(order_.front());
      const bool too_many = by_id_.size() > max_count_;
      const bool too_old = it != by_id_.end() && now - it->second->finished_at >= max_age_;
      if (it != by_id_.end() && !too_many && !too_old) break;
      if (it != by_id_.end()) by_id_.erase(it);
      order_.pop_front();
    }
  }

 private:
  const std::size_t max_count_;
  const std::chrono::nanoseconds max_age_;
  std::map<std::string, std::shared_ptr<RunRecord>, std::less<>> by_id_;
  std::deque<std::string> order_;  // ids in the order they finished, oldest first
};

}  // namespace sessionring::detail
