// RunQueue: the server's FIFO of queued runs (INV-8: runs start in submission order). Removal
// by id for cancel_run is linear: the queue is bounded by max_queued_runs and cancelling is rare.
// Not thread-safe: guarded by the scheduler's mutex.
#pragma once
#include "detail/run_record.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring::detail {

class RunQueue {
 public:
  void push(std::shared_ptr<RunRecord> run) { runs_.push_back(std::move(run)); }
  std::shared_ptr<RunRecord> pop() {
    auto run = std::move(runs_.front());
    runs_.pop_front();
    return run;
  }
  /// Removes and returns the run with this id; null if it is not queued.
  std::shared_ptr<RunRecord> remove(std::string_view id) {
    auto it = std::find_if(runs_.begin(), runs_.end(), [&](const auto& r) { return r->id == id; });
    if (it == runs_.end()) return nullptr;
    auto run = std::move(*it);
    runs_.erase(it);
    return run;
  }
  /// Removes and returns every queued run, head first.
  std::deque<std::shared_ptr<RunRecord>> take_all() { return std::exchange(runs_, {}); }

  bool empty() const noexcept { return runs_.empty(); }
  std::size_t size() const noexcept { return runs_.size(); }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    out.reserve(runs_.size());
    for (const auto& r : runs_) out.push_back(r->id);
    return out;
  }

 private:
  std::deque<std::shared_ptr<RunRecord>> runs_;
};

}  // namespace sessionring::detail
