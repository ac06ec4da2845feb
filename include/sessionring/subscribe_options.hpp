// What a subscription delivers: every stored event with sequence >= from_sequence matching the
// filter, in order, exactly once (INV-3) — unless `slow` says otherwise for a subscriber that
// falls behind the live head (skip_to_live: with one GapNotice per skip; disconnect_after: it
// ends with Errc::subscriber_too_slow). docs/design.md §7.
#pragma once
#include <sessionring/event_filter.hpp>
#include <sessionring/gap_notice.hpp>
#include <sessionring/slow_subscriber_policy.hpp>

#include <chrono>
#include <functional>
#include <string>

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

  /// Durable named cursor (docs/design.md §7 "Durable subscriptions"). Non-empty: the
  /// subscription resumes after the position stored under this name in the session's store
  /// (from_sequence is then ignored); without a stored position it starts at from_sequence and
  /// stores from_sequence − 1 (0: first available − 1) under the name at once, so the cursor is
  /// listed, and kept by retention with keep_cursor_positions, from the start.
  /// Subscription::commit() stores positions; after a crash the next subscription with the name
  /// delivers again every event after the last stored position (at-least-once). Rules of a
  /// session id (validate_cursor_name: validation_error); a store without cursors answers
  /// Errc::unsupported. Empty (default): an ordinary subscription.
  std::string durable_name;
  /// With durable_name: after each handler return, the delivered event becomes the position
  /// to commit (and, at the end of each poll, cursor() − 1, covering filtered-out events);
  /// written coalesced like commit(). Default false: only explicit commit() calls.
  bool auto_commit = false;
  /// With durable_name: at most one store write per interval; a commit within it only records
  /// the position (written by the next commit or poll after it, flush_commit(), or
  /// unsubscribe). 0: every commit writes at once. [0, 1 hour]
  std::chrono::milliseconds commit_interval{20};
};

}  // namespace sessionring
