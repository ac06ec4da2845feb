// The data of the lifecycle events the runtime appends (docs/runtime.md "Lifecycle events"):
// small JSON objects, built here so their shape is defined in one place.
#pragma once
#include <sessionring/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sessionring::detail {

/// run_started: {"queued_ns":N}
std::string run_started_data(std::chrono::nanoseconds queued);
/// run_completed: {"duration_ns":N,"output_bytes":N}
std::string run_completed_data(std::chrono::nanoseconds duration, std::size_t output_bytes);
/// run_failed: {"duration_ns":N,"code":"...","error":"..."}
std::string run_failed_data(std::chrono::nanoseconds duration, const Error& error);
/// run_cancelled: {"duration_ns":N,"reason":"cancel_run|interrupt|stop"} (duration 0 when it never started)
std::string run_cancelled_data(std::chrono::nanoseconds duration, std::string_view reason);
/// run_timeout: {"duration_ns":N,"timeout_ns":N}
std::string run_timeout_data(std::chrono::nanoseconds duration, std::chrono::nanoseconds timeout);

/// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

}  // namespace sessionring::detail
