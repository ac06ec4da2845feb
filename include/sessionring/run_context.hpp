// RunContext: what a run's task sees while it executes: its id, emit() for its events, its
// cancellation state and its deadline. Passed by reference to the task; valid only during
// the task call.
//
// Threads: emit()/emit_wait() append through the producer of the run slot executing the task
// (INV-5: a run's events keep their order), so call them from one thread at a time (normally
// the task's own thread). The observers (cancel_requested, deadline_passed, deadline,
// stop_token, wait_for_cancel) may be called from any thread while the task runs.
#pragma once
#include <sessionring/append_options.hpp>
#include <sessionring/event_input.hpp>
#include <sessionring/producer.hpp>
#include <sessionring/result.hpp>
#include <sessionring/run_result.hpp>
#include <sessionring/session_log.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

namespace sessionring {

namespace detail {
struct RunRecord;
class RunScheduler;
}  // namespace detail

class RunContext {
 public:
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const std::string& run_id() const noexcept;
  std::string_view session_id() const noexcept { return session_id_; }

  /// Appends an event of this run (run_id set to run_id()), fire and forget: Ok once it is in
  /// the ingest queue; waits for queue space (INV-7). Errors: validation_error (also for the
  /// five run_* lifecycle types, which the runtime appends), event_too_large, queue_full,
  /// stopped.
  Status emit(EventType type, std::string_view data = {}, std::string_view metadata = {});
  /// As above with every field of EventInput (id for dedupe, correlation_id, provider, ...);
  /// `event.run_id` is replaced by this run's id.
  Status emit(EventInput event, const AppendOptions& options = {});

  /// Appends and waits until the event is stored and published; returns its sequence number.
  Result<Sequence> emit_wait(EventType type, std::string_view data = {}, std::string_view metadata = {});
  Result<AppendResult> emit_wait(EventInput event, const AppendOptions& options = {});

  /// True once cancel_run, interrupt_run (without a hook), stop() or the deadline asked this
  /// run to end. The task should then return soon; its output is discarded and the run ends
  /// with run_cancelled (or run_timeout for the deadline).
  bool cancel_requested() const noexcept;
  /// True when the run has a deadline and it has passed.
  bool deadline_passed() const noexcept;
  /// The run's deadline; Deadline::max() when it has none.
  Deadline deadline() const noexcept;
  /// Requested on cancellation and at the deadline (by the server's timer, or by the first
  /// cancel_requested() / wait_for_cancel() that sees it passed), for
  /// std::condition_variable_any waits and std::stop_callback.
  std::stop_token stop_token() const noexcept;
  /// Sleeps until cancellation is requested, the run's deadline passes, or `until`; returns
  /// cancel_requested().
  bool wait_for_cancel(Deadline until) const;
  template <class Rep, class Period>
  bool wait_for_cancel(std::chrono::duration<Rep, Period> d) const {
    const auto now = std::chrono::steady_clock::now();
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(d);
    return wait_for_cancel(left >= Deadline::max() - now ? Deadline::max() : now + left);
  }

  /// Events this task emitted through this context so far (accepted by the ingest queue).
  std::uint64_t emitted() const noexcept { return emitted_; }

 private:
  friend class detail::RunScheduler;
  RunContext(detail::RunRecord& run, Producer& producer, std::string_view session_id) noexcept
      : run_(run), producer_(producer), session_id_(session_id) {}

  detail::RunRecord& run_;
  Producer& producer_;
  std::string_view session_id_;
  std::uint64_t emitted_ = 0;
};

/// A run's work: a C++ callable receiving the context and returning the output or an error.
/// Throwing is allowed: the run ends with run_failed and Errc::run_failed carrying the message.
using RunTask = std::function<RunResult(RunContext&)>;

}  // namespace sessionring
