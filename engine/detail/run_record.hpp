// RunRecord: the server's state of one run, shared by the scheduler (under its mutex), the
// thread executing the task (through RunContext) and the timer (the deadline). Fields marked
// "set before hand-off" are written before the run is handed to its slot (under the
// scheduler's mutex, which the executing thread then takes) and never change afterwards.
#pragma once
#include <sessionring/run_context.hpp>
#include <sessionring/run_result.hpp>
#include <sessionring/session_log.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace sessionring::detail {

using Clock = std::chrono::steady_clock;

/// now + d, saturating at Deadline::max() (and at now for a negative d).
inline Deadline deadline_after(Clock::time_point now, std::chrono::nanoseconds d) noexcept {
  if (d <= std::chrono::nanoseconds::zero()) return now;
  if (d >= Deadline::max() - now) return Deadline::max();
  return now + d;
}

struct RunRecord {
  enum class State : std::uint8_t {
    queued,     ///< in the run queue
    starting,   ///< left the queue, holds a slot; run_started being appended
    running,    ///< handed to its slot
    finishing,  ///< the task returned; outcome decided, terminal event being appended
    finished,   ///< result set
  };
  enum class CancelReason : std::uint8_t { none, cancel_run, interrupt, stop };

  RunRecord(std::string run_id, RunTask run_task, std::chrono::nanoseconds run_timeout, Clock::time_point now)
      : id(std::move(run_id)), task(std::move(run_task)), timeout(run_timeout), submitted(now) {}

  const std::string id;
  RunTask task;                           // set at submit; moved out (destroyed) when the run ends
  const std::chrono::nanoseconds timeout;  // 0: none
  const Clock::time_point submitted;
  Clock::time_point started{};            // set before hand-off
  Deadline deadline = Deadline::max();    // set before hand-off
  std::uint32_t slot = 0;                 // set before hand-off
  bool holds_permit = false;              // guarded by the scheduler's mutex
  std::uint64_t start_order = 0;          // guarded; 1, 2, ... in the order runs left the queue

  State state = State::queued;                 // guarded by the scheduler's mutex
  CancelReason cancel_reason = CancelReason::none;  // guarded by the scheduler's mutex
  RunOutcome outcome = RunOutcome::completed;  // written by whoever ends the run, before `finished`
  std::optional<RunResult> result;             // guarded; set with state = finished
  Clock::time_point finished_at{};             // guarded; set with state = finished

  std::stop_source stop;  // thread-safe: requested by cancel/stop/timer, observed by the task

  // RunContext::wait_for_cancel sleeps here; the stop_token wakes it.
  std::mutex wait_mutex;
  std::condition_variable_any wait_cv;

  bool in_flight() const noexcept { return state == State::starting || state == State::running; }
};

std::string_view to_string(RunRecord::CancelReason reason) noexcept;

}  // namespace sessionring::detail
