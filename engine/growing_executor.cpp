#include "detail/growing_executor.hpp"

#include <sessionring/session_server_options.hpp>

#include <thread>

namespace sessionring {
namespace detail {

void GrowingExecutor::submit(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  jobs_.push_back(std::move(job));
  if (idle_ >= jobs_.size()) {  // an idle thread takes it
    lock.unlock();
    work_.notify_one();
    return;
  }
  if (threads_ >= max_threads_) return;  // the next thread that frees up takes it (FIFO)
  try {
    std::thread([this] { worker(); }).detach();  // the executor outlives its threads: never destroyed
    ++threads_;
  } catch (...) {
    if (threads_ == 0) {  // nobody would ever run it
      jobs_.pop_back();
      throw;
    }
  }
}

std::uint32_t GrowingExecutor::threads() const {
  std::lock_guard lock(mutex_);
  return threads_;
}

void GrowingExecutor::worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (jobs_.empty()) {
      ++idle_;
      const bool woke = work_.wait_for(lock, idle_exit_, [&] { return !jobs_.empty(); });
      --idle_;
      if (!woke) {
        --threads_;
        return;
      }
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // the run's captures are released before the thread waits again
    lock.lock();
  }
}

}  // namespace detail

RunExecutor default_run_executor() {
  static auto* executor = new detail::GrowingExecutor(1024, std::chrono::seconds(5));  // kept until exit
  return [](std::function<void()> job) { executor->submit(std::move(job)); };
}

}  // namespace sessionring
