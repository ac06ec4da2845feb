// The runtime's telemetry event names, mirroring the reference runtime's
// [:agent_session_manager, :runtime, :session_server, ...] events. docs/telemetry.md lists
// each with its measurements and metadata; a test checks that the two lists agree.
#pragma once
#include <array>
#include <string_view>

namespace sessionring::telemetry {

inline constexpr std::string_view kServerStart = "sessionring.runtime.session_server.start";
inline constexpr std::string_view kServerStop = "sessionring.runtime.session_server.stop";
inline constexpr std::string_view kQueueEnqueue = "sessionring.runtime.session_server.queue.enqueue";
inline constexpr std::string_view kQueueDequeue = "sessionring.runtime.session_server.queue.dequeue";
inline constexpr std::string_view kRunStart = "sessionring.runtime.session_server.run.start";
inline constexpr std::string_view kRunStop = "sessionring.runtime.session_server.run.stop";
inline constexpr std::string_view kCancelQueued = "sessionring.runtime.session_server.cancel.queued";
inline constexpr std::string_view kCancelActive = "sessionring.runtime.session_server.cancel.active";
inline constexpr std::string_view kSubscribe = "sessionring.runtime.session_server.subscribe";
inline constexpr std::string_view kUnsubscribe = "sessionring.runtime.session_server.unsubscribe";
inline constexpr std::string_view kSubscriberLapped = "sessionring.runtime.session_server.subscriber.lapped";
inline constexpr std::string_view kDrainComplete = "sessionring.runtime.session_server.drain.complete";

inline constexpr std::array<std::string_view, 12> kAllNames = {
    kServerStart, kServerStop,    kQueueEnqueue, kQueueDequeue, kRunStart,          kRunStop,
    kCancelQueued, kCancelActive, kSubscribe,    kUnsubscribe,  kSubscriberLapped, kDrainComplete,
};

/// Index of `name` in kAllNames, or kAllNames.size() for a name that is not one of them.
constexpr std::size_t index_of(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kAllNames.size(); ++i)
    if (kAllNames[i] == name) return i;
  return kAllNames.size();
}

}  // namespace sessionring::telemetry
