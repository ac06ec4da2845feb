// What a subscription delivers: every stored event with sequence >= from_sequence matching the
// filter, in order, exactly once (INV-3) — unless `slow` says otherwise for a subscriber that
// falls behind the live head (skip_to_live: with one GapNotice per skip; disconnect_after: it
// ends with Errc::subscriber_too_slow). docs/design.md §7.
#pragma once
#include <sessionring/event_filter.hpp>
#include <sessionring/gap_notice.hpp>
#include <sessionring/slow_subscriber_policy.hpp>

#include <functional>

namespace sessionring {

struct SubscribeOptions {
  /// 0: from the first available event (1, or the first retention kept). Past the latest: waits
  /// for the future. At most kMaxSequence.
  Sequence from_sequence = 0;
  EventFilter filter;
  /// Called once, on the delivering thread, the first time the subscription reaches the head
  /// of the session (history ends, live begins). Optional.
  std::function<void(Sequence head)> on_caught_up;
  /// What to do when the subscriber falls behind the live head (default: catch up from the store).
  SlowSubscriberPolicy slow;
  /// Called on the delivering thread, between two handler calls, for each skip of a
  /// skip_to_live subscription (then the cursor moves to notice.last + 1). Required with
  /// skip_to_live (validation_error without it), unused otherwise. If it throws, the exception
  /// propagates out of poll (or stops a push subscription) and the same notice, widened to the
  /// head at that time, is offered again.
  std::function<void(const GapNotice&)> on_gap;
};

}  // namespace sessionring
