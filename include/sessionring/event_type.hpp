// The 28 event types of the reference session runtime (DESIGN §6), by their exact snake_case names.
#pragma once
#include <sessionring/result.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace sessionring {

enum class EventType : std::uint8_t {
  session_created, session_started, session_paused, session_resumed, session_completed,
  session_failed, session_cancelled,
  run_started, run_completed, run_failed, run_cancelled, run_timeout,
  message_sent, message_received, message_streamed,
  tool_call_started, tool_call_completed, tool_call_failed,
  error_occurred, error_recovered, token_usage_updated, turn_completed,
  workspace_snapshot_taken, workspace_diff_computed, policy_violation,
  tool_approval_requested, tool_approval_granted, tool_approval_denied,
};

inline constexpr std::size_t kEventTypeCount = 28;

/// Every type, in declaration order.
const std::array<EventType, kEventTypeCount>& all_event_types() noexcept;

/// The exact snake_case name; "invalid" for a value outside the enumeration.
std::string_view to_string(EventType type) noexcept;

/// Parses an exact snake_case name; anything else is Errc::unknown_event_type naming the input.
Result<EventType> parse_event_type(std::string_view name);

/// True when `raw` is the value of one of the 28 enumerators.
constexpr bool is_valid_event_type(std::uint8_t raw) noexcept { return raw < kEventTypeCount; }

}  // namespace sessionring
