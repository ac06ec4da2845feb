// SlowSubscriberPolicy: what a subscription does when it falls behind the live head
// (SubscribeOptions::slow; docs/design.md §7 "Slow subscribers", docs/tuning.md).
//
// The policy governs the *live part* of a subscription: the events published after the
// subscribe call (sequence > the head at subscribe time, or >= from_sequence if later). The
// history before it is what the host asked for and is delivered in full, as with catch_up.
//
//  * catch_up (default): a lapped subscriber reads the store from its cursor and rejoins the
//    ring; it never misses an event (INV-3). For indexers, projections, audit.
//  * skip_to_live: when the ring lapped the subscriber (the ring no longer holds its cursor), or
//    more than `max_lag_events` events are undelivered (if set), it jumps to the newest
//    published event (the head) and first calls SubscribeOptions::on_gap once with the skipped
//    range [first, last]; the next event it delivers is last + 1. Subscribing with
//    skip_to_live and no on_gap is a validation_error. For live views that only want the present.
//  * disconnect_after: when more than `max_lag_events` events are undelivered (if set), or the
//    subscriber has been behind the head for `max_lag_time` (if set: it has not once delivered
//    everything published for that long), the subscription ends: poll answers Errc::subscriber_too_slow (and again on
//    every later poll), nothing after the cursor is delivered, and subscribing again from cursor() continues with no
//    gap. Between the ring's capacity and the limit a lapped subscriber reads the store as with catch_up. For consumers
//    that must not silently fall behind.
#pragma once
#include <chrono>
#include <cstdint>

namespace sessionring {

struct SlowSubscriberPolicy {
  enum class Mode : std::uint8_t { catch_up, skip_to_live, disconnect_after };

  Mode mode = Mode::catch_up;
  /// skip_to_live: skip when more than this many events are undelivered; 0: only when lapped.
  /// disconnect_after: end the subscription when more than this many are undelivered; 0: no
  /// event limit. catch_up: must be 0. At most kMaxSequence.
  std::uint64_t max_lag_events = 0;
  /// disconnect_after only: end the subscription once it has been behind the head this long,
  /// i.e. it has had undelivered events all the time (it was never level with the head, with
  /// everything published delivered). The clock starts when the subscriber first sees it is
  /// behind and is read before each delivery, so it never fires early and at most one handler
  /// call late (docs/design.md §7). 0: no time limit. Negative, or set with another mode:
  /// validation_error.
  std::chrono::nanoseconds max_lag_time{0};

  static SlowSubscriberPolicy catch_up() noexcept { return {}; }
  static SlowSubscriberPolicy skip_to_live(std::uint64_t max_lag_events = 0) noexcept {
    return {Mode::skip_to_live, max_lag_events, std::chrono::nanoseconds(0)};
  }
  /// At least one of the two limits must be set (validation_error otherwise).
  static SlowSubscriberPolicy disconnect_after(
      std::uint64_t max_lag_events, std::chrono::nanoseconds max_lag_time = std::chrono::nanoseconds(0)) noexcept {
    return {Mode::disconnect_after, max_lag_events, max_lag_time};
  }
};

}  // namespace sessionring
