#include <sessionring/run_limiter.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace sessionring {
namespace {

// One on_release registration. `calls` counts callbacks in progress so the token can wait for
// them without a lock being held during the callback (a callback may, through an inline
// executor, end a run and release() again, reaching this or another listener).
struct Listener {
  std::function<void()> fn;
  std::mutex mutex;
  std::condition_variable idle;
  bool alive = true;  // guarded by mutex
  int calls = 0;      // guarded by mutex

  void call() {
    {
      std::lock_guard lock(mutex);
      if (!alive) return;
      ++calls;
    }
    fn();
    std::lock_guard lock(mutex);
    if (--calls == 0) idle.notify_all();
  }
};

struct ReleaseToken {
  explicit ReleaseToken(std::shared_ptr<Listener> l) : listener(std::move(l)) {}
  ReleaseToken(const ReleaseToken&) = delete;
  ReleaseToken& operator=(const ReleaseToken&) = delete;
  ~ReleaseToken() {
    std::unique_lock lock(listener->mutex);
    listener->alive = false;
    listener->idle.wait(lock, [&] { return listener->calls == 0; });
  }
  std::shared_ptr<Listener> listener;
};

}  // namespace

struct RunLimiter::State {
  explicit State(std::uint32_t max) : max_runs(max) {}
  const std::uint32_t max_runs;
  mutable std::mutex mutex;
  std::uint32_t in_use = 0;       // guarded
  std::uint64_t acquired = 0;     // guarded
  std::uint64_t released = 0;     // guarded
  std::vector<std::weak_ptr<Listener>> listeners;  // guarded
};

RunLimiter::RunLimiter(std::uint32_t max_runs) : state_(std::make_unique<State>(max_runs)) {}
RunLimiter::~RunLimiter() = default;

Result<std::shared_ptr<RunLimiter>> RunLimiter::create(std::uint32_t max_runs) {
  if (max_runs < 1 || max_runs > 1'000'000)
    return Error(Errc::validation_error, "max_runs = " + std::to_string(max_runs) + " is out of range [1, 1000000]");
  return std::shared_ptr<RunLimiter>(new RunLimiter(max_runs));
}

bool RunLimiter::try_acquire() noexcept {
  std::lock_guard lock(state_->mutex);
  if (state_->in_use >= state_->max_runs) return false;
  ++state_->in_use;
  ++state_->acquired;
  return true;
}

void RunLimiter::release() noexcept {
  std::vector<std::shared_ptr<Listener>> calls;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->in_use == 0) return;  // more releases than acquires: a caller's bug; never go negative
    --state_->in_use;
    ++state_->released;
    std::erase_if(state_->listeners, [&](const std::weak_ptr<Listener>& w) {
      auto l = w.lock();
      if (!l) return true;
      calls.push_back(std::move(l));
      return false;
    });
  }
  for (const auto& l : calls) l->call();
}

std::uint32_t RunLimiter::max_runs() const noexcept { return state_->max_runs; }

std::uint32_t RunLimiter::in_use() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->in_use;
}

std::uint64_t RunLimiter::acquired_total() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->acquired;
}

std::uint64_t RunLimiter::released_total() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->released;
}

std::shared_ptr<void> RunLimiter::on_release(std::function<void()> callback) {
  auto listener = std::make_shared<Listener>();
  listener->fn = std::move(callback);
  {
    std::lock_guard lock(state_->mutex);
    state_->listeners.push_back(listener);
  }
  return std::make_shared<ReleaseToken>(std::move(listener));
}

}  // namespace sessionring
