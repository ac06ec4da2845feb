// What a subscription delivers: every stored event with sequence >= from_sequence matching the
// filter, in order, exactly once (INV-3).
#pragma once
#include <sessionring/event_filter.hpp>

#include <functional>

namespace sessionring {

struct SubscribeOptions {
  /// 0 or 1: from the first event. Past the latest: waits for the future. At most kMaxSequence.
  Sequence from_sequence = 0;
  EventFilter filter;
  /// Called once, on the delivering thread, the first time the subscription reaches the head
  /// of the session (history ends, live begins). Optional.
  std::function<void(Sequence head)> on_caught_up;
};

}  // namespace sessionring
