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
/// The smallest SessionOptions::max_event_bytes a SessionServer's engine may have: every
/// lifecycle event fits in it (48-byte record header, 32-byte generated id, a run id of at most
/// 128 bytes and at most ~80 bytes of data), and run_failed's message is cut to fit
/// (validate(SessionServerOptions)). A lifecycle event the engine refused would leave a run
/// without its run_started or terminal event. Found by event_type_fuzz.
inline constexpr std::uint32_t kMinServerEventBytes = 512;

/// run_failed: {"duration_ns":N,"code":"...","error":"..."}, at most `max_bytes` long: the
/// message is cut (ending in "...(truncated)", or dropped) to fit; at most 4096 bytes of it.
std::string run_failed_data(std::chrono::nanoseconds duration, const Error& error, std::size_t max_bytes);
/// run_cancelled: {"duration_ns":N,"reason":"cancel_run|interrupt|stop"} (duration 0 when it never started)
std::string run_cancelled_data(std::chrono::nanoseconds duration, std::string_view reason);
/// run_timeout: {"duration_ns":N,"timeout_ns":N}
std::string run_timeout_data(std::chrono::nanoseconds duration, std::chrono::nanoseconds timeout);

/// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

}  // namespace sessionring::detail
