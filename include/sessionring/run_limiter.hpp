// RunLimiter: a counting semaphore shared by several SessionServers (through shared_ptr) to
// bound the runs executing across all of them. A server takes one permit before a run leaves
// its queue and gives it back when the run ends, however it ends (completed, failed, threw,
// cancelled, timed out). A run that finds no permit stays at the head of its server's queue
// (status() shows it queued) and starts when a permit is released.
//
// Threads: every member function from any thread.
#pragma once
#include <sessionring/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace sessionring {

class RunLimiter {
 public:
  /// `max_runs` permits, in [1, 1'000'000]; Errc::validation_error naming max_runs otherwise.
  static Result<std::shared_ptr<RunLimiter>> create(std::uint32_t max_runs);

  RunLimiter(const RunLimiter&) = delete;
  RunLimiter& operator=(const RunLimiter&) = delete;
  ~RunLimiter();

  /// Takes a permit if one is free.
  bool try_acquire() noexcept;
  /// Gives a permit back, then calls the on_release callbacks (without holding its lock).
  void release() noexcept;

  std::uint32_t max_runs() const noexcept;
  std::uint32_t in_use() const noexcept;
  std::uint64_t acquired_total() const noexcept;  ///< successful try_acquire calls, ever
  std::uint64_t released_total() const noexcept;  ///< release calls, ever

  /// Registers `callback`, called after every release() on the releasing thread with no lock of
  /// the limiter held. Destroying the returned token unregisters it and waits for a call in
  /// progress, so the callback never runs after the token is gone (do not drop the token from
  /// inside the callback). SessionServer uses this to start a queued run when a permit frees.
  [[nodiscard]] std::shared_ptr<void> on_release(std::function<void()> callback);

 private:
  struct State;
  explicit RunLimiter(std::uint32_t max_runs);
  std::unique_ptr<State> state_;
};

}  // namespace sessionring
