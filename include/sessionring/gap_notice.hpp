// GapNotice: the one explicit notice a skip_to_live subscription gives when it skips
// (SlowSubscriberPolicy, SubscribeOptions::on_gap). It is not an event: it has no type, id or
// payload of its own and never comes through the event handler, so it cannot be taken for a
// stored event. The sequences first..last exist in the store (they were published); they were
// not delivered. The next event delivered after it has sequence last + 1 (or the first one
// after it matching the filter); the one delivered before it, if any, is below first.
#pragma once
#include <sessionring/config.hpp>

#include <cstdint>
#include <string_view>

namespace sessionring {

struct GapNotice {
  enum class Reason : std::uint8_t {
    lapped,        ///< the ring overwrote the slot of the subscriber's cursor
    lag_too_high,  ///< more than SlowSubscriberPolicy::max_lag_events were undelivered
  };

  std::string_view session_id;  ///< valid during the on_gap call only
  Sequence first = 0;           ///< the first skipped sequence (the cursor before the skip)
  Sequence last = 0;            ///< the last skipped sequence; delivery resumes at last + 1
  Reason reason = Reason::lapped;

  /// How many sequences were skipped (some may not match the subscription's filter).
  std::uint64_t count() const noexcept { return last - first + 1; }
};

}  // namespace sessionring
