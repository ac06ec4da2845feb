// CountersPublisher: the per-process thread writing counters files (engine/detail/counters_publisher.hpp).
#include "detail/counters_publisher.hpp"

#include <algorithm>

namespace sessionring::detail {

CountersPublisher& CountersPublisher::instance() {
  static auto* publisher = new CountersPublisher();  // never destroyed: servers may be static objects
  return *publisher;
}

std::uint64_t CountersPublisher::add(CountersFile file, Sampler sampler, std::chrono::nanoseconds interval) {
  std::unique_lock lock(mutex_);
  file.publish(sampler());  // the first round now: a reader finds real values at once
  const std::uint64_t id = next_id_++;
  entries_.emplace(id, Entry{std::move(file), std::move(sampler), interval, Clock::now() + interval});
  if (!running_) {
    // The previous thread (if any) left run() after setting running_ = false under the mutex
    // and touches nothing afterwards, so joining it here cannot wait for this lock.
    if (thread_.joinable()) thread_.join();
    running_ = true;
    thread_ = std::thread([this] { run(); });
  }
  changed_.notify_all();
  return id;
}

void CountersPublisher::remove(std::uint64_t id) {
  std::thread finished;
  {
    std::unique_lock lock(mutex_);  // a round in progress holds it: we wait for it
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    it->second.file.close(it->second.sampler());
    entries_.erase(it);
    changed_.notify_all();
    // The last registration: the thread leaves run(); join it, so that no finished thread is
    // left unjoined (a process exiting after its last server stopped leaks no thread).
    if (entries_.empty() && thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
      changed_.wait(lock, [&] { return !running_ || !entries_.empty(); });
      if (!running_) finished = std::move(thread_);
    }
  }
  if (finished.joinable()) finished.join();
}

std::size_t CountersPublisher::size_approx() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void CountersPublisher::run() {
  std::unique_lock lock(mutex_);
  while (!entries_.empty()) {
    Clock::time_point next = Clock::time_point::max();
    const auto now = Clock::now();
    for (auto& [id, e] : entries_) {
      if (e.due <= now) {
        e.file.publish(e.sampler());
        // The next round one interval after this one; late rounds are not made up.
        e.due = e.due + e.interval > now ? e.due + e.interval : now + e.interval;
      }
      next = std::min(next, e.due);
    }
    changed_.wait_until(lock, next);
  }
  running_ = false;  // add() (or the last remove()) joins this thread; add() starts another when needed
  changed_.notify_all();
}

}  // namespace sessionring::detail
