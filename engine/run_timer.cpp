#include "detail/run_timer.hpp"

namespace sessionring::detail {

void RunTimer::at(Deadline when, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  entries_.push(Entry{when, next_order_++, std::move(fn)});
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  changed_.notify_one();
}

void RunTimer::stop() {
  std::thread t;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    entries_ = {};
    t = std::move(thread_);
  }
  changed_.notify_one();
  if (t.joinable()) t.join();
}

void RunTimer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (entries_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const Deadline when = entries_.top().when;
    if (Clock::now() < when) {
      changed_.wait_until(lock, when);
      continue;
    }
    auto fn = std::move(const_cast<Entry&>(entries_.top()).fn);  // top() is const; the entry is popped next
    entries_.pop();
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace sessionring::detail
