#include <sessionring/event_type.hpp>

#include <string>

namespace sessionring {
namespace {

constexpr std::string_view kNames[kEventTypeCount] = {
    "session_created", "session_started", "session_paused", "session_resumed", "session_completed",
    "session_failed", "session_cancelled",
    "run_started", "run_completed", "run_failed", "run_cancelled", "run_timeout",
    "message_sent", "message_received", "message_streamed",
    "tool_call_started", "tool_call_completed", "tool_call_failed",
    "error_occurred", "error_recovered", "token_usage_updated", "turn_completed",
    "workspace_snapshot_taken", "workspace_diff_computed", "policy_violation",
    "tool_approval_requested", "tool_approval_granted", "tool_approval_denied",
};

}  // namespace

const std::array<EventType, kEventTypeCount>& all_event_types() noexcept {
  static const auto all = [] {
    std::array<EventType, kEventTypeCount> a{};
    for (std::size_t i = 0; i < kEventTypeCount; ++i) a[i] = static_cast<EventType>(i);
    return a;
  }();
  return all;
}

std::string_view to_string(EventType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kEventTypeCount ? kNames[i] : std::string_view("invalid");
}

Result<EventType> parse_event_type(std::string_view name) {
  for (std::size_t i = 0; i < kEventTypeCount; ++i)
    if (kNames[i] == name) return static_cast<EventType>(i);
  std::string shown(name.substr(0, 64));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return Error(Errc::unknown_event_type,
               "'" + shown + "' is not an event type (expected one of the 28 snake_case names, e.g. run_started)");
}

}  // namespace sessionring
