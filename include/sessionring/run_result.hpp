// What a run produces: its output bytes, or the error it ended with, and how it ended.
#pragma once
#include <sessionring/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sessionring {

/// A run's output: opaque bytes (JSON by convention).
using RunOutput = std::string;

/// What a task returns and what SessionServer::await_run answers: the output, or the error.
using RunResult = Result<RunOutput>;

/// How a run ended; each outcome has its terminal event (docs/runtime.md "Lifecycle").
enum class RunOutcome : std::uint8_t {
  completed,  ///< the task returned an output: run_completed
  failed,     ///< the task returned an error or threw: run_failed
  cancelled,  ///< cancel_run / interrupt_run / stop cancelled it: run_cancelled (Errc::cancelled)
  timed_out,  ///< its deadline passed before the task returned: run_timeout (Errc::timeout)
};

/// "completed", "failed", "cancelled", "timed_out".
std::string_view to_string(RunOutcome outcome) noexcept;

}  // namespace sessionring
